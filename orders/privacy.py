"""Anonymising orders closed long ago: names, email, phone and address are replaced; the
reference, the lines, the shipments, the amounts and the history stay.

An order qualifies once it is closed or cancelled and its last status change is older than the
given number of days. It is held back, with the reason, while something may still need the
customer's data: a delivery to a provider not yet settled (in flight, dead, ambiguous, or failed
and not yet dealt with by a person), or what an app above orders registers with `register_hold`
(the returns app: an open return). Each order is anonymised in its own transaction under a row
lock, with a history row naming who ran it; `anonymised_at` makes a second run skip it.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.actors import Actor
from core.errors import ActionError
from orders.models import Order, OrderStatus, OrderStatusChange
from outbox.models import IN_FLIGHT_STATES, NEEDS_A_PERSON, Delivery

logger = logging.getLogger(__name__)

CLOSED_STATUSES = (OrderStatus.CLOSED, OrderStatus.CANCELLED)
ANONYMISED = "anonymised"
# What replaces each personal field; the country and state stay (they identify nobody and keep
# the figures by country). The email stays a valid address at a reserved, unreachable domain.
REPLACEMENTS = {
    "first_name": ANONYMISED,
    "last_name": ANONYMISED,
    "phone": "",
    "shipping_first_name": ANONYMISED,
    "shipping_last_name": ANONYMISED,
    "shipping_phone": "",
    "shipping_company": "",
    "shipping_street": ANONYMISED,
    "shipping_street_number": "",
    "shipping_extra": "",
    "shipping_city": ANONYMISED,
    "shipping_postcode": "",
}
PERSONAL_FIELDS = [*REPLACEMENTS, "email", "shipping_email"]
# The request bodies and answers stored on the order's deliveries carry the same data.
REMOVED_BODY = "(removed when the order was anonymised)"
MAX_DAYS = 36_500
MAX_BATCH_SIZE = 5_000
ORDER_SUBJECT = Order._meta.label_lower

# Checks from apps above orders: each takes a list of order ids and returns {order_id: reason}.
_holds = []


def register_hold(check):
    """Let an app that knows a reason to keep an order's data (an open return) hold it back."""
    if check not in _holds:
        _holds.append(check)


def unsettled_deliveries(order_ids):
    """{order_id: reason} for the orders with a delivery still in flight or waiting for a person."""
    rows = (
        Delivery.objects.filter(subject_type=ORDER_SUBJECT, subject_id__in=order_ids)
        .filter(Q(state__in=IN_FLIGHT_STATES) | NEEDS_A_PERSON)
        .order_by("id")
        .values_list("subject_id", "pk", "provider", "state")
    )
    reasons = {}
    for order_id, pk, provider, state in rows:
        reasons.setdefault(order_id, f"delivery #{pk} to {provider} is {state}, not settled")
    return reasons


def held_back(order_ids):
    reasons = unsettled_deliveries(order_ids)
    for check in _holds:
        for order_id, reason in check(order_ids).items():
            reasons.setdefault(order_id, reason)
    return reasons


def closed_since():
    """When the order reached its status: its last status change (updated_at without one)."""
    last_change = (
        OrderStatusChange.objects.filter(order=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return Coalesce(Subquery(last_change), "updated_at")


def due_for_anonymising(*, cutoff):
    return (
        Order.objects.filter(status__in=CLOSED_STATUSES, anonymised_at__isnull=True)
        .annotate(closed_since=closed_since())
        .filter(closed_since__lte=cutoff)
    )


@dataclass
class AnonymiseReport:
    anonymised: int = 0
    # (reference, reason) of each order held back.
    held: list = field(default_factory=list)
    batches: int = 0


def anonymise_order(*, order_id, actor: Actor, cutoff, message):
    """Anonymise one order; returns None, or the reason it was left as it is."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            return "no such order"
        if order.anonymised_at:
            return "already anonymised"
        if order.status not in CLOSED_STATUSES:
            return f"{order.get_status_display().lower()}, not closed or cancelled"
        if due_for_anonymising(cutoff=cutoff).filter(pk=order_id).count() == 0:
            return "closed too recently"
        if reason := held_back([order_id]).get(order_id):
            return reason
        for name, value in REPLACEMENTS.items():
            setattr(order, name, value)
        order.email = order.shipping_email = f"{ANONYMISED}-{order.pk}@example.invalid"
        order.anonymised_at = timezone.now()
        order.save(update_fields=[*PERSONAL_FIELDS, "anonymised_at", "updated_at"])
        Delivery.objects.filter(subject_type=ORDER_SUBJECT, subject_id=order.pk).update(
            request={}, response_body=REMOVED_BODY
        )
        OrderStatusChange.record(
            subject=order, from_status=order.status, actor=actor, message=message
        )
    return None


def anonymise_closed_orders(*, older_than_days, actor: Actor, batch_size=500, progress=None):
    """Anonymise every order closed or cancelled more than `older_than_days` days ago, in
    batches of `batch_size`; `progress(report)` is called after each batch."""
    if not 1 <= older_than_days <= MAX_DAYS:
        raise ActionError(f"The number of days must be between 1 and {MAX_DAYS:,}.")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ActionError(f"The batch size must be between 1 and {MAX_BATCH_SIZE:,}.")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    message = f"Personal data anonymised: closed or cancelled more than {older_than_days} days ago."
    report = AnonymiseReport()
    last_pk = 0
    while True:
        batch = list(
            due_for_anonymising(cutoff=cutoff)
            .filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", "reference")[:batch_size]
        )
        if not batch:
            return report
        last_pk = batch[-1][0]
        try:
            reasons = held_back([pk for pk, _ in batch])
        except Exception:
            # The batch's quick look failed; each order's own check under its lock still runs.
            logger.exception("Looking for held-back orders in a batch failed")
            reasons = {}
        for pk, reference in batch:
            try:
                reason = reasons.get(pk) or anonymise_order(
                    order_id=pk, actor=actor, cutoff=cutoff, message=message
                )
            except Exception:
                # One order that fails is reported and left as it was; the others go on.
                logger.exception("Anonymising order %s failed", reference)
                reason = "failed in the hub (the log has the error); left as it was"
            if reason:
                report.held.append((reference, reason))
            else:
                report.anonymised += 1
        report.batches += 1
        if progress:
            progress(report)
