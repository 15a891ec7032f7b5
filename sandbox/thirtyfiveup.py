"""The fake 35up: orders and returns, their validation, status moves and JSON shapes."""

import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .conf import sandbox_setting
from .endpoints import ProviderAPI, Reply, basic_auth_matches
from .models import (
    Provider,
    SandboxOrder,
    SandboxOrderStatusChange,
    SandboxReturn,
    SandboxReturnItem,
    SandboxReturnStatusChange,
)
from .validation import (
    NestedErrors,
    Refused,
    is_country,
    is_email,
    is_integer,
    is_subdivision,
    is_text,
)

OrderStatus = SandboxOrder.Status
ReturnStatus = SandboxReturn.Status
Source = SandboxOrderStatusChange.Source
ReturnSource = SandboxReturnStatusChange.Source

SKU = re.compile(r"[^/\s]+/\S+")
# Orders per page of GET /orders: the default `limit` and its cap.
LIST_LIMIT = 100
STATE_REQUIRED_IN = ("US", "CA", "AU")
PATCH_TARGETS = (OrderStatus.PENDING, OrderStatus.APPROVED, OrderStatus.CANCELLED)
# (current, requested) -> new status, for PATCH /orders/{id}.
PATCH_MOVES = {
    (OrderStatus.PENDING, OrderStatus.APPROVED): OrderStatus.APPROVED,
    (OrderStatus.PENDING, OrderStatus.CANCELLED): OrderStatus.CANCELLED,
    (OrderStatus.APPROVED, OrderStatus.PENDING): OrderStatus.PENDING,
    (OrderStatus.APPROVED, OrderStatus.CANCELLED): OrderStatus.PENDING_CANCELLATION,
    (OrderStatus.PROCESSING, OrderStatus.CANCELLED): OrderStatus.PENDING_CANCELLATION,
}
# Requests that are already satisfied: a repeated PATCH changes nothing and succeeds.
PATCH_ALREADY_DONE = {
    (OrderStatus.PENDING, OrderStatus.PENDING),
    (OrderStatus.APPROVED, OrderStatus.APPROVED),
    (OrderStatus.CANCELLED, OrderStatus.CANCELLED),
    (OrderStatus.PENDING_CANCELLATION, OrderStatus.CANCELLED),
}
# What 35up does on its own as time passes.
NEXT_OVER_TIME = {
    OrderStatus.APPROVED: OrderStatus.PROCESSING,
    OrderStatus.PROCESSING: OrderStatus.FULFILLED,
    OrderStatus.FULFILLED: OrderStatus.DELIVERED,
    OrderStatus.PENDING_CANCELLATION: OrderStatus.CANCELLED,
}
# The control endpoint's "next step" when no status is given.
NEXT_ON_REQUEST = {
    **NEXT_OVER_TIME,
    OrderStatus.PENDING: OrderStatus.APPROVED,
    OrderStatus.DELIVERED: OrderStatus.CLOSED,
    OrderStatus.CANCELLED: OrderStatus.CLOSED,
}
RETURNABLE = (OrderStatus.FULFILLED, OrderStatus.DELIVERED)

