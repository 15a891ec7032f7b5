"""The fake Reevoo (POST /v4/organisations/{trkref}/customer_order): accepted with a 202 and a
request UUID; every submission is kept, a repeat is a new submission."""

import re
from datetime import datetime

from django.conf import settings

from .endpoints import ProviderAPI, Reply, basic_auth_matches
from .models import Provider, SandboxReevooSubmission
from .validation import Refused, is_country, is_currency, is_email, is_text

TRKREF = re.compile(r"[A-Z0-9]+(-[A-Z0-9]+)*")
PRICE = re.compile(r"\d+(,\d+)?")
METADATA_KEY = re.compile(r"[a-z0-9_]+")
LANGUAGE = re.compile(r"[a-z]{2}")
LOCALE = re.compile(r"[a-z]{2}-[A-Z]{2}")
MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ReevooAPI(ProviderAPI):
    name = Provider.REEVOO

    def authenticated(self, request):
        return basic_auth_matches(request, settings.REEVOO_API_KEY, settings.REEVOO_API_SECRET)

    def error(self, status, message):
        return Reply(
            status, {"status": status, "message": MESSAGES.get(status), "errors": [message]}
        )

    def refused(self, refusal):
        body = {"status": refusal.status, "message": MESSAGES[refusal.status]}
        return Reply(refusal.status, {**body, "errors": refusal.errors})


API = ReevooAPI()


def _is_date(value):
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}-\d{2}-\d{4}", value):
        return False
    try:
        datetime.strptime(value, "%d-%m-%Y")
    except ValueError:
        return False
    return True


def _check_optional(errors, data, path, key, is_valid, expected):
    value = data.get(key)
    if value is not None and not (isinstance(value, str) and is_valid(value)):
        errors.append(f"{path}{key}: {expected}")


def _check_customer(errors, customer):
    if not isinstance(customer, dict):
        errors.append("customer: is mandatory and must be an object")
        return
    email = customer.get("email")
    if not is_text(email):
        errors.append("customer.email: is mandatory")
    elif not is_email(email):
        errors.append("customer.email: is not a valid email address")
    for key in ("customer_ref", "title", "first_name"):
        _check_optional(errors, customer, "customer.", key, lambda _: True, "must be a string")
    _check_optional(
        errors, customer, "customer.", "country", is_country, "must be an ISO 3166-1 alpha-2 code"
    )


def _check_item(errors, item, path):
    if not isinstance(item, dict):
        errors.append(f"{path}: must be an object")
        return
    if not is_text(item.get("sku")):
        errors.append(f"{path}.sku: is mandatory")
    _check_optional(
        errors,
        item,
        f"{path}.",
        "price",
        PRICE.fullmatch,
        'must be digits with a comma before the decimals, e.g. "55,99"',
    )
    _check_optional(errors, item, f"{path}.", "currency", is_currency, "must be an ISO 4217 code")
    metadata = item.get("metadata")
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        errors.append(f"{path}.metadata: must be an object")
        return
    for key in metadata:
        if not METADATA_KEY.fullmatch(key):
            errors.append(f"{path}.metadata.{key}: field names may contain only [a-z0-9_]")


def validate_submission(trkref, payload):
    """Readable error lines; empty when the submission is acceptable."""
    if not isinstance(payload, dict):
        return ["the body must be a JSON object"]
    errors = []
    body_trkref = payload.get("trkref")
    if not is_text(body_trkref):
        errors.append("trkref: is mandatory")
    elif not TRKREF.fullmatch(body_trkref):
        errors.append("trkref: must be capital letters and digits, e.g. ABC or ABC-XYZ")
    elif body_trkref != trkref:
        errors.append(f"trkref: {body_trkref} does not match the organisation {trkref} in the URL")
    if not is_text(payload.get("order_ref")):
        errors.append("order_ref: is mandatory")
    dates = [key for key in ("order_date", "fulfilment_date") if payload.get(key) is not None]
    if not dates:
        errors.append("order_date: is mandatory unless fulfilment_date is present")
    for key in dates:
        if not _is_date(payload[key]):
            errors.append(f"{key}: must be a date as dd-mm-yyyy, e.g. 25-09-2021")
    _check_optional(errors, payload, "", "language", LANGUAGE.fullmatch, "must be ISO 639-1")
    _check_optional(
        errors,
        payload,
        "",
        "locale",
        LOCALE.fullmatch,
        "must be like en-GB (ISO 639-1, ISO 3166-1)",
    )
    _check_customer(errors, payload.get("customer"))
    items = payload.get("order_items")
    if not isinstance(items, list) or not items:
        errors.append("order_items: is mandatory and must list at least one item")
    else:
        for index, item in enumerate(items):
            _check_item(errors, item, f"order_items[{index}]")
    return errors


def submit(trkref, payload):
    if not TRKREF.fullmatch(trkref) or trkref != settings.REEVOO_TRKREF:
        raise Refused(403, [f"not allowed to submit customer orders for organisation {trkref}"])
    errors = validate_submission(trkref, payload)
    if errors:
        raise Refused(400, errors)
    return SandboxReevooSubmission.objects.create(
        trkref=trkref, order_ref=payload["order_ref"], payload=payload
    )


def accepted(submission):
    return {"status": 202, "id": str(submission.request_id), "message": "Accepted"}
