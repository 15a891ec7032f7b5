"""Read queries of the return screens that are more than a filter."""

from dataclasses import dataclass

from django.db.models import Q

from orders.models import Order
from outbox.selectors import subject_timeline
from returns.models import Return, ReturnLine, ReturnStatus

# The status in which a return waits on the shop: the customer sent the items to the shop, which
# must ship them on to the vendor (and then mark the return seller_shipped).
WAITING_ON_SHOP = ReturnStatus.SELLER_RECEIVED


def lines_summary(lines):
    """The lines as "1 x anker/A2633, 2 x belkin/WIA004btBK" (each with `order_line` loaded)."""
    return ", ".join(f"{line.quantity} x {line.order_line.sku}" for line in lines)


@dataclass(frozen=True)
class OrderReturn:
    """One return of an order as the order page lists it."""

    return_request: Return
    lines: list

    @property
    def lines_summary(self):
        return lines_summary(self.lines)


def order_returns(order):
    """The returns of `order`, newest first, each with its lines, in one query (a return always
    has at least one line: returns.services.request_return)."""
    rows = (
        ReturnLine.objects.filter(return_request__order=order)
        .select_related("return_request", "order_line")
        .order_by("-return_request__created_at", "-return_request_id", "id")
    )
    returns = {}
    for line in rows:
        item = returns.setdefault(line.return_request_id, OrderReturn(line.return_request, []))
        item.lines.append(line)
    return list(returns.values())


def return_timeline(return_request):
    """Status changes and deliveries of a return, oldest first, in two queries."""
    return subject_timeline(return_request, return_request.history.all())


def search_returns(queryset, term):
    """Returns of `queryset` whose order has the reference, customer email or last name `term`
    (any case for the last two), or whose 35up id is `term`.

    Each branch is one index lookup (the order's reference, UPPER(email), UPPER(last_name), then
    the return's order_id; the return's unique 35up id), joined by a UNION: an OR across the join
    would read every return instead.
    """
    orders = Order.objects.filter(
        Q(reference=term) | Q(email__iexact=term) | Q(last_name__iexact=term)
    ).values("pk")
    by_order = Return.objects.filter(order__in=orders).order_by().values("pk")
    by_35up_id = Return.objects.filter(thirtyfiveup_id=term).order_by().values("pk")
    return queryset.filter(pk__in=by_order.union(by_35up_id))


def waiting_on_shop_count():
    """Returns the shop must act on (ship to the vendor): an index-only count."""
    return Return.objects.filter(status=WAITING_ON_SHOP).order_by().count()
