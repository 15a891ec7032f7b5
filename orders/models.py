"""Orders as the shop places them with 35up, and the 35up order state machine.

Transitions change the state only: they never call a provider and never write history. The
services in `orders/services.py` wrap them, record who/when/why and (later) the outbox delivery.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django_countries.fields import CountryField
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from core.statemachine import StatusChange
from orders.validators import validate_currency, validate_language, validate_sku, validate_state


class OrderStatus(models.TextChoices):
    NEW = "new", "New (not placed at 35up)"
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    PROCESSING = "processing", "Processing"
    FULFILLED = "fulfilled", "Fulfilled"
    DELIVERED = "delivered", "Delivered"
    PENDING_CANCELLATION = "pending_cancellation", "Pending cancellation"
    CANCELLED = "cancelled", "Cancelled"
    CLOSED = "closed", "Closed"


S = OrderStatus

# Moves 35up reports (DESIGN.md), plus the placement answer that ends `new`.
REPORTED_MOVES = {
    S.NEW: {S.PENDING, S.APPROVED},
    S.PENDING: {S.APPROVED, S.CANCELLED},
    S.APPROVED: {S.PROCESSING, S.PENDING_CANCELLATION, S.CANCELLED, S.PENDING},
    S.PROCESSING: {S.FULFILLED, S.PENDING_CANCELLATION},
    S.FULFILLED: {S.DELIVERED, S.CLOSED},
    S.DELIVERED: {S.CLOSED},
    S.PENDING_CANCELLATION: {S.CANCELLED, S.PROCESSING, S.FULFILLED},
    S.CANCELLED: {S.CLOSED},
    S.CLOSED: set(),
}

# What a shop-requested action asks 35up for in PATCH /orders/{id}.
REQUESTED_35UP_STATUS = {"approve": S.APPROVED, "hold": S.PENDING, "cancel": S.CANCELLED}


class Order(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(max_length=64, unique=True, help_text="The shop's order number.")
    session = models.CharField(max_length=128, blank=True, help_text="35up recommendation session.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=32, blank=True)

    shipping_first_name = models.CharField(max_length=100)
    shipping_last_name = models.CharField(max_length=100)
    shipping_email = models.EmailField()
    shipping_phone = models.CharField(max_length=32, blank=True)
    shipping_company = models.CharField(max_length=100, blank=True)
    shipping_street = models.CharField(max_length=200)
    shipping_street_number = models.CharField(max_length=20)
    shipping_extra = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100)
    shipping_postcode = models.CharField(max_length=20)
    shipping_state = models.CharField(
        max_length=3, blank=True, help_text="ISO 3166-2 code without country prefix (WA, QC, NSW)."
    )
    shipping_country = CountryField(help_text="ISO 3166-1 alpha-2.")

    currency = models.CharField(max_length=3, validators=[validate_currency], help_text="ISO 4217.")
    language = models.CharField(
        max_length=2, default="en", validators=[validate_language], help_text="ISO 639-1."
    )
    ordered_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    status = FSMField(default=S.NEW, choices=S.choices, protected=True)
    status_unexpected = models.BooleanField(
        default=False, help_text="35up reported a move outside the documented graph."
    )
    thirtyfiveup_id = models.CharField("35up id", max_length=64, null=True, blank=True, unique=True)
    thirtyfiveup_updated_at = models.DateTimeField(
        "35up updated at", null=True, blank=True, help_text="updatedAt of the last 35up report."
    )
    ingest_digest = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of the ingested document."
    )
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When names, email, phone and address were replaced (orders.privacy).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Each filter index ends in the list's full ordering (-created_at, -id): the page is
            # read in index order and the capped count is an index-only scan (docs/performance.md).
            models.Index(fields=["-created_at", "-id"], name="order_created_idx"),
            models.Index(
                fields=["status", "-created_at", "-id"], name="order_status_created_id_idx"
            ),
            models.Index(
                fields=["shipping_country", "-created_at", "-id"],
                name="order_country_created_id_idx",
            ),
            models.Index(Upper("email"), name="order_email_upper_idx"),
            # The 35up sync reads open orders least recently touched first.
            models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
            models.Index(Upper("last_name"), name="order_last_name_upper_idx"),
            # The few orders whose status 35up moved outside its graph: they need a person.
            models.Index(
                fields=["id"],
                condition=models.Q(status_unexpected=True),
                name="order_unexpected_idx",
            ),
        ]
        permissions = [
            ("approve_order", "Can approve orders"),
            ("hold_order", "Can put orders on hold"),
            ("cancel_order", "Can cancel orders"),
            ("export_order", "Can export orders as CSV"),
        ]

    def __str__(self):
        return self.reference

    @property
    def customer_name(self):
        return f"{self.first_name} {self.last_name}"

    def clean_fields(self, exclude=None):
        # The protected state field cannot be re-assigned, not even to itself by field cleaning.
        super().clean_fields(exclude={*(exclude or ()), "status"})

    def clean(self):
        if self.shipping_country:
            state_error = validate_state(self.shipping_country.code, self.shipping_state)
            if state_error:
                raise ValidationError({"shipping_state": state_error})

    # Shop-requested transitions: each carries a permission, and is sent to 35up as a PATCH.
    @transition(
        field=status,
        source=S.PENDING,
        target=S.APPROVED,
        permission="orders.approve_order",
        custom={"label": "Approve", "takes_message": True},
    )
    def approve(self):
        """Let 35up dispatch the order (e.g. once the customer has paid)."""

    @transition(
        field=status,
        source=S.APPROVED,
        target=S.PENDING,
        permission="orders.hold_order",
        custom={"label": "Hold", "takes_message": True},
    )
    def hold(self):
        """Stop an approved order from being dispatched until it is approved again."""

    @transition(
        field=status,
        source=[S.NEW, S.PENDING],
        target=S.CANCELLED,
        permission="orders.cancel_order",
        custom={"label": "Cancel", "takes_message": True, "confirm": True},
    )
    @transition(
        field=status,
        source=[S.APPROVED, S.PROCESSING],
        target=S.PENDING_CANCELLATION,
        permission="orders.cancel_order",
        custom={"label": "Cancel", "takes_message": True, "confirm": True},
    )
    def cancel(self):
        """Cancel; once 35up has the order approved, it confirms the cancellation later."""

    # Moves reported by 35up (the placement answer included): never offered to staff.
    @transition(
        field=status,
        source=[s for s in S.values if s != S.CLOSED],
        target=RETURN_VALUE(*[s for s in S.values if s != S.NEW]),
        custom={"admin": False},
    )
    def apply_reported_status(self, status):
        return status


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField("SKU", max_length=128, validators=[validate_sku])
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    config = models.JSONField(default=dict, blank=True)
    thirtyfiveup_item_id = models.CharField(
        "35up item id", max_length=64, blank=True, help_text="35up's id of the vendor order."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="orderline_quantity_gte_1"
            )
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku}"

    @property
    def total_price(self):
        return self.unit_price * self.quantity

    def clean(self):
        if not isinstance(self.config, dict) or not all(
            isinstance(value, str) for value in self.config.values()
        ):
            raise ValidationError({"config": "Config must be an object whose values are strings."})


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    tracking_number = models.CharField(max_length=100)
    carrier_code = models.CharField(max_length=50, blank=True)
    shipped_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipped_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "tracking_number"], name="shipment_unique_tracking_per_order"
            )
        ]

    def __str__(self):
        return self.tracking_number


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="shipped")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="shipmentline_quantity_gte_1"
            )
        ]

    def __str__(self):
        return f"{self.quantity} x {self.order_line.sku}"


class OrderStatusChange(StatusChange):
    """One row per order status change: who or what, when, from, to, why."""

    subject_field = "order"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=32, choices=S.choices)
    to_status = models.CharField(max_length=32, choices=S.choices)

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["order", "created_at"], name="status_change_order_idx")]


class OrderNote(models.Model):
    """Internal note for staff; never sent to a provider."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.body[:50]
