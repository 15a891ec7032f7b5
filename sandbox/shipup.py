"""The fake Shipup (POST /v2/orders): type checks with Shipup's nested `errors`, and the upsert
of orders, fulfillments and line items by merchant_id and of trackers by tracking_number."""

import json
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .endpoints import ProviderAPI, Reply, same_secret
from .models import Provider, SandboxShipupOrder
from .validation import NestedErrors, Refused, is_integer, is_number

STATUS_CODES = (
    "pending",
    "in_production",
    "in_transit_to_stock",
    "preparing_shipment",
    "shipped",
    "delayed",
    "production_delay",
    "transit_to_stock_delay",
    "partially_shipped",
    "blocked",
    "canceled",
)


class ShipupAPI(ProviderAPI):
    name = Provider.SHIPUP

    def authenticated(self, request):
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and same_secret(key.strip(), settings.SHIPUP_API_KEY)

    def error(self, status, message):
        return Reply(status, {"errors": {"request": message}})

    def unauthorized(self):
        return Reply(401, {"errors": {"authorization": "Invalid or missing API key"}})

    def refused(self, refusal):
        return Reply(refusal.status, {"errors": refusal.errors})


API = ShipupAPI()


# --- type checks, worded as Shipup (a Ruby service) words them --------------------------------


def _ruby_type(value):
    if isinstance(value, bool):
        return "TrueClass" if value else "FalseClass"
    if isinstance(value, dict):
        return "Hash"
    if isinstance(value, list):
        return "Array"
    return {str: "String", int: "Integer", float: "Float"}.get(type(value), "NilClass")


def _ruby_inspect(value):
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", "=>"))
    return json.dumps(value)


def wrong_type(value, expected):
    given = f"{_ruby_type(value)} ({_ruby_inspect(value)})"
    return f"Wrong data type: given, {given} expected: {expected}"


def _string(value):
    return None if isinstance(value, str) else wrong_type(value, "String")


def _string_or_numeric(value):
    if isinstance(value, str) or is_number(value):
        return None
    return wrong_type(value, "String or Numeric")


def _boolean(value):
    return None if isinstance(value, bool) else wrong_type(value, "TrueClass or FalseClass")


def _integer(value):
    return None if is_integer(value) else wrong_type(value, "Integer")


def _hash(value):
    return None if isinstance(value, dict) else wrong_type(value, "Hash")


def _datetime(value):
    if not isinstance(value, str):
        return wrong_type(value, "String")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return f"Wrong format: given, {value} expected: ISO 8601 datetime"
    return None


def _status_code(value):
    if not isinstance(value, str):
        return wrong_type(value, "String")
    if value not in STATUS_CODES:
        return f"Wrong value: given, {value} expected: one of {', '.join(STATUS_CODES)}"
    return None


_ADDRESS_KEYS = (
    "address1",
    "address2",
    "city",
    "zip",
    "country",
    "country_code",
    "state",
    "state_code",
    "first_name",
    "last_name",
    "name",
    "company_title",
)
# kind -> (plain fields and their checks, nested fields and their kinds, the required key)
KINDS = {
    "order": (
        {
            "merchant_id": _string,
            "ordered_at": _datetime,
            "language_code": _string,
            "email": _string,
            "phone": _string,
            "order_number": _string,
            "custom_variables": _hash,
            "first_name": _string,
            "last_name": _string,
            "mute_notifications": _boolean,
            "canceled": _boolean,
        },
        {"shipping_address": "address", "line_items": "line_item", "fulfillments": "fulfillment"},
        "merchant_id",
    ),
    "fulfillment": (
        {
            "merchant_id": _string,
            "fulfillment_number": _string,
            "estimated_delivery_range_start": _datetime,
            "estimated_delivery_range_end": _datetime,
            "custom_variables": _hash,
            "status_code": _status_code,
            "warehouse_merchant_id": _string,
        },
        {"shipping_address": "address", "line_items": "line_item", "trackers": "tracker"},
        "merchant_id",
    ),
    "tracker": (
        {
            "tracking_number": _string_or_numeric,
            "carrier_code": _string,
            "carrier_service_code": _string,
            "custom_variables": _hash,
            "expected_delivery_at": _datetime,
            "mute_notifications": _boolean,
            "untracked_carrier_name": _string,
            "untracked_carrier_url": _string,
        },
        {"line_items": "line_item"},
        "tracking_number",
    ),
    "line_item": (
        {
            "merchant_id": _string,
            "title": _string,
            "variant_title": _string,
            "name": _string,
            "description": _string,
            "sku": _string,
            "quantity": _integer,
            "shipped_quantity": _integer,
            "canceled_quantity": _integer,
            "requires_shipping": _boolean,
            "canceled": _boolean,
            "thumbnail": _hash,
        },
        {},
        "merchant_id",
    ),
    "address": ({key: _string for key in _ADDRESS_KEYS}, {}, None),
}