# DESIGN.md "Return (35up return statuses)"; the first target is the natural next step.
RETURN_GRAPH = {
    ReturnStatus.CREATED: ("awaiting_return", "rejected", "cancelled"),
    ReturnStatus.AWAITING_RETURN: (
        "customer_shipped",
        "seller_received",
        "expired",
        "cancelled",
    ),
    ReturnStatus.CUSTOMER_SHIPPED: ("vendor_received", "seller_received", "voided"),
    ReturnStatus.SELLER_RECEIVED: ("seller_shipped",),
    ReturnStatus.SELLER_SHIPPED: ("vendor_received", "voided"),
    ReturnStatus.VENDOR_RECEIVED: ("confirmed", "not_confirmed"),
    ReturnStatus.CONFIRMED: ("awaiting_refund", "refunded"),
    ReturnStatus.NOT_CONFIRMED: ("awaiting_dispute",),
    ReturnStatus.AWAITING_DISPUTE: ("awaiting_refund", "closed"),
    ReturnStatus.AWAITING_REFUND: ("refunded",),
    ReturnStatus.REFUNDED: ("closed",),
    ReturnStatus.REJECTED: ("closed",),
    ReturnStatus.EXPIRED: ("closed",),
    ReturnStatus.VOIDED: ("closed",),
    ReturnStatus.CANCELLED: ("closed",),
    ReturnStatus.CLOSED: (),
}
# What 35up (the customer, the vendor, the refund) does with a return on its own as time passes:
# the natural path. Statuses that wait on the shop (seller_received), on a person (not_confirmed,
# awaiting_dispute) or that end the return (rejected, expired, voided, cancelled, closed) stay.
NEXT_RETURN_OVER_TIME = {
    ReturnStatus.CREATED: ReturnStatus.AWAITING_RETURN,
    ReturnStatus.AWAITING_RETURN: ReturnStatus.CUSTOMER_SHIPPED,
    ReturnStatus.CUSTOMER_SHIPPED: ReturnStatus.VENDOR_RECEIVED,
    ReturnStatus.SELLER_SHIPPED: ReturnStatus.VENDOR_RECEIVED,
    ReturnStatus.VENDOR_RECEIVED: ReturnStatus.CONFIRMED,
    ReturnStatus.CONFIRMED: ReturnStatus.AWAITING_REFUND,
    ReturnStatus.AWAITING_REFUND: ReturnStatus.REFUNDED,
    ReturnStatus.REFUNDED: ReturnStatus.CLOSED,
}
RETURN_SHOP_TARGETS = (
    ReturnStatus.CANCELLED,
    ReturnStatus.SELLER_RECEIVED,
    ReturnStatus.SELLER_SHIPPED,
    ReturnStatus.CUSTOMER_SHIPPED,
)
# Returns that no longer hold their items (DESIGN.md: cancelled, rejected and expired returns
# give them back), also once such a return is closed.
RETURN_RELEASED = (ReturnStatus.CANCELLED, ReturnStatus.REJECTED, ReturnStatus.EXPIRED)


class ThirtyFiveUpAPI(ProviderAPI):
    name = Provider.THIRTYFIVEUP

    def authenticated(self, request):
        return basic_auth_matches(
            request, settings.THIRTYFIVEUP_USERNAME, settings.THIRTYFIVEUP_PASSWORD
        )

    def error(self, status, message):
        return Reply(status, {"errors": {"request": message}})

    def unauthorized(self):
        reply = Reply(401, {"errors": {"authorization": "Invalid username or password"}})
        reply.headers["WWW-Authenticate"] = 'Basic realm="35up"'
        return reply

    def refused(self, refusal):
        return Reply(refusal.status, {"errors": refusal.errors})


API = ThirtyFiveUpAPI()


def epoch(moment):
    return str(int(moment.timestamp()))


# --- orders -----------------------------------------------------------------------------------


def _optional_text(errors, data, path, keys):
    for key in keys:
        if data.get(key) is not None and not isinstance(data[key], str):
            errors.add((*path, key), "must be a string")


def _validate_customer(errors, customer):
    if not isinstance(customer, dict):
        errors.add(("customer",), "required")
        return
    for key in ("firstName", "lastName", "email"):
        if not is_text(customer.get(key)):
            errors.add(("customer", key), "required")
    if is_text(customer.get("email")) and not is_email(customer["email"]):
        errors.add(("customer", "email"), "not a valid email address")
    _optional_text(errors, customer, ("customer",), ["phone"])


def _validate_address(errors, address):
    path = ("shippingAddress",)
    if not isinstance(address, dict):
        errors.add(path, "must be an object")
        return
    for key in ("street", "city", "postcode", "country"):
        if not is_text(address.get(key)):
            errors.add((*path, key), "required")
    optional = ["firstName", "lastName", "email", "phone", "company", "streetNumber", "extra"]
    _optional_text(errors, address, path, optional)
    if is_text(address.get("email")) and not is_email(address["email"]):
        errors.add((*path, "email"), "not a valid email address")
    country, state = address.get("country"), address.get("state")
    if is_text(country) and not is_country(country):
        errors.add((*path, "country"), "must be an ISO 3166-1 alpha-2 code, e.g. US")
    elif country in STATE_REQUIRED_IN:
        if not is_text(state):
            errors.add((*path, "state"), f"required for {country}")
        elif not is_subdivision(country, state):
            errors.add(
                (*path, "state"),
                f"must be an ISO 3166-2 subdivision code of {country} without the country "
                "prefix, e.g. WA, QC, NSW",
            )
    elif state is not None and not isinstance(state, str):
        errors.add((*path, "state"), "must be a string")


