"""The sandbox's URLs, under /sandbox/ (config/urls.py includes them only when SANDBOX_ENABLED).
Paths are the providers' real paths under a per-provider prefix; a trailing slash is optional."""

from django.urls import re_path

from . import views

app_name = "sandbox"

ID = r"(?P<{}>[^/]+)"

urlpatterns = [
    re_path(r"^35up/v1/orders/?$", views.thirtyfiveup_orders, name="35up-orders"),
    re_path(
        rf"^35up/v1/orders/{ID.format('order_id')}/?$",
        views.thirtyfiveup_order,
        name="35up-order",
    ),
    re_path(r"^35up/v1/returns/?$", views.thirtyfiveup_returns, name="35up-returns"),
    re_path(
        rf"^35up/v1/returns/{ID.format('return_id')}/?$",
        views.thirtyfiveup_return,
        name="35up-return",
    ),
    re_path(r"^sendcloud/api/v3/orders/?$", views.sendcloud_orders, name="sendcloud-orders"),
    re_path(
        rf"^sendcloud/api/v3/orders/{ID.format('order_id')}/?$",
        views.sendcloud_order,
        name="sendcloud-order",
    ),
    re_path(r"^shipup/v2/orders/?$", views.shipup_orders, name="shipup-orders"),
    re_path(
        rf"^reevoo/v4/organisations/{ID.format('trkref')}/customer_order/?$",
        views.reevoo_customer_order,
        name="reevoo-customer-order",
    ),
    re_path(r"^_control/faults/?$", views.control_faults, name="control-faults"),
    re_path(
        rf"^_control/35up/orders/{ID.format('order_id')}/advance/?$",
        views.control_advance_order,
        name="control-35up-order-advance",
    ),
    re_path(
        rf"^_control/35up/returns/{ID.format('return_id')}/advance/?$",
        views.control_advance_return,
        name="control-35up-return-advance",
    ),
    re_path(r"^_control/reset/?$", views.control_reset, name="control-reset"),
]
