"""Read queries about deliveries that any subject's page needs."""

from dataclasses import dataclass
from datetime import datetime

from outbox.models import IN_FLIGHT_STATES, Delivery
from outbox.services import subject_label

# Deliveries shown on a subject's page (an order, a return); the delivery admin lists them all.
TIMELINE_DELIVERY_LIMIT = 100


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


@dataclass(frozen=True)
class TimelineEntry:
    """A status change or a delivery of one subject, at the time it happened (was queued)."""

    at: datetime
    status_change: object = None
    delivery: Delivery | None = None

    @property
    def error_first_line(self):
        return first_line(self.delivery.error) if self.delivery else ""


@dataclass(frozen=True)
class Timeline:
    entries: list
    # True when older deliveries than those shown exist.
    deliveries_cut: bool
    # The subject, for the link to all its deliveries ("orders.order", 12, "order").
    subject_type: str = ""
    subject_id: int | None = None
    subject_name: str = ""


def subject_timeline(subject, history):
    """`history` (the subject's status changes, with `created_at`) and the subject's latest
    deliveries, oldest first: the history's query and one for the deliveries."""
    subject_type = subject_label(subject)
    deliveries = deliveries_for_timeline(
        subject_type=subject_type, subject_id=subject.pk, limit=TIMELINE_DELIVERY_LIMIT + 1
    )
    entries = [TimelineEntry(change.created_at, status_change=change) for change in history]
    entries += [
        TimelineEntry(delivery.created_at, delivery=delivery)
        for delivery in reversed(deliveries[:TIMELINE_DELIVERY_LIMIT])
    ]
    # A change comes before the deliveries it wrote, even when the clock ties.
    entries.sort(key=lambda entry: (entry.at, entry.delivery is not None))
    return Timeline(
        entries,
        deliveries_cut=len(deliveries) > TIMELINE_DELIVERY_LIMIT,
        subject_type=subject_type,
        subject_id=subject.pk,
        subject_name=subject._meta.verbose_name,
    )
