"""Returns of an order's lines, as the shop requests them from 35up, and the 35up return state
machine (DESIGN.md "Return (35up return statuses)").

Transitions change the state only: they never call a provider and never write history. The
services in `returns/services.py` wrap them, record who/when/why and publish the events the
integrations turn into deliveries.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from core.statemachine import StatusChange
from orders.models import Order, OrderLine


class ReturnStatus(models.TextChoices):
    NEW = "new", "New (not yet at 35up)"
    CREATED = "created", "Created"
    REJECTED = "rejected", "Rejected"
    AWAITING_RETURN = "awaiting_return", "Awaiting return"
    EXPIRED = "expired", "Expired"
    CUSTOMER_SHIPPED = "customer_shipped", "Customer shipped"
    SELLER_RECEIVED = "seller_received", "Seller received"
    SELLER_SHIPPED = "seller_shipped", "Seller shipped"
    VENDOR_RECEIVED = "vendor_received", "Vendor received"
    VOIDED = "voided", "Voided (package lost)"
    CONFIRMED = "confirmed", "Confirmed"
    NOT_CONFIRMED = "not_confirmed", "Not confirmed"
    AWAITING_REFUND = "awaiting_refund", "Awaiting refund"
    REFUNDED = "refunded", "Refunded"
    AWAITING_DISPUTE = "awaiting_dispute", "Awaiting dispute"
    CANCELLED = "cancelled", "Cancelled"
    CLOSED = "closed", "Closed"


R = ReturnStatus

# Moves 35up reports (DESIGN.md), plus the answer to POST /returns that ends `new`.
REPORTED_MOVES = {
    R.NEW: {R.CREATED},
    R.CREATED: {R.AWAITING_RETURN, R.REJECTED, R.CANCELLED},
    R.AWAITING_RETURN: {R.CUSTOMER_SHIPPED, R.SELLER_RECEIVED, R.EXPIRED, R.CANCELLED},
    R.CUSTOMER_SHIPPED: {R.SELLER_RECEIVED, R.VENDOR_RECEIVED, R.VOIDED},
    R.SELLER_RECEIVED: {R.SELLER_SHIPPED},
    R.SELLER_SHIPPED: {R.VENDOR_RECEIVED, R.VOIDED},
    R.VENDOR_RECEIVED: {R.CONFIRMED, R.NOT_CONFIRMED},
    R.CONFIRMED: {R.AWAITING_REFUND, R.REFUNDED},
    R.NOT_CONFIRMED: {R.AWAITING_DISPUTE},
    R.AWAITING_DISPUTE: {R.AWAITING_REFUND, R.CLOSED},
    R.AWAITING_REFUND: {R.REFUNDED},
    R.REFUNDED: {R.CLOSED},
    R.REJECTED: {R.CLOSED},
    R.EXPIRED: {R.CLOSED},
    R.VOIDED: {R.CLOSED},
    R.CANCELLED: {R.CLOSED},
    R.CLOSED: set(),
}

# Returns that give their quantities back to the order's lines.
RELEASED_STATUSES = (R.CANCELLED, R.REJECTED, R.EXPIRED)
# Order statuses whose lines may be returned.
RETURNABLE_ORDER_STATUSES = ("fulfilled", "delivered")


class Return(ConcurrentTransitionMixin, models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = FSMField(default=R.NEW, choices=R.choices, protected=True)
    status_unexpected = models.BooleanField(
        default=False, help_text="35up reported a move outside the documented graph."
    )
    items_released = models.BooleanField(
        default=False,
        help_text="Cancelled, rejected or expired (and closed since): its items may be returned "
        "again.",
    )
    thirtyfiveup_id = models.CharField("35up id", max_length=64, null=True, blank=True, unique=True)
    thirtyfiveup_updated_at = models.DateTimeField(
        "35up updated at", null=True, blank=True, help_text="updatedAt of the last 35up report."
    )
    reason = models.TextField(help_text="Why the customer returns the items (for staff).")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="return_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="return_status_created_idx"),
            # The 35up sync reads open returns least recently touched first.
            models.Index(fields=["updated_at", "id"], name="return_updated_idx"),
        ]
        permissions = [
            ("cancel_return", "Can cancel returns"),
            ("mark_customer_shipped_return", "Can mark returns shipped by the customer"),
            ("mark_seller_received_return", "Can mark returns received by the shop"),
            ("mark_seller_shipped_return", "Can mark returns shipped on to the vendor"),
        ]

    def __str__(self):
        return f"Return {self.pk} of {self.order_id and self.order.reference}"

    # Shop-settable transitions: each with its own permission, each sent to 35up as a PATCH.
    @transition(
        field=status,
        source=[R.NEW, R.CREATED, R.AWAITING_RETURN],
        target=R.CANCELLED,
        permission="returns.cancel_return",
        custom={"label": "Cancel return", "confirm": True},
    )
    def cancel(self):
        """The customer keeps the items after all (a return 35up never accepted is cancelled
        here only)."""

    def releases_items(self):
        """Whether the return, as it is now, gives its items back to the order's lines."""
        return self.status in RELEASED_STATUSES or (self.status == R.CLOSED and self.items_released)

    @transition(
        field=status,
        source=R.AWAITING_RETURN,
        target=R.CUSTOMER_SHIPPED,
        permission="returns.mark_customer_shipped_return",
        custom={"label": "Customer shipped"},
    )
    def mark_customer_shipped(self):
        """The customer sent the items back."""

    @transition(
        field=status,
        source=[R.AWAITING_RETURN, R.CUSTOMER_SHIPPED],
        target=R.SELLER_RECEIVED,
        permission="returns.mark_seller_received_return",
        custom={"label": "We received it"},
    )
    def mark_seller_received(self):
        """The customer sent the items to the shop instead of the vendor."""

    @transition(
        field=status,
        source=R.SELLER_RECEIVED,
        target=R.SELLER_SHIPPED,
        permission="returns.mark_seller_shipped_return",
        custom={"label": "We shipped it to the vendor"},
    )
    def mark_seller_shipped(self):
        """The shop sent the items on to the vendor."""

    # Moves reported by 35up (the answer to POST /returns included): never offered to staff.
    @transition(
        field=status,
        source=[s for s in R.values if s != R.CLOSED],
        target=RETURN_VALUE(*[s for s in R.values if s != R.NEW]),
        custom={"admin": False},
    )
    def apply_reported_status(self, status):
        return status


class ReturnLine(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="returned")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    thirtyfiveup_item_id = models.CharField(
        "35up item id", max_length=64, help_text="35up's id of the vendor order of this line."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="returnline_quantity_gte_1"
            ),
            models.UniqueConstraint(
                fields=["return_request", "order_line"], name="returnline_unique_order_line"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.order_line.sku}"


class ReturnStatusChange(StatusChange):
    """One row per return status change: who or what, when, from, to, why."""

    subject_field = "return_request"

    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=32, choices=R.choices)
    to_status = models.CharField(max_length=32, choices=R.choices)

    class Meta(StatusChange.Meta):
        indexes = [
            models.Index(fields=["return_request", "created_at"], name="return_change_return_idx")
        ]
