"""What each (provider, operation) delivery does: call the provider service, report the exchange.

Handlers raise the integrations.errors family; the outbox engine turns that into retry, failure,
dead or ambiguous. The payload is built at send time from the order as it is then, so a retried
upsert always carries the latest state.
"""

from django.db import transaction

from integrations import services as provider_services
from integrations.errors import PermanentProviderError, ProviderError
from integrations.http import Provider, recorded_exchanges
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from orders.models import Order, OrderLine
from orders.services import apply_reported_status
from outbox.models import Operation
from outbox.services import Outcome


def _outcome(exchanges, note=""):
    if not exchanges:
        return Outcome(note=note)
    last = exchanges[-1]
    return Outcome(
        status_code=last.status, request=last.request, response_body=last.body, note=note
    )


def find_at_35up(order):
    """Look the order up at 35up by reference: the answer to an ambiguous POST /orders."""
    records = ThirtyFiveUpClient.from_settings().list_orders(reference=order.reference)
    return records[0] if records else None


def record_found_placement(order, record):
    """35up has the order although our POST got no answer: keep its id as if it had answered."""
    with transaction.atomic():
        Order.objects.filter(pk=order.pk, thirtyfiveup_id__isnull=True).update(
            thirtyfiveup_id=record.id
        )
        for sku, item_id in record.item_ids.items():
            OrderLine.objects.filter(order=order, sku=sku).update(thirtyfiveup_item_id=item_id)
    apply_reported_status(order_id=order.pk, status=record.status, reported_at=record.updated_at)


def _place_order(delivery, order):
    """POST /orders, unless 35up already has the order. Returns a note when nothing was sent."""
    if order.thirtyfiveup_id:
        return f"Already placed at 35up as {order.thirtyfiveup_id}; nothing sent."
    if delivery.attempts > 1:
        # An earlier attempt may have reached 35up: look before sending again.
        found = find_at_35up(order)
        if found is not None:
            record_found_placement(order, found)
            return f"Found at 35up as {found.id} by reference; not sent again."
    provider_services.place_order_at_35up(order)
    return ""


def perform(delivery):
    order = delivery.order
    note = ""
    with recorded_exchanges() as exchanges:
        key = (delivery.provider, delivery.operation)
        if key == (Provider.THIRTYFIVEUP, Operation.PLACE_ORDER):
            note = _place_order(delivery, order)
        elif key == (Provider.THIRTYFIVEUP, Operation.UPDATE_ORDER_STATUS):
            provider_services.update_35up_order_status(
                order, delivery.payload["status"], delivery.payload.get("message", "")
            )
        elif key == (Provider.SHIPUP, Operation.PUSH_ORDER):
            provider_services.push_order_to_shipup(order)
        elif key == (Provider.REEVOO, Operation.SUBMIT_ORDER):
            provider_services.submit_order_to_reevoo(order)
        elif key == (Provider.SENDCLOUD, Operation.PUSH_ORDER):
            result = perform_sendcloud_batch([delivery])[delivery.pk]
            if isinstance(result, ProviderError):
                raise result
            return result
        else:
            raise PermanentProviderError(delivery.provider, f"No handler for {key}.")
    return _outcome(exchanges, note)


def perform_sendcloud_batch(deliveries):
    """One Sendcloud call for up to 100 orders; {delivery id: Outcome or ProviderError}.

    The service validates each order before it joins the batch and splits a refused batch, so
    only the bad order fails, with Sendcloud's own message.
    """
    by_order = {}
    for delivery in deliveries:
        by_order.setdefault(delivery.order_id, []).append(delivery)
    orders = list(Order.objects.filter(pk__in=by_order).prefetch_related("lines"))
    with recorded_exchanges() as exchanges:
        results = provider_services.push_orders_to_sendcloud(orders)
    outcome = _outcome(exchanges)
    answers = {}
    for result in results:
        for delivery in by_order[result.order.pk]:
            answers[delivery.pk] = result.error if result.error else outcome
    return answers


def resolve_ambiguous_placement(delivery):
    """Sync step for an ambiguous 35up POST: found by reference -> succeeded; absent -> resend."""
    order = delivery.order
    if order.thirtyfiveup_id:
        return True
    found = find_at_35up(order)
    if found is not None:
        record_found_placement(order, found)
    return found is not None
