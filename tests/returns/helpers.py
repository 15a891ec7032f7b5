"""Returns in a chosen status for tests, without going through 35up."""

from orders.models import Order, OrderLine
from returns.models import RELEASED_STATUSES, Return, ReturnLine
from tests.factories import order_in_status


def returnable_order(*, quantity=3, status="delivered"):
    """An order 35up has delivered, with one line of `quantity` whose 35up item id is known."""
    order = order_in_status(status)
    Order.objects.filter(pk=order.pk).update(thirtyfiveup_id=f"35UP-{order.pk}")
    OrderLine.objects.filter(order=order).update(
        quantity=quantity, thirtyfiveup_item_id=f"ITEM-{order.pk}"
    )
    order.refresh_from_db()
    return order


def return_in_status(status, *, order=None, quantity=1):
    """A return of one unit, put in `status` directly (the FSM field is protected: update())."""
    order = order or returnable_order()
    line = order.lines.get()
    return_request = Return.objects.create(order=order, reason="Too small")
    ReturnLine.objects.create(
        return_request=return_request,
        order_line=line,
        quantity=quantity,
        thirtyfiveup_item_id=line.thirtyfiveup_item_id,
    )
    Return.objects.filter(pk=return_request.pk).update(
        status=status,
        thirtyfiveup_id=f"R-{return_request.pk}",
        items_released=status in RELEASED_STATUSES,
    )
    return Return.objects.get(pk=return_request.pk)
