"""Every write to an order goes through here: the admin, the API and the commands are doors onto
these functions, so a rule lives in one place."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from core import events
from core.actors import Actor
from core.errors import ActionError, Conflict, PermissionRefused, TransitionRefused
from core.statemachine import ReportOutcome, apply_status_report
from orders.events import OrderActionRequested, OrderStatusReported, ShipmentAdded
from orders.models import (
    REPORTED_MOVES,
    Order,
    OrderNote,
    OrderStatus,
    OrderStatusChange,
    Shipment,
    ShipmentLine,
)
from outbox import services as outbox
from outbox.models import DeliveryState

SHOP_ACTIONS = ("approve", "hold", "cancel")
ACTION_PAST = {"approve": "approved", "hold": "put on hold", "cancel": "cancelled"}

OTHER_REASON = ("other", "Other (say why in the details)")
# Cancelling and holding need a reason; staff pick one and may add details.
TRANSITION_REASONS = {
    "cancel": [
        ("customer_asked", "The customer asked to cancel"),
        ("payment_failed", "Payment failed or never arrived"),
        ("fraud", "Suspected fraud"),
        ("undeliverable", "Cannot be delivered (address, destination, stock)"),
        ("duplicate", "Duplicate order"),
        OTHER_REASON,
    ],
    "hold": [
        ("awaiting_payment", "Waiting for payment"),
        ("fraud_check", "Checking for fraud"),
        ("customer_asked", "The customer asked to wait"),
        ("address_check", "Address to be confirmed"),
        OTHER_REASON,
    ],
}


def reason_message(action, reason, details=""):
    """The status history's message for `action`: "Reason: <words>." and the details. Raises
    ActionError when the action needs a reason and has none (or "other" without details); its
    field_errors name the input at fault ("reason", with the keys allowed, or "message")."""
    details = (details or "").strip()
    reasons = dict(TRANSITION_REASONS.get(action, ()))
    if not reasons:
        return details
    if reason not in reasons:
        raise ActionError(
            f"Choose a reason to {action} ({', '.join(reasons.values())}).",
            field_errors={"reason": [f"Choose a reason to {action}: {', '.join(reasons)}."]},
        )
    if reason == OTHER_REASON[0]:
        if not details:
            say_why = "Say why: the reason is 'Other'."
            raise ActionError(say_why, field_errors={"message": [say_why]})
        return f"Reason: {details}"
    return f"Reason: {reasons[reason]}." + (f" {details}" if details else "")


def action_permissions():
    """Permission of each shop action, as declared on the transition itself."""
    field = Order._meta.get_field("status")
    return {t.name: t.permission for t in field.get_all_transitions(Order) if t.permission}


def available_actions(order, user):
    """Shop actions valid in the order's current state and permitted to `user`."""
    return [
        t for t in order.get_available_user_status_transitions(user=user) if t.name in SHOP_ACTIONS
    ]


def request_transition(*, order_id, action, actor: Actor, message="") -> OrderStatusChange:
    """Run one shop-requested transition (approve, hold, cancel) and record it.

    Raises PermissionRefused, TransitionRefused or Conflict with a message for the user.
    """
    if action not in SHOP_ACTIONS:
        raise TransitionRefused(f"'{action}' is not an order action ({', '.join(SHOP_ACTIONS)}).")
    if not actor.has_perm(action_permissions()[action]):
        raise PermissionRefused(f"You do not have permission to {action} orders.")
    try:
        order = Order.objects.get(pk=order_id)
    except Order.DoesNotExist:
        raise TransitionRefused(f"Order {order_id} does not exist.") from None
    transition_method = getattr(order, action)
    if not can_proceed(transition_method):
        raise TransitionRefused(
            f"Order {order.reference} is {order.get_status_display().lower()}: "
            f"it cannot be {ACTION_PAST[action]}."
        )
    from_status = order.status
    try:
        with transaction.atomic():
            transition_method()
            order.save()
            change = OrderStatusChange.record(
                subject=order, from_status=from_status, actor=actor, message=message
            )
            events.publish(OrderActionRequested(order, action, from_status, message, actor))
            return change
    except ConcurrentTransition:
        raise Conflict(
            f"Order {order.reference} was changed by someone else at the same moment "
            f"(it is no longer {from_status}); reload the order and try again."
        ) from None


@dataclass(frozen=True)
class BulkOutcome:
    order_id: int
    reference: str
    succeeded: bool
    message: str


def bulk_request_transition(*, order_ids, action, actor: Actor, message=""):
    """Apply one action to many orders, one transaction each: one bad order never fails the rest."""
    references = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "reference"))
    outcomes = []
    for order_id in order_ids:
        reference = references.get(order_id, str(order_id))
        try:
            change = request_transition(
                order_id=order_id, action=action, actor=actor, message=message
            )
        except ActionError as error:
            outcomes.append(BulkOutcome(order_id, reference, False, error.message))
        else:
            outcomes.append(
                BulkOutcome(
                    order_id,
                    reference,
                    True,
                    f"{reference}: {change.get_from_status_display()} -> "
                    f"{change.get_to_status_display()}",
                )
            )
    return outcomes


