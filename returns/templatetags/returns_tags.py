"""Return panels on pages of other apps: the order page's returns, the admin index's count."""

from django import template
from django.urls import reverse

from returns.models import ReturnStatus
from returns.selectors import WAITING_ON_SHOP, order_returns, waiting_on_shop_count
from returns.services import REQUEST_PERMISSION, order_return_refusal

register = template.Library()


def can_view_returns(user):
    return user.has_perm("returns.view_return") or user.has_perm("returns.change_return")


@register.inclusion_tag("admin/returns/return/order_returns.html", takes_context=True)
def order_returns_section(context, order):
    """The order's returns (one query) and, when 35up has fulfilled or delivered the order and
    the user may request returns, the "Request a return" button."""
    user = context["request"].user
    can_view = can_view_returns(user)
    can_request = user.has_perm(REQUEST_PERMISSION) and not order_return_refusal(order)
    return {
        "show": can_view or can_request,
        "order": order,
        "returns": order_returns(order) if can_view else [],
        "can_view": can_view,
        "can_request": can_request,
    }


@register.inclusion_tag("admin/returns/alerts.html", takes_context=True)
def return_alerts(context):
    """Returns waiting on the shop (received by it, to ship on to the vendor): the admin index
    says how many there are and links to them."""
    if not can_view_returns(context["request"].user):
        return {"alert": None}
    url = reverse("admin:returns_return_changelist")
    return {
        "alert": {
            "label": f"{ReturnStatus(WAITING_ON_SHOP).label}: to ship to the vendor",
            "count": waiting_on_shop_count(),
            "url": f"{url}?status__exact={WAITING_ON_SHOP}",
        }
    }
