"""Reevoo customer orders (specs/reevoo-customer-orders.txt): dd-mm-yyyy dates, "55,99" prices.

Follows specs/README.md where the page contradicts itself: `customer_ref` (not the example's
`cutomer_ref`), trkref `^[A-Z0-9]+(-[A-Z0-9]+)*$`, metadata keys `[a-z0-9_]`.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC

from integrations.errors import ProviderBadAnswer, ProviderValidationError
from integrations.providers import Provider

TRKREF_PATTERN = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")


def validate_trkref(trkref):
    if not TRKREF_PATTERN.match(trkref or ""):
        raise ProviderValidationError(
            Provider.REEVOO,
            f"'{trkref}' is not a Reevoo trkref (capital letters and digits, e.g. ABC-XYZ).",
        )
    return trkref


def reevoo_date(moment):
    """Aware datetime -> "24-12-2014" (the UTC date)."""
    return moment.astimezone(UTC).strftime("%d-%m-%Y")


def reevoo_price(amount):
    """Decimal -> "55,99"; whole amounts without decimals ("10"), as in the spec's example."""
    if amount == amount.to_integral_value():
        return str(amount.quantize(1))
    return f"{amount:.2f}".replace(".", ",")


def metadata_key(key):
    """Lower-case, anything outside [a-z0-9_] becomes "_" ("Field 1" -> "field_1")."""
    return re.sub(r"[^a-z0-9_]", "_", str(key).lower())


def customer_ref(order):
    """The hub has no customer id: a stable pseudonym of the e-mail address stands in, so Reevoo
    sees one customer across orders without a second copy of the address."""
    return hashlib.sha256(order.email.strip().lower().encode()).hexdigest()[:16]


def customer_order_payload(order, *, trkref):
    """POST /organisations/{trkref}/customer_order body. fulfilment_date is the first shipment's
    date and is left out before anything shipped (order_date is always there)."""
    first_shipment = order.shipments.order_by("shipped_at", "id").first()
    lines = list(order.lines.all())
    if not lines:
        raise ProviderValidationError(Provider.REEVOO, f"Order {order} has no lines.")
    country = order.shipping_country.code
    payload = {
        "trkref": validate_trkref(trkref),
        "order_ref": order.reference,
        "order_date": reevoo_date(order.ordered_at),
    }
    if first_shipment:
        payload["fulfilment_date"] = reevoo_date(first_shipment.shipped_at)
    payload["language"] = order.language
    payload["locale"] = f"{order.language}-{country}"
    payload["customer"] = {
        key: value
        for key, value in {
            "email": order.email,
            "customer_ref": customer_ref(order),
            "first_name": order.first_name,
            "country": country,
        }.items()
        if value
    }
    payload["order_items"] = [_order_item(line, order.currency) for line in lines]
    return payload


def _order_item(line, currency):
    item = {"sku": line.sku, "price": reevoo_price(line.unit_price), "currency": currency}
    if line.config:
        item["metadata"] = {metadata_key(key): value for key, value in line.config.items()}
    return item


@dataclass(frozen=True)
class ReevooSubmission:
    id: str
    status: str
    message: str


def parse_submission(answer):
    """202 {status, id (UUID), message} -> ReevooSubmission."""
    try:
        request_id = str(uuid.UUID(str(answer["id"])))
    except (TypeError, KeyError, ValueError):
        raise ProviderBadAnswer(
            Provider.REEVOO, f"Unexpected answer without a request UUID: {answer!r:.200}"
        ) from None
    return ReevooSubmission(
        id=request_id, status=str(answer.get("status", "")), message=str(answer.get("message", ""))
    )
