"""Read queries about deliveries for the order page: the sync panel and the timeline."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, Subquery

from integrations.models import ProviderLink
from integrations.providers import missing_settings
from orders.models import OrderStatus
from outbox.models import Delivery, DeliveryState, Provider

PENDING_STATES = [DeliveryState.QUEUED, DeliveryState.SENDING]
PROBLEM_STATES = [DeliveryState.FAILED, DeliveryState.DEAD, DeliveryState.AMBIGUOUS]


def first_line(text):
    return text.strip().splitlines()[0] if text.strip() else ""


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

    @property
    def enabled(self):
        return not self.missing_settings

    @property
    def last_problem_state_label(self):
        return DeliveryState(self.last_problem_state).label if self.last_problem_state else ""

    @property
    def last_problem_first_line(self):
        return first_line(self.last_problem_error)


def push_refusal(order, provider, *, pending):
    """Why `order` cannot be sent to `provider` by hand now ("" when it can).

    `pending` is the number of the order's deliveries to that provider still queued or sending: a
    new one would only wait behind them (one in flight per order and provider), and each builds
    its request when it is sent, so it would send nothing newer.
    """
    label = Provider(provider).label
    if missing := missing_settings(provider):
        return f"{label} is disabled: missing {', '.join(missing)}."
    # 35up takes an order once (POST /orders); later changes reach it through the transitions.
    if provider == Provider.THIRTYFIVEUP and order.status != OrderStatus.NEW:
        return (
            f"Order {order.reference} is {order.get_status_display().lower()}: only new orders "
            "are placed at 35up."
        )
    if pending:
        return (
            f"Order {order.reference} already has a delivery to {label} waiting to be sent "
            "(queued or sending)."
        )
    return ""


def pending_delivery_count(*, order_id, provider):
    return Delivery.objects.filter(
        order_id=order_id, provider=provider, state__in=PENDING_STATES
    ).count()


def provider_syncs(order):
    """One ProviderSync per provider, in two queries however many deliveries the order has."""
    latest_problem = Delivery.objects.filter(
        order_id=order.pk, provider=OuterRef("provider"), state__in=PROBLEM_STATES
    ).order_by("-id")
    summaries = {
        row["provider"]: row
        for row in Delivery.objects.filter(order_id=order.pk)
        .order_by()
        .values("provider")
        .annotate(
            last_success_at=Max("finished_at", filter=Q(state=DeliveryState.SUCCEEDED)),
            pending=Count("id", filter=Q(state__in=PENDING_STATES)),
            last_problem_state=Subquery(latest_problem.values("state")[:1]),
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
            )
        )
    return syncs


def deliveries_for_timeline(*, order_id, limit):
    """The order's latest `limit` deliveries, newest first, without the stored request bodies."""
    return list(
        Delivery.objects.filter(order_id=order_id)
        .only(
            "id",
            "order_id",
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