def apply_reported_status(*, order_id, status, reported_at=None, message="", actor=None):
    """Apply a status that 35up reports: the single entry point for provider moves (the rules
    are core.statemachine's, shared with returns). Returns a core.statemachine.ReportOutcome."""
    if status not in OrderStatus.values or status == OrderStatus.NEW:
        raise TransitionRefused(f"'{status}' is not a 35up order status.")
    actor = actor or Actor.provider()
    with transaction.atomic():
        outcome, order, from_status = apply_status_report(
            model=Order,
            pk=order_id,
            status=status,
            reported_at=reported_at,
            reported_at_field="thirtyfiveup_updated_at",
            moves=REPORTED_MOVES,
            final_status=OrderStatus.CLOSED,
            history=OrderStatusChange,
            actor=actor,
            message=message,
        )
        if outcome in (ReportOutcome.APPLIED, ReportOutcome.UNEXPECTED):
            events.publish(OrderStatusReported(order, from_status, actor))
    return outcome


def add_note(*, order_id, author, body) -> OrderNote:
    body = body.strip()
    if not body:
        raise ActionError("A note needs some text.")
    return OrderNote.objects.create(order_id=order_id, author=author, body=body)


ACKNOWLEDGE_PERMISSION = "orders.add_ordernote"


def _check_can_acknowledge(actor):
    if not actor.has_perm(ACKNOWLEDGE_PERMISSION):
        raise PermissionRefused("You do not have permission to acknowledge problems of orders.")


@transaction.atomic
def acknowledge_delivery_failure(*, order_id, delivery_id, actor: Actor) -> OrderNote:
    """A person has read why a delivery about the order failed (a refused action, an order the
    hub would not send) and dealt with it: it no longer needs a person, and the order's
    timeline says who acknowledged what. Raises ActionError when there is nothing to acknowledge."""
    _check_can_acknowledge(actor)
    delivery = (
        outbox.for_subject(Order(pk=order_id))
        .filter(pk=delivery_id, state=DeliveryState.FAILED, settled_at__isnull=True)
        .select_for_update()
        .first()
    )
    if delivery is None:
        raise ActionError(
            f"Delivery #{delivery_id} of this order is not a failure waiting for a person "
            "(someone may have acknowledged or retried it already)."
        )
    outbox.acknowledge(delivery_id=delivery.pk, actor_label=actor.label)
    # The provider's words, on one line: the note says what was acknowledged.
    words = " ".join(delivery.error.split())[:1000]
    return OrderNote.objects.create(
        order_id=order_id,
        author=actor.user,
        body=f"Acknowledged: delivery #{delivery.pk} to {delivery.provider_label} "
        f"({delivery.operation_label}) failed: {delivery.state_label}."
        + (f" {words}" if words else ""),
    )


@transaction.atomic
def acknowledge_unexpected_status(*, order_id, actor: Actor) -> OrderNote:
    """A person has checked the status 35up moved outside its graph: the order no longer needs
    a person, and its timeline says who checked it."""
    _check_can_acknowledge(actor)
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None or not order.status_unexpected:
        raise ActionError("This order has no unexpected status move to acknowledge.")
    Order.objects.filter(pk=order.pk).update(status_unexpected=False, updated_at=timezone.now())
    return OrderNote.objects.create(
        order_id=order.pk,
        author=actor.user,
        body=f"Acknowledged: 35up moved the order to {order.get_status_display().lower()} "
        "outside its documented graph; checked.",
    )


SHIPPABLE_STATUSES = (
    OrderStatus.APPROVED,
    OrderStatus.PROCESSING,
    OrderStatus.FULFILLED,
    OrderStatus.DELIVERED,
)


def add_shipment(
    *, order_id, tracking_number, lines, actor: Actor, carrier_code="", shipped_at=None
):
    """Record a parcel: which lines and quantities left in it, under which tracking number.

    `lines` is a list of (order_line_id, quantity). A line never ships more than was ordered.
    """
    if not actor.has_perm("orders.add_shipment"):
        raise PermissionRefused("You do not have permission to add shipments.")
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        raise ActionError("A shipment needs a tracking number.")
    if not lines:
        raise ActionError("A shipment needs at least one line.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status not in SHIPPABLE_STATUSES:
            raise TransitionRefused(
                f"Order {order.reference} is {order.get_status_display().lower()}: "
                "shipments can be added once it is approved."
            )
        if order.shipments.filter(tracking_number=tracking_number).exists():
            raise Conflict(f"Order {order.reference} already has shipment {tracking_number}.")
        order_lines = {
            line.pk: line
            for line in order.lines.annotate(shipped_quantity=Coalesce(Sum("shipped__quantity"), 0))
        }
        requested = {}
        errors = []
        for line_id, quantity in lines:
            if line_id not in order_lines:
                errors.append(f"Line {line_id} is not a line of order {order.reference}.")
            elif quantity < 1:
                errors.append(f"{order_lines[line_id].sku}: quantity must be at least 1.")
            else:
                requested[line_id] = requested.get(line_id, 0) + quantity
        # Summed per line: listing one line twice must not ship more than is left of it.
        for line_id, quantity in requested.items():
            line = order_lines[line_id]
            if quantity > (unshipped := line.quantity - line.shipped_quantity):
                errors.append(
                    f"{line.sku}: {quantity} is more than the {unshipped} not yet shipped."
                )
        if errors:
            raise ActionError(" ".join(errors))
        shipment = Shipment.objects.create(
            order=order,
            tracking_number=tracking_number,
            carrier_code=carrier_code,
            shipped_at=shipped_at or timezone.now(),
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=line_id, quantity=quantity)
            for line_id, quantity in requested.items()
        )
        events.publish(ShipmentAdded(order, shipment, actor))
    return shipment
