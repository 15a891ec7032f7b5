"""The outbox registry's entries for the four providers: what each (provider, operation) does,
how many go in one call, whether a repeat is unsafe and how an ambiguous outcome is settled.

Handlers raise nothing: each delivery of a batch gets its own Outcome or exception, recorded on
that delivery by the engine. The payload is built at send time from the subject as it is then,
so a retried upsert always carries the latest state.
"""

from django.conf import settings

from integrations import services as provider_services
from integrations.errors import ProviderValidationError
from integrations.http import recorded_exchanges
from integrations.operations import (
    PLACE_ORDER,
    PUSH_ORDER,
    REQUEST_RETURN,
    SUBMIT_ORDER,
    UPDATE_ORDER_STATUS,
    UPDATE_RETURN_STATUS,
)
from integrations.providers import Provider
from integrations.sendcloud.mapping import BATCH_LIMIT as SENDCLOUD_BATCH_LIMIT
from orders.models import Order
from outbox import registry
from outbox.registry import OperationSpec, Settlement
from outbox.services import Outcome
from returns.models import Return, ReturnStatus


def _outcome(exchanges, note=""):
    if not exchanges:
        return Outcome(note=note)
    last = exchanges[-1]
    return Outcome(
        status_code=last.status, request=last.request, response_body=last.body, note=note
    )


def _order(delivery):
    order = Order.objects.filter(pk=delivery.subject_id).prefetch_related("lines").first()
    if order is None:
        raise ProviderValidationError(
            delivery.provider, f"Order {delivery.target} no longer exists: nothing to send."
        )
    return order


def _return(delivery):
    return_request = (
        Return.objects.filter(pk=delivery.subject_id)
        .select_related("order")
        .prefetch_related("lines__order_line")
        .first()
    )
    if return_request is None:
        raise ProviderValidationError(
            delivery.provider, f"Return {delivery.target} no longer exists: nothing to send."
        )
    return return_request


def one_by_one(perform):
    """A handler for operations that take one delivery per call: `perform(delivery)` makes the
    call and returns a note ("" when there is nothing to add); whatever it raises stays on that
    delivery."""

    def handler(deliveries):
        results = {}
        for delivery in deliveries:
            try:
                with recorded_exchanges() as exchanges:
                    note = perform(delivery)
                results[delivery.pk] = _outcome(exchanges, note or "")
            except Exception as error:
                results[delivery.pk] = error
        return results

    return handler


def place_order(delivery):
    """POST /orders, unless 35up already has the order. Returns a note when nothing was sent."""
    order = _order(delivery)
    if order.thirtyfiveup_id:
        return f"Already placed at 35up as {order.thirtyfiveup_id}; nothing sent."
    if delivery.may_have_reached:
        # An earlier attempt may have reached 35up: look before sending again.
        found = provider_services.find_placement(order)
        if found is not None:
            provider_services.record_found_placement(order, found, delivery_id=delivery.pk)
            return f"Found at 35up as {found.id} by reference; not sent again."
    provider_services.place_order_at_35up(order, delivery_id=delivery.pk)
    return ""


def settle_placement(delivery):
    """An ambiguous POST /orders: found by reference -> succeeded; absent -> send again."""
    order = _order(delivery)
    if order.thirtyfiveup_id:
        return Settlement.FOUND
    found = provider_services.find_placement(order)
    if found is None:
        return Settlement.ABSENT
    provider_services.record_found_placement(order, found, delivery_id=delivery.pk)
    return Settlement.FOUND


def update_order_status(delivery):
    provider_services.update_35up_order_status(
        _order(delivery),
        delivery.payload["status"],
        delivery.payload.get("message", ""),
        delivery_id=delivery.pk,
    )


def request_return(delivery):
    """POST /returns, unless 35up already has the return. An earlier attempt that may have
    reached 35up is looked for first; never a blind resend."""
    return_request = _return(delivery)
    if return_request.thirtyfiveup_id:
        return f"Already at 35up as return {return_request.thirtyfiveup_id}; nothing sent."
    if return_request.status != ReturnStatus.NEW:
        return f"The return is {return_request.get_status_display().lower()}; nothing sent."
    if delivery.may_have_reached and (found := _found_return(return_request, delivery)):
        return f"Found at 35up as return {found}; not sent again."
    provider_services.request_return_at_35up(return_request, delivery_id=delivery.pk)
    return ""


