"""What the returns app holds back from anonymising (orders.privacy): an order with an open
return keeps its customer's data until the return is closed."""

from returns.models import Return, ReturnStatus


def open_returns(order_ids):
    """{order_id: reason} for the orders with a return that is not closed."""
    rows = (
        Return.objects.filter(order_id__in=order_ids)
        .exclude(status=ReturnStatus.CLOSED)
        .order_by("id")
        .values_list("order_id", "pk", "status")
    )
    reasons = {}
    for order_id, pk, status in rows:
        reasons.setdefault(order_id, f"return #{pk} is {status}, still open")
    return reasons
