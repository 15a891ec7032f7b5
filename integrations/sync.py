"""Sync from 35up: read open orders and apply what 35up reports through the state machine's
provider entry point (stale reports ignored, unexpected moves marked, reports held back while a
change of ours is on its way), and settle ambiguous placements by looking the order up at 35up
before anything is sent again. One order's error is reported and the others go on."""

import logging
from dataclasses import dataclass, field

from django.conf import settings

from core.statemachine import ReportOutcome
from integrations.providers import Provider, is_enabled
from integrations.services import apply_35up_report, apply_35up_return_report
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from orders.models import Order, OrderStatus
from outbox import services as outbox
from outbox.errors import DeliveryError
from returns.models import Return, ReturnStatus

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    checked: int = 0
    outcomes: dict = field(default_factory=dict)
    ambiguous_found: int = 0
    ambiguous_resent: int = 0
    ambiguous_for_a_person: int = 0
    returns_checked: int = 0
    return_outcomes: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)

    def count(self, outcome):
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def held_back(self):
        return self.outcomes.get(ReportOutcome.HELD_BACK, 0)

    def summary(self):
        outcomes = ", ".join(f"{n} {name}" for name, n in sorted(self.outcomes.items()))
        returns = ", ".join(f"{n} {name}" for name, n in sorted(self.return_outcomes.items()))
        return (
            f"{self.checked} orders read from 35up ({outcomes or 'none'}); "
            f"{self.returns_checked} returns ({returns or 'none'}); ambiguous requests: "
            f"{self.ambiguous_found} found at 35up, {self.ambiguous_resent} queued to send again, "
            f"{self.ambiguous_for_a_person} left for a person; {len(self.errors)} errors."
        )


def open_orders_to_sync():
    """Open orders, least recently touched first: a read that finds nothing new still touches
    the order (updated_at), so each run reaches the next ones and none waits for ever."""
    return (
        Order.objects.filter(thirtyfiveup_id__isnull=False)
        .exclude(status__in=[OrderStatus.NEW, OrderStatus.CLOSED])
        .order_by("updated_at", "id")
    )


def open_returns_to_sync():
    """Open returns, least recently touched first (as for orders)."""
    return (
        Return.objects.filter(thirtyfiveup_id__isnull=False)
        .exclude(status__in=[ReturnStatus.NEW, ReturnStatus.CLOSED])
        .order_by("updated_at", "id")
    )


def sync_return(return_request, client=None):
    """Read one return from 35up and apply its status; returns the report outcome."""
    client = client or ThirtyFiveUpClient.from_settings()
    record = client.get_return(return_request.thirtyfiveup_id)
    return apply_35up_return_report(
        return_id=return_request.pk, status=record.status, reported_at=record.updated_at
    )


def sync_order(order, client=None):
    """Read one order from 35up and apply its status; returns the report outcome."""
    client = client or ThirtyFiveUpClient.from_settings()
    record = client.get_order(order.thirtyfiveup_id)
    return apply_35up_report(order_id=order.pk, record=record)


def _log_failure(subject, error):
    """A provider's refusal or silence is expected now and then: one line. Anything else is a
    bug of ours: its traceback."""
    if isinstance(error, DeliveryError):
        logger.warning("35up sync of %s failed: %s", subject, error.text.splitlines()[0])
    else:
        logger.exception("35up sync of %s failed", subject)


def sync_from_35up(*, limit=None):
    report = SyncReport()
    if not is_enabled(Provider.THIRTYFIVEUP):
        report.errors.append("35up is disabled (no credentials): nothing synced.")
        return report
    settled = outbox.settle_ambiguous(provider=Provider.THIRTYFIVEUP)
    report.ambiguous_found = settled.found
    report.ambiguous_resent = settled.resent
    report.ambiguous_for_a_person = settled.needs_person
    report.errors.extend(settled.errors)
    client = ThirtyFiveUpClient.from_settings()
    for order in open_orders_to_sync()[: limit or settings.SYNC_BATCH_LIMIT]:
        report.checked += 1
        try:
            outcome = sync_order(order, client)
        except Exception as error:
            # One bad record (an answer we cannot read, a database refusal) never stops the
            # sync of the other orders.
            _log_failure(f"order {order.reference}", error)
            report.errors.append(f"{order.reference}: {getattr(error, 'text', error)}")
            continue
        report.count(outcome)
    for return_request in open_returns_to_sync()[: limit or settings.SYNC_BATCH_LIMIT]:
        report.returns_checked += 1
        try:
            outcome = sync_return(return_request, client)
        except Exception as error:
            _log_failure(f"return {return_request.pk}", error)
            report.errors.append(f"return {return_request.pk}: {getattr(error, 'text', error)}")
            continue
        report.return_outcomes[outcome] = report.return_outcomes.get(outcome, 0) + 1
    logger.info("35up sync: %s", report.summary())
    return report
