"""Which deliveries an order event writes (DESIGN.md's provider table).

Subscribed to the domain's events in IntegrationsConfig.ready(); they run inside the transaction
of the change, so the change and its deliveries commit together or not at all. Each automatic
trigger can be turned off by a setting.
"""

from django.conf import settings

from core import events
from integrations.operations import (
    PLACE_ORDER,
    PUSH_ORDER,
    REQUEST_RETURN,
    SUBMIT_ORDER,
    UPDATE_ORDER_STATUS,
    UPDATE_RETURN_STATUS,
)
from integrations.providers import Provider, is_enabled
from integrations.services import write_delivery
from orders.events import OrderActionRequested, OrderReceived, OrderStatusReported, ShipmentAdded
from orders.models import REQUESTED_35UP_STATUS, OrderStatus
from outbox import services as outbox
from outbox.models import DeliveryState
from returns.events import ReturnActionRequested, ReturnRequested
from returns.models import ReturnStatus
from returns.services import REQUESTED_35UP_STATUS as REQUESTED_RETURN_STATUS


def _has_delivery(order, provider, operation=None):
    deliveries = outbox.for_subject(order).filter(provider=provider)
    if operation:
        deliveries = deliveries.filter(operation=operation)
    return deliveries.exclude(state=DeliveryState.FAILED).exists()


def order_received(event: OrderReceived):
    if settings.TRIGGER_35UP_PLACE_ON_INGEST:
        write_delivery(event.order, Provider.THIRTYFIVEUP, PLACE_ORDER, event.actor)
    if settings.TRIGGER_SHIPUP:
        write_delivery(event.order, Provider.SHIPUP, PUSH_ORDER, event.actor)


def order_action_requested(event: OrderActionRequested):
    """A shop-requested transition: 35up hears it as a PATCH, unless the order never reached it."""
    if event.from_status != OrderStatus.NEW:
        write_delivery(
            event.order,
            Provider.THIRTYFIVEUP,
            UPDATE_ORDER_STATUS,
            event.actor,
            payload={"status": REQUESTED_35UP_STATUS[event.action], "message": event.message},
        )
    _order_moved(event.order, event.actor)


def order_status_reported(event: OrderStatusReported):
    _order_moved(event.order, event.actor)


def _order_moved(order, actor):
    # Sendcloud gets the order once approved (ready to ship), then every later status.
    if settings.TRIGGER_SENDCLOUD and (
        order.status == OrderStatus.APPROVED or _has_delivery(order, Provider.SENDCLOUD)
    ):
        write_delivery(order, Provider.SENDCLOUD, PUSH_ORDER, actor)
    if (
        settings.TRIGGER_SHIPUP
        and order.status == OrderStatus.CANCELLED
        and _has_delivery(order, Provider.SHIPUP)
    ):
        write_delivery(order, Provider.SHIPUP, PUSH_ORDER, actor)
    if (
        settings.TRIGGER_REEVOO_ON
        and order.status == settings.TRIGGER_REEVOO_ON
        and not _has_delivery(order, Provider.REEVOO)
    ):
        write_delivery(order, Provider.REEVOO, SUBMIT_ORDER, actor)


def shipment_added(event: ShipmentAdded):
    if settings.TRIGGER_SHIPUP:
        write_delivery(event.order, Provider.SHIPUP, PUSH_ORDER, event.actor)
    if settings.TRIGGER_SENDCLOUD and _has_delivery(event.order, Provider.SENDCLOUD):
        write_delivery(event.order, Provider.SENDCLOUD, PUSH_ORDER, event.actor)


def return_requested(event: ReturnRequested):
    _write_return(event.return_request, REQUEST_RETURN, event.actor)


def return_action_requested(event: ReturnActionRequested):
    """A shop-settable return status: 35up hears it as a PATCH, unless it never accepted the
    return (a `new` one is cancelled here only)."""
    if event.from_status == ReturnStatus.NEW:
        return
    _write_return(
        event.return_request,
        UPDATE_RETURN_STATUS,
        event.actor,
        payload={"status": REQUESTED_RETURN_STATUS[event.action]},
    )


def _write_return(return_request, operation, actor, payload=None):
    if is_enabled(Provider.THIRTYFIVEUP):
        outbox.enqueue(
            provider=Provider.THIRTYFIVEUP,
            operation=operation,
            subject=return_request,
            target=f"return {return_request.pk} of {return_request.order.reference}",
            payload=payload,
            created_by=actor.label,
        )


SUBSCRIPTIONS = {
    OrderReceived: order_received,
    OrderActionRequested: order_action_requested,
    OrderStatusReported: order_status_reported,
    ShipmentAdded: shipment_added,
    ReturnRequested: return_requested,
    ReturnActionRequested: return_action_requested,
}


def subscribe_all():
    for event_type, handler in SUBSCRIPTIONS.items():
        events.subscribe(event_type, handler)
