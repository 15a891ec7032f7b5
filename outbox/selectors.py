"""Read queries about deliveries that any subject's page needs."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from outbox.models import (
    IN_FLIGHT_STATES,
    NEEDS_A_PERSON,
    Delivery,
    DeliveryFailure,
    DeliveryState,
)
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
            "failure",
            "settled_by",
            "settled_at",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "payload",
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
    """A status change, a delivery or a note of one subject, at the time it happened."""

    at: datetime
    status_change: object = None
    delivery: Delivery | None = None
    note: object = None

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


def _unsettled_failure(failure):
    return Q(state=DeliveryState.FAILED, failure=failure, settled_at__isnull=True)


# What happened to a delivery, as the delivery list filters it and the admin index counts it.
# The first five need a person (outbox.models.NEEDS_A_PERSON); the rest are for looking back.
SITUATIONS = {
    "refused": ("Refused by the provider", _unsettled_failure(DeliveryFailure.REFUSED)),
    "invalid": ("Not sent: invalid for the provider", _unsettled_failure(DeliveryFailure.INVALID)),
    "internal": ("Failed in the hub", _unsettled_failure(DeliveryFailure.INTERNAL)),
    "dead": ("Dead (out of attempts)", Q(state=DeliveryState.DEAD)),
    "ambiguous": ("Ambiguous (sent, answer lost)", Q(state=DeliveryState.AMBIGUOUS)),
    "retrying": (
        "Retrying after a failed attempt",
        Q(state=DeliveryState.QUEUED, attempts__gt=0) & ~Q(error=""),
    ),
    "given_up": ("Given up by a person", Q(failure=DeliveryFailure.GIVEN_UP)),
    "acknowledged": (
        "Failed, acknowledged by a person",
        Q(state=DeliveryState.FAILED, settled_at__isnull=False)
        & ~Q(failure=DeliveryFailure.GIVEN_UP),
    ),
}
NEEDS_A_PERSON_SITUATIONS = ["refused", "invalid", "internal", "dead", "ambiguous"]


def deliveries_needing_a_person():
    return Delivery.objects.filter(NEEDS_A_PERSON)


def needs_a_person_counts():
    """{situation: count} of the deliveries that need a person, in one grouped query."""
    rows = (
        deliveries_needing_a_person()
        .order_by()
        .values_list("state", "failure")
        .annotate(total=Count("id"))
    )
    counts = dict.fromkeys(NEEDS_A_PERSON_SITUATIONS, 0)
    for state, failure, total in rows:
        situation = failure if state == DeliveryState.FAILED else state
        # A failed row from before failures were told apart counts as the provider's refusal.
        counts[situation if situation in counts else "refused"] += total
    return counts


def subject_ids_needing_a_person(subject_type, *, limit):
    """Ids of subjects of `subject_type` with a delivery that needs a person (at most `limit`)."""
    return list(
        deliveries_needing_a_person()
        .filter(subject_type=subject_type)
        .order_by()
        .values_list("subject_id", flat=True)
        .distinct()[:limit]
    )
