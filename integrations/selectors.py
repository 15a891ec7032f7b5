"""Read queries about an order's providers for the order page: the sync panel."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, Subquery

from integrations.models import ProviderLink
from integrations.operations import UPDATE_ORDER_STATUS
from integrations.providers import Provider, missing_settings
from integrations.services import push_refusal
from orders.models import REQUESTED_35UP_STATUS
from outbox import services as outbox
from outbox.models import IN_FLIGHT_STATES, Delivery, DeliveryState
from outbox.selectors import first_line

PROBLEM_STATES = [DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.AMBIGUOUS]


@dataclass(frozen=True)
class ProviderSync:
    """Where one order stands with one provider, as the order page's sync panel shows it."""

    provider: str
    label: str
    missing_settings: list
    remote_id: str
    last_success_at: datetime | None
    pending: int
    last_problem_state: str
    last_problem_error: str
    last_problem_at: datetime | None
    push_refusal: str
    last_problem_failure: str = ""

    @property
    def enabled(self):
        return not self.missing_settings

    @property
    def last_problem_state_label(self):
        """What happened to the last problem delivery: "Refused by Sendcloud", "Dead (...)"."""
        if not self.last_problem_state:
            return ""
        return Delivery(
            provider=self.provider, state=self.last_problem_state, failure=self.last_problem_failure
        ).state_label

    @property
    def last_problem_first_line(self):
        return first_line(self.last_problem_error)


def provider_syncs(order):
    """One ProviderSync per provider, in two queries however many deliveries the order has."""
    deliveries = outbox.for_subject(order)
    latest_problem = deliveries.filter(
        provider=OuterRef("provider"), state__in=PROBLEM_STATES
    ).order_by("-id")
    summaries = {
        row["provider"]: row
        for row in deliveries.order_by()
        .values("provider")
        .annotate(
            last_success_at=Max("finished_at", filter=Q(state=DeliveryState.SUCCEEDED)),
            pending=Count("id", filter=Q(state__in=IN_FLIGHT_STATES)),
            last_problem_state=Subquery(latest_problem.values("state")[:1]),
            last_problem_failure=Subquery(latest_problem.values("failure")[:1]),
            last_problem_error=Subquery(latest_problem.values("error")[:1]),
            last_problem_at=Subquery(latest_problem.values("updated_at")[:1]),
        )
    }
    remote_ids = dict(
        ProviderLink.objects.filter(order_id=order.pk)
        .exclude(provider=Provider.THIRTYFIVEUP)
        .order_by()
        .values_list("provider", "remote_id")
    )
    remote_ids[Provider.THIRTYFIVEUP] = order.thirtyfiveup_id
    syncs = []
    for provider in Provider:
        summary = summaries.get(provider.value, {})
        pending = summary.get("pending", 0)
        syncs.append(
            ProviderSync(
                provider=provider.value,
                label=provider.label,
                missing_settings=missing_settings(provider.value),
                remote_id=remote_ids.get(provider.value) or "",
                last_success_at=summary.get("last_success_at"),
                pending=pending,
                last_problem_state=summary.get("last_problem_state") or "",
                last_problem_error=summary.get("last_problem_error") or "",
                last_problem_at=summary.get("last_problem_at"),
                push_refusal=push_refusal(order, provider.value, pending=pending),
                last_problem_failure=summary.get("last_problem_failure") or "",
            )
        )
    return syncs


ACTION_VERBS = {"approve": "approve", "hold": "put on hold", "cancel": "cancel"}


@dataclass(frozen=True)
class RefusedAction:
    """A shop action (approve, hold, cancel) that 35up refused or the hub could not send, and
    that nobody has acknowledged yet: the order page shows it until someone does."""

    delivery: object
    action: str

    @property
    def verb(self):
        """ "cancel", "put on hold", "approve": what 35up did not do."""
        return ACTION_VERBS.get(self.action, self.action)

    @property
    def words(self):
        """What was said, the provider's own lines included."""
        return self.delivery.error.strip()


def refused_shop_actions(deliveries):
    """The unacknowledged refused shop actions among `deliveries` (a timeline's, already read)."""
    actions = {status: action for action, status in REQUESTED_35UP_STATUS.items()}
    return [
        RefusedAction(delivery, actions.get(delivery.payload.get("status"), "change"))
        for delivery in deliveries
        if delivery.provider == Provider.THIRTYFIVEUP
        and delivery.operation == UPDATE_ORDER_STATUS
        and delivery.state == DeliveryState.FAILED
        and delivery.settled_at is None
    ]
