"""The fake Sendcloud (API v3 orders): all-or-nothing batch upsert, list with a cursor."""

import base64
import binascii
from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .endpoints import ProviderAPI, Reply, basic_auth_matches
from .models import Provider, SandboxSendcloudOrder
from .validation import (
    Refused,
    is_aware_iso_datetime,
    is_country,
    is_integer,
    is_number,
    is_text,
)

BATCH_LIMIT = 100
CURRENCIES = ("EUR", "GBP", "USD")
PAGE_SIZE = 40
PAGE_SIZE_LIMIT = 100
# List filters the sandbox offers beyond `integration`, the one Sendcloud's document shows.
UNDOCUMENTED_FILTERS = ("order_id", "order_number")
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_object(status, code, detail, pointer=None):
    error = {
        "status": str(status),
        "code": code,
        "title": TITLES.get(status, "Error"),
        "detail": detail,
    }
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return error


class SendcloudAPI(ProviderAPI):
    name = Provider.SENDCLOUD

    def authenticated(self, request):
        return basic_auth_matches(
            request, settings.SENDCLOUD_PUBLIC_KEY, settings.SENDCLOUD_SECRET_KEY
        )

    def error(self, status, message):
        code = "invalid" if status == 400 else TITLES.get(status, "error").lower().replace(" ", "_")
        return Reply(status, {"errors": [error_object(status, code, message)]})

    def refused(self, refusal):
        return Reply(refusal.status, {"errors": refusal.errors})


API = SendcloudAPI()


def iso_ms(moment):
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Checker:
    """Collects JSON:API errors with a pointer into the request body."""

    def __init__(self):
        self.errors = []

    def missing(self, pointer, name):
        self.errors.append(error_object(400, "required", f"{name} is required", pointer))

    def invalid(self, pointer, detail):
        self.errors.append(error_object(400, "invalid", detail, pointer))

    def obj(self, data, key, pointer):
        """data[key] as a dict, or None after recording why not."""
        value = data.get(key)
        if value is None:
            self.missing(f"{pointer}/{key}", key)
        elif not isinstance(value, dict):
            self.invalid(f"{pointer}/{key}", f"{key} must be an object")
        else:
            return value
        return None

    def text(self, data, key, pointer, *, required=True):
        value = data.get(key)
        if value is None:
            if required:
                self.missing(f"{pointer}/{key}", key)
        elif not is_text(value):
            self.invalid(f"{pointer}/{key}", f"{key} must be a non-empty string")

    def price(self, data, key, pointer):
        price = self.obj(data, key, pointer)
        if price is None:
            return
        pointer = f"{pointer}/{key}"
        value = price.get("value")
        if value is None:
            self.missing(f"{pointer}/value", "value")
        elif not is_number(value) or value < 0:
            self.invalid(f"{pointer}/value", "value must be a number of at least 0")
        currency = price.get("currency")
        if currency is None:
            self.missing(f"{pointer}/currency", "currency")
        elif currency not in CURRENCIES:
            self.invalid(
                f"{pointer}/currency",
                f"currency {currency!r} is not supported; use one of {', '.join(CURRENCIES)}",
            )

    def status(self, data, pointer):
        status = self.obj(data, "status", pointer)
        if status is not None:
            self.text(status, "code", f"{pointer}/status")
            self.text(status, "message", f"{pointer}/status", required=False)


def _check_order(check, order, pointer):
    if not isinstance(order, dict):
        check.invalid(pointer, "each order must be an object")
        return
    check.text(order, "order_id", pointer)
    check.text(order, "order_number", pointer)
    details = check.obj(order, "order_details", pointer)
    if details is not None:
        _check_details(check, details, f"{pointer}/order_details")
    payment = check.obj(order, "payment_details", pointer)
    if payment is not None:
        check.price(payment, "total_price", f"{pointer}/payment_details")
        check.status(payment, f"{pointer}/payment_details")
    address = check.obj(order, "shipping_address", pointer)
    if address is not None:
        _check_address(check, address, f"{pointer}/shipping_address")


