"""35up payloads (specs/35up-orders.txt, specs/35up-returns.txt): camelCase, epoch-second strings.

Pure functions: models in, JSON-ready dicts out; answers in, plain data out.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from integrations.errors import ProviderBadAnswer, ProviderValidationError
from integrations.providers import Provider

# "The following statuses are possible: pending, approved, cancelled." (PATCH /orders/{id})
SETTABLE_ORDER_STATUSES = ("pending", "approved", "cancelled")
# DESIGN.md "Return": the statuses the shop may set; 35up moves the rest.
SETTABLE_RETURN_STATUSES = ("cancelled", "seller_received", "seller_shipped", "customer_shipped")


def _without_empty(values):
    return {key: value for key, value in values.items() if value not in ("", None, {})}


def place_order_payload(order):
    """POST /orders body. Optional fields (phone, company, extra, state, config, session) are left
    out when empty; the shipping name, email and phone are always sent, being optional only when
    equal to the customer's, so sending them is right in every case."""
    lines = list(order.lines.all())
    if not lines:
        raise ProviderValidationError(Provider.THIRTYFIVEUP, f"Order {order} has no lines.")
    payload = _without_empty({"session": order.session, "reference": order.reference})
    payload["customer"] = _without_empty(
        {
            "firstName": order.first_name,
            "lastName": order.last_name,
            "email": order.email,
            "phone": order.phone,
        }
    )
    payload["shippingAddress"] = _without_empty(
        {
            "firstName": order.shipping_first_name,
            "lastName": order.shipping_last_name,
            "email": order.shipping_email,
            "phone": order.shipping_phone,
            "company": order.shipping_company,
            "street": order.shipping_street,
            "streetNumber": order.shipping_street_number,
            "extra": order.shipping_extra,
            "city": order.shipping_city,
            "postcode": order.shipping_postcode,
            "state": order.shipping_state,
            "country": order.shipping_country.code,
        }
    )
    payload["items"] = [
        _without_empty(
            {"sku": line.sku.strip(), "qty": line.quantity, "config": dict(line.config or {})}
        )
        for line in lines
    ]
    return payload


def order_status_payload(status, message=""):
    """PATCH /orders/{id} body; the message is optional and left out when empty."""
    if status not in SETTABLE_ORDER_STATUSES:
        raise ProviderValidationError(
            Provider.THIRTYFIVEUP,
            f"'{status}' cannot be requested; 35up accepts {', '.join(SETTABLE_ORDER_STATUSES)}.",
        )
    return _without_empty({"status": str(status), "message": message})


def return_request_payload(thirtyfiveup_order_id, lines):
    """POST /returns body from the order's 35up id and (OrderLine, quantity) pairs.

    itemId is 35up's id of the vendor order (specs/README.md), kept on the line once reported.
    """
    problems = []
    items = []
    for line, quantity in lines:
        if not line.thirtyfiveup_item_id:
            problems.append(f"{line.sku}: 35up has not reported the item id of this line yet.")
        if not 1 <= quantity <= line.quantity:
            problems.append(
                f"{line.sku}: quantity {quantity} is not between 1 and {line.quantity}."
            )
        items.append(
            {"itemId": line.thirtyfiveup_item_id, "sku": line.sku.strip(), "quantity": quantity}
        )
    if not thirtyfiveup_order_id:
        problems.append("The order has no 35up id: it was never placed at 35up.")
    if not items:
        problems.append("A return needs at least one line.")
    if problems:
        raise ProviderValidationError(
            Provider.THIRTYFIVEUP, "The return cannot be requested.", details=problems
        )
    return {"orderId": str(thirtyfiveup_order_id), "items": items}


def return_status_payload(status):
    if status not in SETTABLE_RETURN_STATUSES:
        raise ProviderValidationError(
            Provider.THIRTYFIVEUP,
            f"'{status}' cannot be set by the shop; allowed: "
            f"{', '.join(SETTABLE_RETURN_STATUSES)}.",
        )
    return {"status": str(status)}


@dataclass(frozen=True)
class ThirtyFiveUpRecord:
    """35up's answer about an order or a return."""

    id: str
    status: str
    created_at: datetime | None
    updated_at: datetime | None
    # SKU -> 35up item id (the vendor order), when the answer lists its items.
    item_ids: dict = field(default_factory=dict)
    # The shop's reference, when the answer carries it (the ambiguous-placement lookup needs it).
    reference: str = ""
    # An order's returns when the answer lists them (None: it says nothing about returns), each
    # as (return id, status, {item id: quantity}): what settles an ambiguous POST /returns.
    returns: tuple | None = None


def from_epoch_seconds(value):
    """ "1603375967" (or 1603375967) -> aware UTC datetime."""
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ProviderBadAnswer(
            Provider.THIRTYFIVEUP, f"'{value}' is not a timestamp in epoch seconds."
        )
    return datetime.fromtimestamp(int(str(value).strip()), tz=UTC)


def parse_record(answer):
    """{id, status, updatedAt, createdAt[, items[{itemId, sku}]]} -> ThirtyFiveUpRecord."""
    if not isinstance(answer, dict) or not answer.get("id") or not answer.get("status"):
        raise ProviderBadAnswer(
            Provider.THIRTYFIVEUP, f"Unexpected answer without id and status: {answer!r:.200}"
        )
    item_ids = {
        str(item["sku"]).strip(): str(item["itemId"])
        for item in answer.get("items") or []
        if isinstance(item, dict) and item.get("sku") and item.get("itemId")
    }
    return ThirtyFiveUpRecord(
        id=str(answer["id"]),
        status=str(answer["status"]).lower(),
        created_at=from_epoch_seconds(answer["createdAt"]) if answer.get("createdAt") else None,
        updated_at=from_epoch_seconds(answer["updatedAt"]) if answer.get("updatedAt") else None,
        item_ids=item_ids,
        reference=str(answer.get("reference") or ""),
        returns=_parse_returns(answer["returns"]) if "returns" in answer else None,
    )


def _parse_returns(listed):
    if not isinstance(listed, list):
        raise ProviderBadAnswer(Provider.THIRTYFIVEUP, f"'returns' is not a list: {listed!r:.200}")
    parsed = []
    for entry in listed:
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ProviderBadAnswer(Provider.THIRTYFIVEUP, f"A return without id: {entry!r:.200}")
        items = {}
        for item in entry.get("items") or []:
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if isinstance(quantity, bool) or not str(quantity).strip().isdigit():
                raise ProviderBadAnswer(
                    Provider.THIRTYFIVEUP, f"A return item without a quantity: {item!r:.200}"
                )
            # One item named twice counts twice, as 35up would hold it.
            item_id = str(item.get("itemId"))
            items[item_id] = items.get(item_id, 0) + int(str(quantity).strip())
        parsed.append((str(entry["id"]), str(entry.get("status") or "").lower(), items))
    return tuple(parsed)


def parse_records(answer):
    """GET /orders: a JSON array, or an object holding it under `orders`, `returns` or `data`."""
    if isinstance(answer, dict):
        answer = answer.get("orders") or answer.get("returns") or answer.get("data") or []
    return [parse_record(item) for item in answer or []]