def _validate_items(errors, items):
    if not isinstance(items, list) or not items:
        errors.add(("items",), "at least one item is required")
        return
    for index, item in enumerate(items):
        path = ("items", index)
        if not isinstance(item, dict):
            errors.add(path, "must be an object")
            continue
        sku = item.get("sku")
        if not is_text(sku):
            errors.add((*path, "sku"), "required")
        elif not SKU.fullmatch(sku.strip()):
            errors.add((*path, "sku"), "must be vendor/code without white space")
        qty = item.get("qty")
        if qty is None:
            errors.add((*path, "qty"), "required")
        elif not is_integer(qty) or qty < 1:
            errors.add((*path, "qty"), "must be a whole number of at least 1")
        config = item.get("config")
        if config is None:
            continue
        if not isinstance(config, dict):
            errors.add((*path, "config"), "must be an object")
            continue
        for key, value in config.items():
            if not isinstance(value, str):
                errors.add((*path, "config", key), "must be a string")


def validate_order(payload):
    errors = NestedErrors()
    if not isinstance(payload, dict):
        errors.add(("body",), "must be a JSON object")
        return errors
    _optional_text(errors, payload, (), ["session", "reference"])
    _validate_customer(errors, payload.get("customer"))
    if payload.get("shippingAddress") is not None:
        _validate_address(errors, payload["shippingAddress"])
    _validate_items(errors, payload.get("items"))
    return errors


@transaction.atomic
def place_order(payload, *, session=""):
    errors = validate_order(payload)
    if errors:
        raise Refused(400, errors.tree)
    status = sandbox_setting("SANDBOX_35UP_INITIAL_STATUS")
    now = timezone.now()
    order = SandboxOrder.objects.create(
        reference=payload.get("reference") or "",
        session=payload.get("session") or session or "",
        status=status,
        customer=payload["customer"],
        shipping_address=payload.get("shippingAddress"),
        created_at=now,
        updated_at=now,
    )
    order.history.create(to_status=status, source=Source.PLACED, at=now)
    for item in payload["items"]:
        order.items.create(
            sku=item["sku"].strip(), qty=item["qty"], config=item.get("config") or {}
        )
    return order


def find_order(public_id):
    order = SandboxOrder.objects.filter(public_id=public_id).first()
    if order is None:
        raise Refused(404, {"id": f"no order with id {public_id}"})
    return order


@transaction.atomic
def catch_up(order):
    """Move an order on by the steps 35up would have taken since its last change (lazily, on
    read): one step per SANDBOX_35UP_ADVANCE_SECONDS, each stamped at the moment it was due."""
    seconds = sandbox_setting("SANDBOX_35UP_ADVANCE_SECONDS")
    if seconds is None or order.status not in NEXT_OVER_TIME:
        return order
    order = SandboxOrder.objects.select_for_update().get(pk=order.pk)
    step, now = timedelta(seconds=seconds), timezone.now()
    while order.status in NEXT_OVER_TIME and order.updated_at + step <= now:
        order.move_to(NEXT_OVER_TIME[order.status], source=Source.TIME, at=order.updated_at + step)
    return order


@transaction.atomic
def request_status(public_id, payload):
    """PATCH /orders/{id}: the shop asks for pending, approved or cancelled."""
    errors = NestedErrors()
    if not isinstance(payload, dict):
        raise Refused(400, {"body": "must be a JSON object"})
    target, message = payload.get("status"), payload.get("message")
    if target not in PATCH_TARGETS:
        errors.add(("status",), f"must be one of {', '.join(PATCH_TARGETS)}")
    if message is not None and not isinstance(message, str):
        errors.add(("message",), "must be a string")
    if errors:
        raise Refused(400, errors.tree)
    order = catch_up(find_order(public_id))
    order = SandboxOrder.objects.select_for_update().get(pk=order.pk)
    if (order.status, target) in PATCH_ALREADY_DONE:
        return order
    new_status = PATCH_MOVES.get((order.status, target))
    if new_status is None:
        # 400, not 409: the hub retries 409s, and this refusal never changes on a retry.
        raise Refused(400, {"status": f"an order that is {order.status} cannot be {target}"})
    order.move_to(new_status, source=Source.PATCH, message=message or "")
    return order


@transaction.atomic
def advance_order(public_id, status=None):
    """Control endpoint: set the given 35up status, or take the natural next step."""
    order = SandboxOrder.objects.select_for_update().filter(public_id=public_id).first()
    if order is None:
        raise Refused(404, {"id": f"no order with id {public_id}"})
    if status is None:
        status = NEXT_ON_REQUEST.get(order.status)
        if status is None:
            raise Refused(409, {"status": f"an order that is {order.status} has no next step"})
    elif status not in OrderStatus.values:
        raise Refused(400, {"status": f"must be one of {', '.join(OrderStatus.values)}"})
    order.move_to(status, source=Source.CONTROL)
    return order