def _check(errors, data, path, kind):
    """Check `data` key by key in the order it was sent, then its required key. Nil counts as
    absent. An address's problems are reported on the object that holds it, as the spec shows."""
    fields, nested, required = KINDS[kind]
    for key, value in data.items():
        if value is None:
            continue
        if nested.get(key) == "address":
            if isinstance(value, dict):
                _check(errors, value, path, "address")
            else:
                errors.add((*path, key), wrong_type(value, "Hash"))
        elif key in nested:
            _check_list(errors, value, (*path, key), nested[key])
        elif key in fields:
            message = fields[key](value)
            if message:
                errors.add((*path, key), message)
    if required and data.get(required) is None:
        errors.add((*path, required), "Required")


def _check_list(errors, values, path, kind):
    if not isinstance(values, list):
        errors.add(path, wrong_type(values, "Array"))
        return
    for index, value in enumerate(values):
        if isinstance(value, dict):
            _check(errors, value, (*path, index), kind)
        else:
            errors.add((*path, index), wrong_type(value, "Hash"))


def validate_order(payload):
    errors = NestedErrors()
    if isinstance(payload, dict):
        _check(errors, payload, (), "order")
    else:
        errors.add(("order",), wrong_type(payload, "Hash"))
    return errors


# --- upsert -----------------------------------------------------------------------------------


def _merge_list(stored, incoming, key, merge_one):
    """Items found by `key` are merged in place, the others appended."""
    merged = list(stored)
    positions = {str(item.get(key)): index for index, item in enumerate(merged)}
    for item in incoming:
        position = positions.get(str(item.get(key)))
        if position is None:
            positions[str(item.get(key))] = len(merged)
            merged.append(item)
        else:
            merged[position] = merge_one(merged[position], item)
    return merged


def _merge_line_item(stored, incoming):
    return {**stored, **incoming}


def _merge_tracker(stored, incoming):
    merged = {**stored, **incoming}
    if "line_items" in incoming:
        merged["line_items"] = _merge_list(
            stored.get("line_items", []), incoming["line_items"], "merchant_id", _merge_line_item
        )
    return merged


def _merge_fulfillment(stored, incoming):
    merged = {**stored, **incoming}
    for key, item_key, merge_one in (
        ("line_items", "merchant_id", _merge_line_item),
        ("trackers", "tracking_number", _merge_tracker),
    ):
        if key in incoming:
            merged[key] = _merge_list(stored.get(key, []), incoming[key], item_key, merge_one)
    return merged


def merge_order(stored, incoming):
    merged = {**stored, **incoming}
    for key, merge_one in (("line_items", _merge_line_item), ("fulfillments", _merge_fulfillment)):
        if key in incoming:
            merged[key] = _merge_list(stored.get(key, []), incoming[key], "merchant_id", merge_one)
    return merged


@transaction.atomic
def upsert_order(payload):
    errors = validate_order(payload)
    if errors:
        raise Refused(400, errors.tree)
    record, _ = SandboxShipupOrder.objects.get_or_create(merchant_id=payload["merchant_id"])
    record = SandboxShipupOrder.objects.select_for_update().get(pk=record.pk)
    record.payload = merge_order(record.payload, payload)
    record.updated_at = timezone.now()
    record.save(update_fields=["payload", "updated_at"])
    return record


def order_body(record):
    return {"id": record.pk, **record.payload}
