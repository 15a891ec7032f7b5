"""Sync from 35up: read open orders and apply what 35up reports through the state machine's
provider entry point (stale reports ignored, unexpected moves marked), and settle ambiguous
placements by looking the order up by reference before anything is sent again."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from integrations.errors import ProviderError
from integrations.http import Provider
from integrations.providers import is_enabled
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from orders.models import Order, OrderStatus
from orders.services import apply_reported_status
from outbox.handlers import resolve_ambiguous_placement
from outbox.models import Delivery, DeliveryState, Operation, blocking_states

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    checked: int = 0
    outcomes: dict = field(default_factory=dict)
    held_back: int = 0
    ambiguous_found: int = 0
    ambiguous_resent: int = 0
    errors: list = field(default_factory=list)

    def count(self, outcome):
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def summary(self):
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        return (
            f"{self.checked} orders read from 35up ({outcomes or 'none'}); "
            f"{self.held_back} held back by unsent deliveries; ambiguous placements: "
            f"{self.ambiguous_found} found at 35up, {self.ambiguous_resent} queued to send again; "
            f"{len(self.errors)} errors."
        )


def settle_ambiguous_placements(report):
    ambiguous = Delivery.objects.filter(
        provider=Provider.THIRTYFIVEUP,
        operation=Operation.PLACE_ORDER,
        state=DeliveryState.AMBIGUOUS,
    ).select_related("order")
    for delivery in ambiguous:
        try:
            found = resolve_ambiguous_placement(delivery)
        except ProviderError as error:
            report.errors.append(f"{delivery.target}: {error.text}")
            continue
        now = timezone.now()
        if found:
            report.ambiguous_found += 1
            Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.AMBIGUOUS).update(
                state=DeliveryState.SUCCEEDED,
                error="Settled by sync: 35up has the order (found by reference).",
                finished_at=now,
                updated_at=now,
            )
        else:
            report.ambiguous_resent += 1
            Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.AMBIGUOUS).update(
                state=DeliveryState.QUEUED,
                next_attempt_at=now,
                error="Settled by sync: 35up does not have the order; sending again.",
                updated_at=now,
            )


def open_orders_to_sync():
    unsent = Delivery.objects.filter(
        order=OuterRef("pk"),
        provider=Provider.THIRTYFIVEUP,
        state__in=blocking_states(Provider.THIRTYFIVEUP),
    )
    return (
        Order.objects.filter(thirtyfiveup_id__isnull=False)
        .exclude(status__in=[OrderStatus.NEW, OrderStatus.CLOSED])
        .annotate(has_unsent=Exists(unsent))
        .order_by(F("thirtyfiveup_updated_at").asc(nulls_first=True), "id")
    )


def sync_order(order, client=None):
    """Read one order from 35up and apply its status; returns the report outcome."""
    client = client or ThirtyFiveUpClient.from_settings()
    record = client.get_order(order.thirtyfiveup_id)
    return apply_reported_status(
        order_id=order.pk, status=record.status, reported_at=record.updated_at
    )


def sync_from_35up(*, limit=None):
    report = SyncReport()
    if not is_enabled(Provider.THIRTYFIVEUP):
        report.errors.append("35up is disabled (no credentials): nothing synced.")
        return report
    settle_ambiguous_placements(report)
    client = ThirtyFiveUpClient.from_settings()
    for order in open_orders_to_sync()[: limit or settings.SYNC_BATCH_LIMIT]:
        if order.has_unsent:
            # Our own change is still on its way to 35up: its answer would be older than ours.
            report.held_back += 1
            continue
        report.checked += 1
        try:
            outcome = sync_order(order, client)
        except ProviderError as error:
            report.errors.append(f"{order.reference}: {error.text}")
            continue
        report.count(outcome)
    logger.info("35up sync: %s", report.summary())
    return report
