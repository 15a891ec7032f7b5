"""The order ingest format (DESIGN.md, docs/ingest-format.md): one JSON shape through every door.

Each order passes three gates: the limits (size, nesting, text a database keeps), then the
serializers (shape and types), then the models' own validation (clean, field validators) and what
the providers can carry, so the admin, the API and the import command agree. `parse_ingest_json`
reads the bytes a door receives, bounded, with one clear message for anything it cannot read.
"""

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from core import events
from core.actors import Actor
from core.errors import PermissionRefused
from core.nested import error_paths, lines_from_paths
from orders.events import OrderReceived
from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from orders.validators import validate_country, validate_language

logger = logging.getLogger(__name__)

NO_REFERENCE = "(no reference)"
CUSTOMER_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
}
ADDRESS_FIELDS = {
    "first_name": "shipping_first_name",
    "last_name": "shipping_last_name",
    "email": "shipping_email",
    "phone": "shipping_phone",
    "company": "shipping_company",
    "street": "shipping_street",
    "street_number": "shipping_street_number",
    "extra": "shipping_extra",
    "city": "shipping_city",
    "postcode": "shipping_postcode",
    "state": "shipping_state",
    "country": "shipping_country",
}
# Model field -> where it sits in the ingest document, for error messages.
FIELD_PATHS = {
    **{model: f"customer.{key}" for key, model in CUSTOMER_FIELDS.items()},
    **{model: f"shipping_address.{key}" for key, model in ADDRESS_FIELDS.items()},
}


# Integers longer than this are not read as numbers (the format's longest is a 12-digit price):
# Python refuses to convert integers beyond 4,300 digits, and a number's size should refuse its
# order, not the whole file.
NUMBER_DIGITS_LIMIT = 50
# Problems one order reports from the limits before the rest are left unlisted.
REPORTED_LIMIT_PROBLEMS = 20
UNPAIRED_SURROGATE = re.compile("[\\ud800-\\udfff]")


class IngestParseError(ValueError):
    """A document that cannot be read at all; nothing in it is imported. str() is the message."""


class OversizedNumber:
    """An integer of more than NUMBER_DIGITS_LIMIT digits, kept unread for the limits to refuse."""

    def __init__(self, text):
        self.digits = len(text.lstrip("-"))

    def __repr__(self):
        return f"<number of {self.digits} digits>"


def _parse_int(text):
    return OversizedNumber(text) if len(text) > NUMBER_DIGITS_LIMIT else int(text)


def _refuse_constant(name):
    raise IngestParseError(f"{name} is not a JSON value")


