"""Read queries about deliveries that any subject's page needs."""

from outbox.models import IN_FLIGHT_STATES, Delivery
from outbox.services import subject_label


def first_line(text):
    return text.strip().splitlines()[0] if text.strip() else ""


def deliveries_for_timeline(*, subject_type, subject_id, limit):
    """A subject's latest `limit` deliveries, newest first, without the stored request bodies."""
    return list(
        Delivery.objects.filter(subject_type=subject_type, subject_id=subject_id)
        .only(
            "id",
            "subject_type",
            "subject_id",
            "provider",
            "operation",
            "state",
            "attempts",
            "last_status_code",
            "error",
            "created_by",
            "created_at",
        )
        .order_by("-created_at", "-id")[:limit]
    )


def pending_count(*, subject, provider):
    """The subject's deliveries to `provider` still queued or sending."""
    return (
        Delivery.objects.filter(
            subject_type=subject_label(subject),
            subject_id=subject.pk,
            provider=provider,
            state__in=IN_FLIGHT_STATES,
        )
        .order_by()
        .count()
    )
