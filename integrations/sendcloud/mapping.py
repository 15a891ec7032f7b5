"""Sendcloud v3 orders (specs/sendcloud-orders.txt): snake_case, ISO 8601 UTC with milliseconds.

order_id is the hub's primary key and order_number the shop's reference, as in the spec's example
(order_id "555413", order_number "OXSDFGHTD-12"): Sendcloud upserts on order_id + integration.id,
so the key must never change, and our primary key never does while the reference is the number
staff and customers recognise.
"""

from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from integrations.errors import ProviderBadAnswer, ProviderValidationError
from integrations.providers import Provider

ACCEPTED_CURRENCIES = frozenset({"EUR", "GBP", "USD"})
# Once the shop approves an order it has been paid for (35up's delayed-dispatch flow: approve
# "order successfully paid by the customer"); before that payment is outstanding.
PAID_STATUSES = frozenset(
    {"approved", "processing", "fulfilled", "delivered", "pending_cancellation", "closed"}
)
PAID = {"code": "paid", "message": "Paid"}
UNPAID = {"code": "unpaid", "message": "Unpaid"}
BATCH_LIMIT = 100


def iso_millis(moment):
    """Aware datetime -> "2018-02-27T10:00:00.555Z"."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def order_problems(order):
    """What would make Sendcloud refuse the order (and with it the whole batch)."""
    problems = []
    if order.currency not in ACCEPTED_CURRENCIES:
        problems.append(
            f"currency: Sendcloud accepts {', '.join(sorted(ACCEPTED_CURRENCIES))} only, "
            f"not {order.currency}."
        )
    required = {
        "shipping_address.address_line_1": order.shipping_street,
        "shipping_address.house_number": order.shipping_street_number,
        "shipping_address.postal_code": order.shipping_postcode,
        "shipping_address.city": order.shipping_city,
        "shipping_address.country_code": order.shipping_country.code,
    }
    problems.extend(f"{name}: required." for name, value in required.items() if not value)
    if not order.lines.exists():
        problems.append("order_items: the order has no lines.")
    return problems


def order_payload(order, *, integration_id):
    """One element of the POST /orders/ array. Raises ProviderValidationError before sending."""
    problems = order_problems(order)
    if problems:
        raise ProviderValidationError(
            Provider.SENDCLOUD, f"Order {order.reference} cannot go to Sendcloud.", details=problems
        )
    lines = list(order.lines.all())
    currency = order.currency
    return {
        "order_id": str(order.pk),
        "order_number": order.reference,
        "order_details": {
            "integration": {"id": integration_id},
            "status": {"code": str(order.status), "message": order.get_status_display()},
            "order_created_at": iso_millis(order.ordered_at),
            "order_updated_at": iso_millis(order.updated_at),
            "order_items": [
                {
                    "name": line.name,
                    "quantity": line.quantity,
                    "total_price": {"value": line.total_price, "currency": currency},
                }
                for line in lines
            ],
        },
        "payment_details": {
            "total_price": {
                "value": sum((line.total_price for line in lines), Decimal(0)),
                "currency": currency,
            },
            "status": dict(PAID if order.status in PAID_STATUSES else UNPAID),
        },
        "shipping_address": shipping_address(order),
    }


def shipping_address(order):
    address = {
        "name": f"{order.shipping_first_name} {order.shipping_last_name}".strip(),
        "company_name": order.shipping_company,
        "address_line_1": order.shipping_street,
        "house_number": order.shipping_street_number,
        "address_line_2": order.shipping_extra,
        "postal_code": order.shipping_postcode,
        "city": order.shipping_city,
        "state_province_code": order.shipping_state,
        "country_code": order.shipping_country.code,
        "phone_number": order.shipping_phone,
    }
    return {key: value for key, value in address.items() if value}


@dataclass(frozen=True)
class SendcloudOrderRef:
    """Sendcloud's minimal answer per order: its own id, our order_id and order_number."""

    id: str
    order_id: str
    order_number: str
    status_code: str = ""


def parse_refs(answer):
    """{"data": [{id, order_id, order_number, ...}]} -> [SendcloudOrderRef]."""
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise ProviderBadAnswer(Provider.SENDCLOUD, f"Unexpected answer: {answer!r:.200}")
    return [parse_ref(item) for item in answer["data"]]


def parse_ref(item):
    status = (item.get("order_details") or {}).get("status") or {}
    return SendcloudOrderRef(
        id=str(item["id"]),
        order_id=str(item["order_id"]),
        order_number=str(item.get("order_number", "")),
        status_code=str(status.get("code", "")),
    )