def _check_details(check, details, pointer):
    integration = check.obj(details, "integration", pointer)
    if integration is not None:
        integration_id = integration.get("id")
        if integration_id is None:
            check.missing(f"{pointer}/integration/id", "id")
        elif not is_integer(integration_id):
            check.invalid(f"{pointer}/integration/id", "id must be an integer")
        elif integration_id != settings.SENDCLOUD_INTEGRATION_ID:
            check.invalid(f"{pointer}/integration/id", f"no integration with id {integration_id}")
    check.status(details, pointer)
    dates = [key for key in ("order_created_at", "order_date") if details.get(key) is not None]
    if not dates:
        check.missing(f"{pointer}/order_created_at", "order_created_at")
    for key in (*dates, "order_updated_at"):
        value = details.get(key)
        if value is not None and not is_aware_iso_datetime(value):
            check.invalid(f"{pointer}/{key}", f"{key} must be an ISO 8601 date-time with a zone")
    items = details.get("order_items")
    if not isinstance(items, list) or not items:
        check.invalid(f"{pointer}/order_items", "order_items must list at least one item")
        return
    for index, item in enumerate(items):
        item_pointer = f"{pointer}/order_items/{index}"
        if not isinstance(item, dict):
            check.invalid(item_pointer, "each item must be an object")
            continue
        check.text(item, "name", item_pointer)
        quantity = item.get("quantity")
        if not is_integer(quantity) or quantity < 1:
            check.invalid(f"{item_pointer}/quantity", "quantity must be an integer of at least 1")
        check.price(item, "total_price", item_pointer)


def _check_address(check, address, pointer):
    for key in ("name", "address_line_1", "postal_code", "city", "country_code"):
        check.text(address, key, pointer)
    for key in ("address_line_2", "house_number", "company_name", "phone_number", "email"):
        check.text(address, key, pointer, required=False)
    country = address.get("country_code")
    if is_text(country) and not is_country(country):
        check.invalid(
            f"{pointer}/country_code",
            f"{country!r} is not an ISO 3166-1 alpha-2 country code",
        )


def validate_batch(payload):
    """JSON:API error objects for the whole batch; one bad order refuses all of them."""
    check = _Checker()
    if not isinstance(payload, list):
        check.invalid("", "the body must be a list of orders")
    elif not payload:
        check.invalid("", "the list of orders is empty")
    elif len(payload) > BATCH_LIMIT:
        check.invalid("", f"at most {BATCH_LIMIT} orders per request, got {len(payload)}")
    else:
        for index, order in enumerate(payload):
            _check_order(check, order, f"/{index}")
    return check.errors


@transaction.atomic
def upsert_batch(payload):
    errors = validate_batch(payload)
    if errors:
        raise Refused(400, errors)
    now = timezone.now()
    stored = []
    for order in payload:
        record, _ = SandboxSendcloudOrder.objects.update_or_create(
            integration_id=order["order_details"]["integration"]["id"],
            order_id=order["order_id"],
            defaults={"order_number": order["order_number"], "payload": order, "modified_at": now},
            create_defaults={
                "order_number": order["order_number"],
                "payload": order,
                "created_at": now,
                "modified_at": now,
            },
        )
        stored.append(record)
    return stored


def summary(record):
    return {"id": str(record.pk), "order_id": record.order_id, "order_number": record.order_number}


def detail(record):
    return {
        **record.payload,
        **summary(record),
        "created_at": iso_ms(record.created_at),
        "modified_at": iso_ms(record.modified_at),
    }


def find_order(order_pk):
    record = (
        SandboxSendcloudOrder.objects.filter(pk=order_pk).first() if order_pk.isdigit() else None
    )
    if record is None:
        raise Refused(404, [error_object(404, "not_found", f"No order with id {order_pk}")])
    return record


def encode_cursor(last_pk):
    return base64.urlsafe_b64encode(f"after:{last_pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    prefix, _, last_pk = text.partition(":")
    if prefix != "after" or not last_pk.isdigit():
        raise Refused(400, [error_object(400, "invalid", "Invalid cursor", "/cursor")])
    return int(last_pk)


def _query_int(query, name, default):
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise Refused(400, [error_object(400, "invalid", f"{name} must be a number", f"/{name}")])
    return int(value)


def list_page(query, *, documented_filters_only=False):
    """One page of orders for the filters in the query string, and the cursor of the next.

    With documented_filters_only (SandboxFaults.ignore_list_filters) only `integration`
    applies, so that a client relying on an undocumented filter gets other orders too.
    """
    records = SandboxSendcloudOrder.objects.order_by("pk")
    integration = _query_int(query, "integration", None)
    if integration is not None:
        records = records.filter(integration_id=integration)
    for name in UNDOCUMENTED_FILTERS:
        if query.get(name) and not documented_filters_only:
            records = records.filter(**{name: query[name]})
    if query.get("cursor"):
        records = records.filter(pk__gt=decode_cursor(query["cursor"]))
    page_size = min(max(_query_int(query, "page_size", PAGE_SIZE), 1), PAGE_SIZE_LIMIT)
    page = list(records[: page_size + 1])
    next_cursor = encode_cursor(page[page_size - 1].pk) if len(page) > page_size else None
    return page[:page_size], next_cursor