def order_summary(order):
    return {
        "id": order.public_id,
        "status": order.status,
        "updatedAt": epoch(order.updated_at),
        "createdAt": epoch(order.created_at),
    }


def order_detail(order, *, with_returns=True):
    """GET /orders/{id} and each entry of GET /orders. `returns` lists the order's returns
    (moved on first, like the order): 35up's documents do not promise it, and with
    `with_returns=False` (the `omit_order_returns` switch) the key is left out."""
    detail = {
        **order_summary(order),
        "reference": order.reference,
        "session": order.session,
        "customer": order.customer,
        "shippingAddress": order.shipping_address,
        "items": [
            {
                "itemId": item.item_id,
                "sku": item.sku,
                "qty": item.qty,
                "config": item.config,
                "status": order.status,
            }
            for item in order.items.all()
        ],
    }
    if with_returns:
        detail["returns"] = [
            {
                "id": sandbox_return.public_id,
                "status": sandbox_return.status,
                "items": _return_items(sandbox_return),
            }
            for sandbox_return in map(catch_up_return, order.returns.all())
        ]
    return detail


def list_orders(*, reference=None, status=None, limit=LIST_LIMIT, offset=0):
    """GET /orders: in id order, so that paging by limit and offset sees every order once."""
    orders = SandboxOrder.objects.order_by("id").prefetch_related(
        "items", "returns__items__order_item"
    )
    if reference is not None:
        orders = orders.filter(reference=reference)
    if status is not None:
        orders = orders.filter(status=status)
    return [catch_up(order) for order in orders[offset : offset + limit]]


# --- returns ----------------------------------------------------------------------------------


def holds_items(sandbox_return):
    """False once a return gave its items back: cancelled, rejected or expired, and closed
    after one of those (its last move came from a releasing status)."""
    if sandbox_return.status in RETURN_RELEASED:
        return False
    if sandbox_return.status == ReturnStatus.CLOSED:
        last = sandbox_return.history.order_by("-id").first()
        return last is None or last.from_status not in RETURN_RELEASED
    return True


def _returned_so_far(order_item):
    held = SandboxReturnItem.objects.filter(order_item=order_item).select_related("sandbox_return")
    return sum(item.quantity for item in held if holds_items(item.sandbox_return))


def _validate_return_items(errors, order, items):
    if not isinstance(items, list) or not items:
        errors.add(("items",), "at least one item is required")
        return []
    order_items = {item.item_id: item for item in order.items.all()} if order else {}
    requested = {}
    accepted = []
    for index, item in enumerate(items):
        path = ("items", index)
        if not isinstance(item, dict):
            errors.add(path, "must be an object")
            continue
        item_id, sku, quantity = item.get("itemId"), item.get("sku"), item.get("quantity")
        if not is_integer(quantity) or quantity < 1:
            errors.add((*path, "quantity"), "must be a whole number of at least 1")
        if not is_text(sku):
            errors.add((*path, "sku"), "required")
        if not is_text(item_id):
            errors.add((*path, "itemId"), "required")
            continue
        if order is None:
            continue
        order_item = order_items.get(item_id)
        if order_item is None:
            errors.add((*path, "itemId"), f"no item {item_id} in order {order.public_id}")
            continue
        if is_text(sku) and sku.strip() != order_item.sku:
            errors.add((*path, "sku"), f"item {item_id} is {order_item.sku}")
        if not is_integer(quantity) or quantity < 1:
            continue
        requested[item_id] = requested.get(item_id, 0) + quantity
        available = order_item.qty - _returned_so_far(order_item)
        if requested[item_id] > available:
            errors.add(
                (*path, "quantity"),
                f"only {available} of item {item_id} can be returned ({order_item.qty} ordered)",
            )
            continue
        accepted.append((order_item, quantity))
    return accepted