def json_type(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def parse_ingest_json(raw, *, name="The document", expect=list):
    """Bytes (or text) a door received -> the JSON value, a list of orders or (expect=dict) one.

    Raises IngestParseError with one message naming `name` for whatever cannot be read: more than
    INGEST_MAX_FILE_BYTES, not UTF-8, not JSON (NaN and Infinity included), nested too deeply to
    read, or not the expected type. Every problem inside an order (its size, its numbers, its
    text) is left to `ingest_order`, which refuses that order alone.
    """
    limit = settings.INGEST_MAX_FILE_BYTES
    if isinstance(raw, str):
        # Measured as UTF-8, as a file of it would be; unpaired surrogates count, and are refused
        # later as text a database cannot keep.
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > limit:
        raise IngestParseError(f"{name} is larger than the {limit:,} bytes the import reads.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise IngestParseError(
            f"{name} is not UTF-8 text: {error.reason} at byte {error.start}."
        ) from None
    try:
        document = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise IngestParseError(
            f"{name} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None
    except IngestParseError as error:
        raise IngestParseError(f"{name} is not valid JSON: {error}.") from None
    except RecursionError:
        raise IngestParseError(
            f"{name} is nested too deeply to read (arrays or objects inside one another "
            f"hundreds of levels deep; an order may nest {settings.INGEST_MAX_DEPTH} at most)."
        ) from None
    if not isinstance(document, expect):
        wanted = "a JSON array of orders" if expect is list else "a JSON object (one order)"
        raise IngestParseError(f"{name} must hold {wanted}, not a JSON {json_type(document)}.")
    return document


def _path(parts):
    """("lines", 0, "config", "size") -> "lines[0].config.size"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _text_problem(text):
    if "\x00" in text:
        return "Text may not contain NUL characters (\\u0000)."
    if UNPAIRED_SURROGATE.search(text):
        return "Text may not contain unpaired surrogates (\\ud800-\\udfff)."
    return None


def limit_problems(document):
    """{path: [messages]} for what goes beyond the ingest limits (the INGEST_* settings), checked
    before anything else reads the order: nesting, the number of lines and of config options,
    the length of keys and strings, text a database cannot keep (NUL, unpaired surrogates) and
    oversized numbers, anywhere in the order, unknown keys included. Walked without recursion,
    so no nesting exhausts the stack; a part beyond a limit is not looked into."""
    s = settings
    problems = {}
    pending = [((), document, 0)]
    while pending and len(problems) < REPORTED_LIMIT_PROBLEMS:
        parts, value, depth = pending.pop()
        problem, children = None, []
        is_config = len(parts) == 3 and parts[0] == "lines" and parts[2] == "config"
        if isinstance(value, OversizedNumber):
            problem = (
                f"A number of {value.digits:,} digits; numbers may have at most "
                f"{NUMBER_DIGITS_LIMIT} digits."
            )
        elif isinstance(value, str):
            is_config_value = len(parts) == 4 and parts[0] == "lines" and parts[2] == "config"
            limit = (
                s.INGEST_MAX_CONFIG_VALUE_LENGTH if is_config_value else s.INGEST_MAX_STRING_LENGTH
            )
            if len(value) > limit:
                problem = (
                    f"Ensure this field has no more than {limit:,} characters "
                    f"(it has {len(value):,})."
                )
            else:
                problem = _text_problem(value)
        elif isinstance(value, dict | list) and depth > s.INGEST_MAX_DEPTH:
            problem = f"Nested more than {s.INGEST_MAX_DEPTH} arrays or objects deep."
        elif isinstance(value, list):
            if parts == ("lines",) and len(value) > s.INGEST_MAX_LINES_PER_ORDER:
                problem = (
                    f"Ensure this field has no more than {s.INGEST_MAX_LINES_PER_ORDER:,} "
                    f"lines (it has {len(value):,})."
                )
            else:
                children = [((*parts, index), item) for index, item in enumerate(value)]
        elif isinstance(value, dict):
            if is_config and len(value) > s.INGEST_MAX_CONFIG_KEYS:
                problem = (
                    f"Ensure this field has no more than {s.INGEST_MAX_CONFIG_KEYS:,} options "
                    f"(it has {len(value):,})."
                )
            for key, item in value.items():
                if problem:
                    break
                if len(key) > s.INGEST_MAX_KEY_LENGTH:
                    problem = (
                        f"Keys may have at most {s.INGEST_MAX_KEY_LENGTH:,} characters; "
                        f"one has {len(key):,}."
                    )
                elif key_problem := _text_problem(key):
                    problem = f"A key: {key_problem}"
                else:
                    children.append(((*parts, key), item))
            if problem:
                children = []
        if problem:
            problems.setdefault(_path(parts), []).append(problem)
        pending.extend((child, item, depth + 1) for child, item in reversed(children))
    return problems


# What the providers can carry, registered by the integrations layer at start-up
# (IntegrationsConfig.ready(); orders may not import integrations): name -> check(order, lines),
# each returning {path: [messages]} for the unsaved order and its lines.
SendableCheck = Callable[[Order, list[OrderLine]], dict[str, list[str]]]
_sendable_checks: dict[str, SendableCheck] = {}


def register_sendable_check(name, check: SendableCheck):
    """Refuse at ingest what `check` says a provider could not be sent; a name registered again
    replaces its check."""
    _sendable_checks[name] = check


def sendable_checks():
    return dict(_sendable_checks)


class UpperCharField(serializers.CharField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).upper()


class LowerCharField(serializers.CharField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).lower()


class CustomerSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    email = serializers.EmailField()
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class ShippingAddressSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False)
    last_name = serializers.CharField(max_length=100, required=False)
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    company = serializers.CharField(max_length=100, required=False, allow_blank=True)
    street = serializers.CharField(max_length=200)
    street_number = serializers.CharField(max_length=20)
    extra = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    postcode = serializers.CharField(max_length=20)
    state = UpperCharField(max_length=3, required=False, allow_blank=True)
    # The ISO check here, not a length check: "USA" should hear what a country code is.
    country = UpperCharField(validators=[validate_country])


class LineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=128)
    name = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    config = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    def validate_quantity(self, value):
        # Read per call, not at import, so that a changed setting applies at once.
        limit = settings.INGEST_MAX_LINE_QUANTITY
        if value > limit:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {limit}.", code="max_value"
            )
        return value


class OrderIngestSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=64)
    session = serializers.CharField(max_length=128, required=False, allow_blank=True)
    currency = UpperCharField(max_length=3, min_length=3)
    language = LowerCharField(required=False, validators=[validate_language])
    ordered_at = serializers.DateTimeField(required=False)
    customer = CustomerSerializer()
    shipping_address = ShippingAddressSerializer()
    lines = serializers.ListField(child=LineSerializer(), min_length=1)


class IngestOutcome:
    CREATED = "created"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass
class IngestResult:
    """What became of one document. `field_errors` maps a path in the document
    ("lines[0].quantity", "" for the document as a whole) to its problems; `conflict` says the
    reference exists with other content (the API's 409)."""

    reference: str
    outcome: str
    order: Order | None = None
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: bool = False

    @property
    def errors(self) -> list[str]:
        """One readable line per problem, for logs and the import command."""
        return lines_from_paths(self.field_errors)


def _digest(data):
    canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _build(data):
    """Unsaved Order and OrderLines from validated data, checked by the models' own rules."""
    customer, address = data["customer"], data["shipping_address"]
    for key in ("first_name", "last_name", "email", "phone"):
        address.setdefault(key, customer.get(key, ""))
    order = Order(
        reference=data["reference"],
        session=data.get("session", ""),
        currency=data["currency"],
        language=data.get("language", "en"),
        **{model: customer.get(key, "") for key, model in CUSTOMER_FIELDS.items()},
        **{model: address.get(key, "") for key, model in ADDRESS_FIELDS.items()},
    )
    lines = [
        OrderLine(
            sku=line["sku"],
            name=line["name"],
            quantity=line["quantity"],
            unit_price=line["unit_price"],
            config=line.get("config", {}),
        )
        for line in data["lines"]
    ]
    errors = {}
    try:
        order.full_clean(exclude=["ordered_at", "reference"])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors[FIELD_PATHS.get(name, name)] = messages
    for index, line in enumerate(lines):
        try:
            line.full_clean(exclude=["order"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors[f"lines[{index}].{name}"] = messages
    return order, lines, errors


INGEST_PERMISSION = "orders.add_order"


def ingest_order(document, *, actor: Actor) -> IngestResult:
    """Create an order from an ingest document; idempotent on reference.

    The same reference with the same content changes nothing; with other content it is refused.
    Raises PermissionRefused when a person or API client without orders.add_order sends it.
    """
    if not actor.has_perm(INGEST_PERMISSION):
        raise PermissionRefused("You do not have permission to add orders.")
    reference = _reference_label(document)
    problems = limit_problems(document)
    if problems:
        return IngestResult(reference, IngestOutcome.REFUSED, field_errors=problems)
    serializer = OrderIngestSerializer(data=document)
    if not serializer.is_valid():
        return IngestResult(
            reference, IngestOutcome.REFUSED, field_errors=error_paths(serializer.errors)
        )
    data = serializer.validated_data
    reference = data["reference"]
    order, lines, errors = _build(data)
    for check in _sendable_checks.values():
        for path, messages in check(order, lines).items():
            errors.setdefault(path, []).extend(messages)
    if errors:
        return IngestResult(reference, IngestOutcome.REFUSED, field_errors=error_paths(errors))
    digest = _digest({**data, "shipping_address": dict(data["shipping_address"])})
    existing = Order.objects.filter(reference=reference).first()
    if existing is not None:
        return _compare_with_existing(existing, digest)
    order.ordered_at = data.get("ordered_at") or timezone.now()
    order.ingest_digest = digest
    try:
        with transaction.atomic():
            order.save()
            for line in lines:
                line.order = order
            OrderLine.objects.bulk_create(lines)
            OrderStatusChange.record(
                subject=order, from_status=OrderStatus.NEW, actor=actor, message="Order received."
            )
            events.publish(OrderReceived(order, actor))
    except IntegrityError as error:
        # Another request created the same reference between our check and our insert; any
        # other constraint the order broke refuses it alone.
        existing = Order.objects.filter(reference=reference).first()
        if existing is None:
            return _refused_by_database(reference, error)
        return _compare_with_existing(existing, digest)
    except DataError as error:
        # A value the database refuses (a range, a character) refuses this order, rolled back
        # to its savepoint, and the caller's other orders go on. Trouble of the database itself
        # (OperationalError: a lost connection, a deadlock) is not the document's fault: it
        # propagates, and the door answers it as a failure of the hub.
        return _refused_by_database(reference, error)
    return IngestResult(reference, IngestOutcome.CREATED, order=order)


def _reference_label(document):
    """The reference to name a refused document by, when it is one a person can read."""
    reference = document.get("reference") if isinstance(document, dict) else None
    if isinstance(reference, int) and not isinstance(reference, bool):
        reference = str(reference)
    if not isinstance(reference, str):
        return NO_REFERENCE
    reference = reference.strip()
    max_length = Order._meta.get_field("reference").max_length
    if not reference or len(reference) > max_length or not reference.isprintable():
        return NO_REFERENCE
    return reference


def _refused_by_database(reference, error):
    logger.warning("The database refused order %s: %r", reference, error, exc_info=True)
    return IngestResult(
        reference,
        IngestOutcome.REFUSED,
        field_errors={
            "": [
                f"The database refused this order ({type(error).__name__}); nothing of it was "
                "stored. The server log has the details."
            ]
        },
    )


def _compare_with_existing(existing, digest):
    if existing.ingest_digest == digest:
        return IngestResult(existing.reference, IngestOutcome.UNCHANGED, order=existing)
    return IngestResult(
        existing.reference,
        IngestOutcome.REFUSED,
        order=existing,
        conflict=True,
        field_errors={
            "reference": [
                f"order {existing.reference} already exists with different content; "
                "a repeat must be identical (orders are never merged)."
            ]
        },
    )