def _found_return(return_request, delivery):
    found = provider_services.find_return_at_35up(return_request)
    if found is None:
        return None
    remote_id, status = found
    provider_services.link_return(return_request, remote_id)
    provider_services.apply_35up_return_report(
        return_id=return_request.pk,
        status=status,
        reported_at=None,
        excluding_delivery=delivery.pk,
    )
    return remote_id


def settle_return_request(delivery):
    """An ambiguous POST /returns: found in what 35up reports for the order -> succeeded; 35up
    lists the order's returns without ours -> send again; cannot tell -> a person."""
    return_request = _return(delivery)
    if return_request.thirtyfiveup_id:
        return Settlement.FOUND
    return Settlement.FOUND if _found_return(return_request, delivery) else Settlement.ABSENT


def update_return_status(delivery):
    provider_services.update_35up_return_status(
        _return(delivery), delivery.payload["status"], delivery_id=delivery.pk
    )


def push_to_shipup(delivery):
    provider_services.push_order_to_shipup(_order(delivery))


def submit_to_reevoo(delivery):
    provider_services.submit_order_to_reevoo(_order(delivery))


def push_to_sendcloud(deliveries):
    """One Sendcloud call for up to 100 orders. The service checks each order before it joins
    the batch and splits a refused batch, so only the bad order fails, with Sendcloud's words."""
    by_order = {}
    for delivery in deliveries:
        by_order.setdefault(delivery.subject_id, []).append(delivery)
    orders = list(Order.objects.filter(pk__in=by_order).prefetch_related("lines"))
    results = {}
    for order_id in by_order.keys() - {order.pk for order in orders}:
        for delivery in by_order[order_id]:
            results[delivery.pk] = ProviderValidationError(
                Provider.SENDCLOUD, f"Order {delivery.target} no longer exists: nothing to send."
            )
    with recorded_exchanges() as exchanges:
        pushed = provider_services.push_orders_to_sendcloud(orders)
    outcome = _outcome(exchanges)
    for result in pushed:
        for delivery in by_order[result.order.pk]:
            results[delivery.pk] = result.error if result.error else outcome
    return results


def register_all():
    for provider in Provider:
        registry.register_provider(provider.value, provider.label)
    for spec in (
        OperationSpec(
            Provider.THIRTYFIVEUP,
            PLACE_ORDER,
            "Place order (POST /orders)",
            one_by_one(place_order),
            unsafe_to_repeat=True,
            settle=settle_placement,
            strict_sequence=True,
        ),
        OperationSpec(
            Provider.THIRTYFIVEUP,
            UPDATE_ORDER_STATUS,
            "Update order status (PATCH /orders/{id})",
            one_by_one(update_order_status),
            strict_sequence=True,
        ),
        OperationSpec(
            Provider.THIRTYFIVEUP,
            REQUEST_RETURN,
            "Request return (POST /returns)",
            one_by_one(request_return),
            unsafe_to_repeat=True,
            settle=settle_return_request,
            strict_sequence=True,
        ),
        OperationSpec(
            Provider.THIRTYFIVEUP,
            UPDATE_RETURN_STATUS,
            "Update return status (PATCH /returns/{id})",
            one_by_one(update_return_status),
            strict_sequence=True,
        ),
        OperationSpec(
            Provider.SENDCLOUD,
            PUSH_ORDER,
            "Create or update order (batch upsert)",
            push_to_sendcloud,
            batch_size=SENDCLOUD_BATCH_LIMIT,
            coalesce=True,
            linger_seconds=settings.SENDCLOUD_BATCH_LINGER_SECONDS,
        ),
        OperationSpec(
            Provider.SHIPUP,
            PUSH_ORDER,
            "Create or update order",
            one_by_one(push_to_shipup),
            coalesce=True,
        ),
        OperationSpec(
            Provider.REEVOO,
            SUBMIT_ORDER,
            "Submit customer order",
            one_by_one(submit_to_reevoo),
            # Reevoo has no lookup: an ambiguous submission is settled by a person.
            unsafe_to_repeat=True,
        ),
    ):
        registry.register(spec)