@transaction.atomic
def create_return(payload):
    if not isinstance(payload, dict):
        raise Refused(400, {"body": "must be a JSON object"})
    errors = NestedErrors()
    order_id = payload.get("orderId")
    order = None
    if not is_text(order_id):
        errors.add(("orderId",), "required")
    else:
        # Locked so that two returns for one order cannot both take the last items.
        order = SandboxOrder.objects.select_for_update().filter(public_id=order_id).first()
        if order is None:
            errors.add(("orderId",), f"no order with id {order_id}")
        else:
            order = catch_up(order)
            for earlier in order.returns.all():
                catch_up_return(earlier)
            if order.status not in RETURNABLE:
                errors.add(
                    ("orderId",),
                    f"order {order_id} is {order.status}; only fulfilled or delivered "
                    "orders can be returned",
                )
    accepted = _validate_return_items(errors, order, payload.get("items"))
    if errors:
        raise Refused(400, errors.tree)
    now = timezone.now()
    sandbox_return = SandboxReturn.objects.create(order=order, created_at=now, updated_at=now)
    sandbox_return.history.create(
        to_status=sandbox_return.status, source=ReturnSource.REQUESTED, at=now
    )
    for order_item, quantity in accepted:
        sandbox_return.items.create(order_item=order_item, quantity=quantity)
    return sandbox_return


def find_return(public_id):
    sandbox_return = SandboxReturn.objects.filter(public_id=public_id).first()
    if sandbox_return is None:
        raise Refused(404, {"id": f"no return with id {public_id}"})
    return sandbox_return


@transaction.atomic
def catch_up_return(sandbox_return):
    """Move a return on by the steps 35up would have taken since its last change (lazily, on
    read, like `catch_up` for orders): one step per SANDBOX_35UP_ADVANCE_SECONDS along
    NEXT_RETURN_OVER_TIME, each stamped at the moment it was due."""
    seconds = sandbox_setting("SANDBOX_35UP_ADVANCE_SECONDS")
    if seconds is None or sandbox_return.status not in NEXT_RETURN_OVER_TIME:
        return sandbox_return
    sandbox_return = SandboxReturn.objects.select_for_update().get(pk=sandbox_return.pk)
    step, now = timedelta(seconds=seconds), timezone.now()
    while (
        sandbox_return.status in NEXT_RETURN_OVER_TIME and sandbox_return.updated_at + step <= now
    ):
        sandbox_return.move_to(
            NEXT_RETURN_OVER_TIME[sandbox_return.status],
            source=ReturnSource.TIME,
            at=sandbox_return.updated_at + step,
        )
    return sandbox_return


@transaction.atomic
def request_return_status(public_id, payload):
    """PATCH /returns/{id}: the shop may cancel, or report seller/customer shipping."""
    if not isinstance(payload, dict):
        raise Refused(400, {"body": "must be a JSON object"})
    target = payload.get("status")
    if target not in RETURN_SHOP_TARGETS:
        raise Refused(400, {"status": f"must be one of {', '.join(RETURN_SHOP_TARGETS)}"})
    sandbox_return = catch_up_return(find_return(public_id))
    sandbox_return = SandboxReturn.objects.select_for_update().get(pk=sandbox_return.pk)
    if sandbox_return.status == target:
        # Already true: a repeated PATCH changes nothing and succeeds.
        return sandbox_return
    if target not in RETURN_GRAPH[sandbox_return.status]:
        # 400, not 409: the hub retries 409s, and this refusal never changes on a retry.
        raise Refused(
            400, {"status": f"a return that is {sandbox_return.status} cannot be {target}"}
        )
    sandbox_return.move_to(target, source=ReturnSource.PATCH)
    return sandbox_return


@transaction.atomic
def advance_return(public_id, status=None):
    """Control endpoint: set the given return status, or take the natural next step."""
    find_return(public_id)
    sandbox_return = SandboxReturn.objects.select_for_update().get(public_id=public_id)
    if status is None:
        following = RETURN_GRAPH[sandbox_return.status]
        if not following:
            raise Refused(409, {"status": "a closed return has no next step"})
        status = following[0]
    elif status not in ReturnStatus.values:
        raise Refused(400, {"status": f"must be one of {', '.join(ReturnStatus.values)}"})
    sandbox_return.move_to(status, source=ReturnSource.CONTROL)
    return sandbox_return


def return_detail(sandbox_return):
    return {
        "id": sandbox_return.public_id,
        "orderId": sandbox_return.order.public_id,
        "status": sandbox_return.status,
        "createdAt": epoch(sandbox_return.created_at),
        "updatedAt": epoch(sandbox_return.updated_at),
        "items": _return_items(sandbox_return),
    }


def _return_items(sandbox_return):
    return [
        {"itemId": item.order_item.item_id, "sku": item.order_item.sku, "quantity": item.quantity}
        for item in sandbox_return.items.all()
    ]
