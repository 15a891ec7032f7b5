"""Shipup POST /v2/orders (specs/shipup-orders.txt): the whole order in one upsert.

Shipup finds orders, fulfillments and line items by merchant_id and trackers by tracking_number,
so every merchant_id is derived from a primary key that never changes: resending the order
updates what is there and never duplicates it.
"""

from datetime import UTC

# "state_code ... 2 letter ISO code (US and CA), e.g. NY ... (US and Canada only)"
STATE_CODE_COUNTRIES = frozenset({"US", "CA"})
# Statuses in which the order is cancelled at 35up; pending_cancellation may still ship.
CANCELLED_STATUSES = frozenset({"cancelled"})


def iso_seconds(moment):
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def order_merchant_id(order):
    return f"order-{order.pk}"


def line_merchant_id(line):
    return f"line-{line.pk}"


def shipment_merchant_id(shipment):
    return f"shipment-{shipment.pk}"


def _without_empty(values):
    return {key: value for key, value in values.items() if value not in ("", None)}


def is_cancelled(order):
    """Cancelled, or closed after a cancellation (closed alone also follows delivery)."""
    if order.status in CANCELLED_STATUSES:
        return True
    return order.status == "closed" and order.history.filter(to_status="cancelled").exists()


def order_payload(order):
    lines = list(order.lines.all())
    shipments = list(order.shipments.prefetch_related("lines__order_line"))
    shipped_line_ids = {
        shipment_line.order_line_id
        for shipment in shipments
        for shipment_line in shipment.lines.all()
    }
    payload = _without_empty(
        {
            "merchant_id": order_merchant_id(order),
            "order_number": order.reference,
            "ordered_at": iso_seconds(order.ordered_at),
            "language_code": order.language,
            "email": order.email,
            "phone": order.phone,
            "first_name": order.first_name,
            "last_name": order.last_name,
        }
    )
    payload["canceled"] = is_cancelled(order)
    payload["shipping_address"] = shipping_address(order)
    # Lines not in any shipment yet; once shipped they move into the fulfillment's tracker.
    payload["line_items"] = [_line_item(line) for line in lines if line.pk not in shipped_line_ids]
    payload["fulfillments"] = [
        _fulfillment(order, shipment, number) for number, shipment in enumerate(shipments, start=1)
    ]
    return payload


def shipping_address(order):
    country = order.shipping_country.code
    return _without_empty(
        {
            "address1": f"{order.shipping_street} {order.shipping_street_number}".strip(),
            "address2": order.shipping_extra,
            "city": order.shipping_city,
            "zip": order.shipping_postcode,
            "country_code": country,
            "state_code": order.shipping_state if country in STATE_CODE_COUNTRIES else "",
            "first_name": order.shipping_first_name,
            "last_name": order.shipping_last_name,
            "company_title": order.shipping_company,
        }
    )


def _line_item(line):
    return {
        "merchant_id": line_merchant_id(line),
        "title": line.name,
        "sku": line.sku,
        "quantity": line.quantity,
    }


def _fulfillment(order, shipment, number):
    tracker = _without_empty(
        {"tracking_number": shipment.tracking_number, "carrier_code": shipment.carrier_code}
    )
    # quantity is the line's (it "must not change"); shipped_quantity what this parcel holds.
    tracker["line_items"] = [
        {**_line_item(shipped.order_line), "shipped_quantity": shipped.quantity}
        for shipped in shipment.lines.all()
    ]
    return {
        "merchant_id": shipment_merchant_id(shipment),
        "fulfillment_number": f"{order.reference}_{number}",
        "status_code": "shipped",
        "trackers": [tracker],
    }
