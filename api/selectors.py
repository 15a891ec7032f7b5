"""Reads of the API that cover a whole page at once: a fixed number of queries per page,
however many orders it holds."""

from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery

from integrations.models import ProviderLink
from integrations.providers import Provider, missing_settings
from integrations.selectors import PROBLEM_STATES, ProviderSync
from orders.models import Order, Shipment
from outbox.models import IN_FLIGHT_STATES, Delivery, DeliveryState

ORDER_SUBJECT = Order._meta.label_lower


def orders_for_api():
    """Orders with what one API answer shows of each: lines, shipments (with their lines) and
    history in one query each per page."""
    return Order.objects.prefetch_related(
        "lines",
        Prefetch("shipments", queryset=Shipment.objects.prefetch_related("lines")),
        "history",
    )


def provider_syncs_by_order(orders):
    """{order id: [ProviderSync per provider]} for a page of orders, in two queries (the
    deliveries summed per order and provider, and the providers' ids of the orders)."""
    ids = [order.pk for order in orders]
    if not ids:
        return {}
    deliveries = Delivery.objects.filter(subject_type=ORDER_SUBJECT, subject_id__in=ids)
    latest_problem = Delivery.objects.filter(
        subject_type=ORDER_SUBJECT,
        subject_id=OuterRef("subject_id"),
        provider=OuterRef("provider"),
        state__in=PROBLEM_STATES,
    ).order_by("-id")
    summaries = {
        (row["subject_id"], row["provider"]): row
        for row in deliveries.order_by()
        .values("subject_id", "provider")
        .annotate(
            last_success_at=Max("finished_at", filter=Q(state=DeliveryState.SUCCEEDED)),
            pending=Count("id", filter=Q(state__in=IN_FLIGHT_STATES)),
            last_problem_state=Subquery(latest_problem.values("state")[:1]),
            last_problem_error=Subquery(latest_problem.values("error")[:1]),
            last_problem_at=Subquery(latest_problem.values("updated_at")[:1]),
        )
    }
    remote_ids = {
        (order_id, provider): remote_id
        for order_id, provider, remote_id in ProviderLink.objects.filter(order_id__in=ids)
        .exclude(provider=Provider.THIRTYFIVEUP)
        .order_by()
        .values_list("order_id", "provider", "remote_id")
    }
    missing = {provider.value: missing_settings(provider.value) for provider in Provider}
    syncs = {}
    for order in orders:
        syncs[order.pk] = []
        for provider in Provider:
            summary = summaries.get((order.pk, provider.value), {})
            remote_id = (
                order.thirtyfiveup_id
                if provider == Provider.THIRTYFIVEUP
                else remote_ids.get((order.pk, provider.value))
            )
            syncs[order.pk].append(
                ProviderSync(
                    provider=provider.value,
                    label=provider.label,
                    missing_settings=missing[provider.value],
                    remote_id=remote_id or "",
                    last_success_at=summary.get("last_success_at"),
                    pending=summary.get("pending", 0),
                    last_problem_state=summary.get("last_problem_state") or "",
                    last_problem_error=summary.get("last_problem_error") or "",
                    last_problem_at=summary.get("last_problem_at"),
                    push_refusal="",
                )
            )
    return syncs
