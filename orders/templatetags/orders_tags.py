from django import template
from django.urls import reverse

from orders.selectors import NEEDS_A_PERSON_LIMIT, order_ids_needing_a_person

register = template.Library()


@register.inclusion_tag("admin/orders/needs_a_person_row.html", takes_context=True)
def order_alerts(context):
    """The admin index's count of orders that need a person, linked to the filtered list."""
    if not context["request"].user.has_perm("orders.view_order"):
        return {"alert": None}
    count = len(order_ids_needing_a_person())
    return {
        "alert": {
            "label": "Orders that need a person",
            "count": f"{count:,}+" if count >= NEEDS_A_PERSON_LIMIT else count,
            "url": f"{reverse('admin:orders_order_changelist')}?needs_person=yes",
            "id": "orders-need-a-person",
        }
    }
