"""Which deliveries an order event writes (DESIGN.md's provider table).

Called by orders.services inside the transaction of the change, so the change and its deliveries
commit together or not at all. Each automatic trigger can be turned off by a setting.
"""

from django.conf import settings
from django.db import connection

from integrations.providers import is_enabled
from orders.models import REQUESTED_35UP_STATUS, OrderStatus
from outbox.models import Delivery, DeliveryState, Operation, Provider
from outbox.services import enqueue

MANUAL_PUSH_OPERATIONS = {
    Provider.THIRTYFIVEUP: Operation.PLACE_ORDER,
    Provider.SENDCLOUD: Operation.PUSH_ORDER,
    Provider.SHIPUP: Operation.PUSH_ORDER,
    Provider.REEVOO: Operation.SUBMIT_ORDER,
}


def _queued_upsert(order, provider, operation):
    """A not-yet-claimed upsert of this order: it builds its payload when sent, so it carries
    this change too. Locked (skipping rows a worker is claiming) so that no worker can send it
    with the order as it was before this transaction commits."""
    queued = Delivery.objects.filter(
        order=order, provider=provider, operation=operation, state=DeliveryState.QUEUED
    )
    if connection.features.has_select_for_update_skip_locked:
        queued = queued.select_for_update(skip_locked=True)
    return queued.first()


def _write(order, provider, operation, actor, payload=None):
    if not is_enabled(provider):
        return None
    if operation == Operation.PUSH_ORDER and (queued := _queued_upsert(order, provider, operation)):
        return queued
    return enqueue(
        provider=provider,
        operation=operation,
        order=order,
        target=order.reference,
        payload=payload,
        created_by=actor.label,
    )


def _has_delivery(order, provider, operation=None):
    deliveries = Delivery.objects.filter(order=order, provider=provider)
    if operation:
        deliveries = deliveries.filter(operation=operation)
    return deliveries.exclude(state=DeliveryState.FAILED).exists()


def order_received(order, actor):
    if settings.TRIGGER_35UP_PLACE_ON_INGEST:
        _write(order, Provider.THIRTYFIVEUP, Operation.PLACE_ORDER, actor)
    if settings.TRIGGER_SHIPUP:
        _write(order, Provider.SHIPUP, Operation.PUSH_ORDER, actor)


def order_action_requested(order, action, from_status, message, actor):
    """A shop-requested transition: 35up hears it as a PATCH, unless the order never reached it."""
    if from_status != OrderStatus.NEW:
        _write(
            order,
            Provider.THIRTYFIVEUP,
            Operation.UPDATE_ORDER_STATUS,
            actor,
            payload={"status": REQUESTED_35UP_STATUS[action], "message": message},
        )
    _order_moved(order, actor)


def order_status_reported(order, actor):
    _order_moved(order, actor)


def _order_moved(order, actor):
    # Sendcloud gets the order once approved (ready to ship), then every later status.
    if settings.TRIGGER_SENDCLOUD and (
        order.status == OrderStatus.APPROVED or _has_delivery(order, Provider.SENDCLOUD)
    ):
        _write(order, Provider.SENDCLOUD, Operation.PUSH_ORDER, actor)
    if (
        settings.TRIGGER_SHIPUP
        and order.status == OrderStatus.CANCELLED
        and _has_delivery(order, Provider.SHIPUP)
    ):
        _write(order, Provider.SHIPUP, Operation.PUSH_ORDER, actor)
    if (
        settings.TRIGGER_REEVOO_ON
        and order.status == settings.TRIGGER_REEVOO_ON
        and not _has_delivery(order, Provider.REEVOO)
    ):
        _write(order, Provider.REEVOO, Operation.SUBMIT_ORDER, actor)


def shipment_added(order, actor):
    if settings.TRIGGER_SHIPUP:
        _write(order, Provider.SHIPUP, Operation.PUSH_ORDER, actor)
    if settings.TRIGGER_SENDCLOUD and _has_delivery(order, Provider.SENDCLOUD):
        _write(order, Provider.SENDCLOUD, Operation.PUSH_ORDER, actor)


def push_requested(order, provider, actor):
    """Staff asked to (re)send the order to one provider from the order page or a bulk action."""
    return _write(order, provider, MANUAL_PUSH_OPERATIONS[provider], actor)
