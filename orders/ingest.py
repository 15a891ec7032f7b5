"""The order ingest format (DESIGN.md, docs/ingest-format.md): one JSON shape through every door.

The serializers check the document's shape and types; the models' own validation (clean, field
validators) checks the business rules, so the admin, the API and the import command agree.
"""

import hashlib
import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from core import events
from core.actors import Actor
from core.nested import error_paths, lines_from_paths
from orders.events import OrderReceived
from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from orders.validators import validate_country, validate_language

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


def ingest_order(document, *, actor: Actor) -> IngestResult:
    """Create an order from an ingest document; idempotent on reference.

    The same reference with the same content changes nothing; with other content it is refused.
    """
    reference = document.get("reference") if isinstance(document, dict) else None
    reference = str(reference or "(no reference)")
    serializer = OrderIngestSerializer(data=document)
    if not serializer.is_valid():
        return IngestResult(
            reference, IngestOutcome.REFUSED, field_errors=error_paths(serializer.errors)
        )
    data = serializer.validated_data
    reference = data["reference"]
    order, lines, errors = _build(data)
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
    except IntegrityError:
        # Another request created the same reference between our check and our insert.
        return _compare_with_existing(Order.objects.get(reference=reference), digest)
    return IngestResult(reference, IngestOutcome.CREATED, order=order)


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
