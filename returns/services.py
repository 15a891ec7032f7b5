"""Every write to a return goes through here: the admin, the API and the commands are doors onto
these functions, so a rule lives in one place."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django_fsm import ConcurrentTransition, can_proceed

from core import events
from core.actors import Actor
from core.errors import ActionError, Conflict, PermissionRefused, TransitionRefused
from core.statemachine import ReportOutcome, apply_status_report
from orders.models import Order
from returns.events import ReturnActionRequested, ReturnRequested, ReturnStatusReported
from returns.models import (
    REPORTED_MOVES,
    RETURNABLE_ORDER_STATUSES,
    Return,
    ReturnLine,
    ReturnStatus,
    ReturnStatusChange,
)

REQUEST_PERMISSION = "returns.add_return"
SHOP_ACTIONS = ("cancel", "mark_customer_shipped", "mark_seller_received", "mark_seller_shipped")
# What each shop action asks 35up for in PATCH /returns/{id}.
REQUESTED_35UP_STATUS = {
    "cancel": ReturnStatus.CANCELLED,
    "mark_customer_shipped": ReturnStatus.CUSTOMER_SHIPPED,
    "mark_seller_received": ReturnStatus.SELLER_RECEIVED,
    "mark_seller_shipped": ReturnStatus.SELLER_SHIPPED,
}
REASON_MAX_LENGTH = 2_000


@dataclass(frozen=True)
class ReturnableLine:
    """One order line as a return form shows it: how much may still be returned, and why not."""

    line: object
    ordered: int
    held: int

    @property
    def returnable(self):
        return max(0, self.ordered - self.held) if self.line.thirtyfiveup_item_id else 0

    @property
    def refusal(self):
        if not self.line.thirtyfiveup_item_id:
            return "35up has not reported the item id of this line yet."
        if not self.returnable:
            return "Every unit is already in a return."
        return ""


def returnable_lines(order):
    """The order's lines with the quantity open or finished returns already hold (cancelled,
    rejected and expired returns give theirs back), in one query."""
    held = Coalesce(
        Sum("returned__quantity", filter=Q(returned__return_request__items_released=False)),
        0,
    )
    return [
        ReturnableLine(line, line.quantity, line.held)
        for line in order.lines.annotate(held=held).order_by("id")
    ]


def order_return_refusal(order):
    """Why no return can be requested for `order` now ("" when one can)."""
    if order.status not in RETURNABLE_ORDER_STATUSES:
        return (
            f"Order {order.reference} is {order.get_status_display().lower()}: only orders 35up "
            "has fulfilled or delivered can be returned."
        )
    if not order.thirtyfiveup_id:
        return f"Order {order.reference} has no 35up id: it was never placed at 35up."
    return ""


def request_return(*, order_id, lines, reason, actor: Actor) -> Return:
    """Ask 35up to take back `lines` ([(order_line_id, quantity), ...]) of an order.

    Raises PermissionRefused or ActionError with every rule that is broken, for the user. Two
    requests at once never return more than was ordered together: the order row is locked.
    """
    if not actor.has_perm(REQUEST_PERMISSION):
        raise PermissionRefused("You do not have permission to request returns.")
    reason = (reason or "").strip()
    errors = []
    if not reason:
        errors.append("A return needs a reason.")
    elif len(reason) > REASON_MAX_LENGTH:
        errors.append(f"The reason is longer than {REASON_MAX_LENGTH} characters.")
    if not lines:
        errors.append("A return needs at least one line.")
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise ActionError(f"Order {order_id} does not exist.")
        if refusal := order_return_refusal(order):
            raise TransitionRefused(refusal)
        available = {row.line.pk: row for row in returnable_lines(order)}
        requested = {}
        for line_id, quantity in lines:
            row = available.get(line_id)
            if row is None:
                errors.append(f"Line {line_id} is not a line of order {order.reference}.")
            elif quantity < 1:
                errors.append(f"{row.line.sku}: quantity must be at least 1.")
            elif not row.line.thirtyfiveup_item_id:
                errors.append(f"{row.line.sku}: {row.refusal}")
            else:
                requested[line_id] = requested.get(line_id, 0) + quantity
        for line_id, quantity in requested.items():
            row = available[line_id]
            if quantity > row.returnable:
                errors.append(
                    f"{row.line.sku}: {quantity} is more than the {row.returnable} that can still "
                    f"be returned ({row.ordered} ordered, {row.held} in other returns)."
                )
        if errors:
            raise ActionError(" ".join(errors))
        return_request = Return.objects.create(
            order=order,
            reason=reason,
            requested_by=actor.user,
            requested_by_label=actor.label,
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(
                return_request=return_request,
                order_line_id=line_id,
                quantity=quantity,
                thirtyfiveup_item_id=available[line_id].line.thirtyfiveup_item_id,
            )
            for line_id, quantity in requested.items()
        )
        ReturnStatusChange.record(
            subject=return_request,
            from_status=ReturnStatus.NEW,
            actor=actor,
            message=f"Return requested: {reason}",
        )
        events.publish(ReturnRequested(return_request, actor))
    return return_request


def _note_release(return_request):
    """Keep `items_released` true to the status (in the change's transaction)."""
    released = return_request.releases_items()
    if released != return_request.items_released:
        return_request.items_released = released
        Return.objects.filter(pk=return_request.pk).update(items_released=released)


def action_permissions():
    """Permission of each shop action, as declared on the transition itself."""
    field = Return._meta.get_field("status")
    return {t.name: t.permission for t in field.get_all_transitions(Return) if t.permission}


def available_actions(return_request, user):
    """Shop actions valid in the return's current state and permitted to `user`."""
    return [
        t
        for t in return_request.get_available_user_status_transitions(user=user)
        if t.name in SHOP_ACTIONS
    ]


def request_transition(*, return_id, action, actor: Actor, message="") -> ReturnStatusChange:
    """Run one shop-settable transition and record it; 35up hears it as a PATCH.

    Raises PermissionRefused, TransitionRefused or Conflict with a message for the user.
    """
    if action not in SHOP_ACTIONS:
        raise TransitionRefused(f"'{action}' is not a return action ({', '.join(SHOP_ACTIONS)}).")
    if not actor.has_perm(action_permissions()[action]):
        raise PermissionRefused(f"You do not have permission to {action.replace('_', ' ')}.")
    return_request = Return.objects.select_related("order").filter(pk=return_id).first()
    if return_request is None:
        raise TransitionRefused(f"Return {return_id} does not exist.")
    transition_method = getattr(return_request, action)
    target = REQUESTED_35UP_STATUS[action]
    if not can_proceed(transition_method):
        raise TransitionRefused(
            f"Return {return_request.pk} is {return_request.get_status_display().lower()}: "
            f"it cannot become {ReturnStatus(target).label.lower()}."
        )
    from_status = return_request.status
    try:
        with transaction.atomic():
            transition_method()
            return_request.save()
            _note_release(return_request)
            change = ReturnStatusChange.record(
                subject=return_request, from_status=from_status, actor=actor, message=message
            )
            events.publish(
                ReturnActionRequested(return_request, action, from_status, message, actor)
            )
            return change
    except ConcurrentTransition:
        raise Conflict(
            f"Return {return_request.pk} was changed by someone else at the same moment (it is "
            f"no longer {from_status}); reload it and try again."
        ) from None


def apply_reported_status(*, return_id, status, reported_at=None, message="", actor=None):
    """Apply a return status that 35up reports: skipped steps fine, stale reports ignored,
    `closed` final, moves outside the graph applied and marked (core.statemachine)."""
    if status not in ReturnStatus.values or status == ReturnStatus.NEW:
        raise TransitionRefused(f"'{status}' is not a 35up return status.")
    actor = actor or Actor.provider()
    with transaction.atomic():
        outcome, return_request, from_status = apply_status_report(
            model=Return,
            pk=return_id,
            status=status,
            reported_at=reported_at,
            reported_at_field="thirtyfiveup_updated_at",
            moves=REPORTED_MOVES,
            final_status=ReturnStatus.CLOSED,
            history=ReturnStatusChange,
            actor=actor,
            message=message,
        )
        if outcome in (ReportOutcome.APPLIED, ReportOutcome.UNEXPECTED):
            _note_release(return_request)
            events.publish(ReturnStatusReported(return_request, from_status, actor))
    return outcome
