"""What the fake providers received and the state they keep (docs/sandbox.md)."""

import secrets
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class Provider(models.TextChoices):
    THIRTYFIVEUP = "35up", "35up"
    SENDCLOUD = "sendcloud", "Sendcloud"
    SHIPUP = "shipup", "Shipup"
    REEVOO = "reevoo", "Reevoo"


def new_public_id():
    """35up-style id, e.g. "42CA346434"."""
    return secrets.token_hex(5).upper()


class SandboxRequest(models.Model):
    """One request a fake provider received, with its answer. Headers are an allowlist; the
    Authorization and Cookie headers are stored as "[redacted]", never their value."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2000)
    headers = models.JSONField(default=dict)
    body = models.JSONField(null=True, blank=True)
    # A body that is not JSON, as received (cut at 10,000 characters).
    body_text = models.TextField(blank=True)
    fault = models.CharField(max_length=64, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["provider", "received_at"])]

    def __str__(self):
        return f"{self.provider} {self.method} {self.path} -> {self.response_status}"


class SandboxOrder(models.Model):
    """An order placed with the fake 35up."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        PROCESSING = "processing"
        FULFILLED = "fulfilled"
        DELIVERED = "delivered"
        PENDING_CANCELLATION = "pending_cancellation"
        CANCELLED = "cancelled"
        CLOSED = "closed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id)
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    session = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    customer = models.JSONField(default=dict)
    shipping_address = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.public_id} ({self.status})"

    def move_to(self, status, *, source, message="", at=None):
        at = at or timezone.now()
        self.history.create(
            from_status=self.status, to_status=status, source=source, message=message, at=at
        )
        self.status = status
        self.updated_at = at
        self.save(update_fields=["status", "updated_at"])


class SandboxOrderItem(models.Model):
    """One item of a 35up order: the vendor part that returns refer to by itemId."""

    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=255)
    qty = models.PositiveIntegerField()
    config = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.item_id} {self.sku} x{self.qty}"

    @property
    def item_id(self):
        # Digits like 35up's "412412", unique because the primary key is.
        return str(100_000 + self.pk)


class SandboxOrderStatusChange(models.Model):
    class Source(models.TextChoices):
        PLACED = "placed"
        PATCH = "patch"
        TIME = "time"
        CONTROL = "control"

    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    source = models.CharField(max_length=16, choices=Source.choices)
    message = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status} ({self.source})"


class SandboxReturn(models.Model):
    """A return requested from the fake 35up."""

    class Status(models.TextChoices):
        CREATED = "created"
        REJECTED = "rejected"
        AWAITING_RETURN = "awaiting_return"
        EXPIRED = "expired"
        CUSTOMER_SHIPPED = "customer_shipped"
        SELLER_RECEIVED = "seller_received"
        SELLER_SHIPPED = "seller_shipped"
        VENDOR_RECEIVED = "vendor_received"
        VOIDED = "voided"
        CONFIRMED = "confirmed"
        NOT_CONFIRMED = "not_confirmed"
        AWAITING_REFUND = "awaiting_refund"
        REFUNDED = "refunded"
        AWAITING_DISPUTE = "awaiting_dispute"
        CANCELLED = "cancelled"
        CLOSED = "closed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id)
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.public_id} ({self.status})"

    def move_to(self, status, *, source, message="", at=None):
        at = at or timezone.now()
        self.history.create(
            from_status=self.status, to_status=status, source=source, message=message, at=at
        )
        self.status = status
        self.updated_at = at
        self.save(update_fields=["status", "updated_at"])


class SandboxReturnStatusChange(models.Model):
    class Source(models.TextChoices):
        REQUESTED = "requested"
        PATCH = "patch"
        TIME = "time"
        CONTROL = "control"

    sandbox_return = models.ForeignKey(
        SandboxReturn, on_delete=models.CASCADE, related_name="history"
    )
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    source = models.CharField(max_length=16, choices=Source.choices)
    message = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status} ({self.source})"


class SandboxReturnItem(models.Model):
    sandbox_return = models.ForeignKey(
        SandboxReturn, on_delete=models.CASCADE, related_name="items"
    )
    order_item = models.ForeignKey(SandboxOrderItem, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.order_item.item_id} x{self.quantity}"


class SandboxSendcloudOrder(models.Model):
    """An order uploaded to the fake Sendcloud; order_id + integration id is the upsert key."""

    integration_id = models.BigIntegerField()
    order_id = models.CharField(max_length=255)
    order_number = models.CharField(max_length=255)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration_id", "order_id"], name="sandbox_sendcloud_order_unique"
            )
        ]

    def __str__(self):
        return f"{self.order_id} (integration {self.integration_id})"


class SandboxShipupOrder(models.Model):
    """An order as the fake Shipup holds it after every upsert was merged in."""

    merchant_id = models.CharField(max_length=255, unique=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.merchant_id


class SandboxReevooSubmission(models.Model):
    """A customer order accepted by the fake Reevoo; every submission is kept (no upsert)."""

    request_id = models.UUIDField(unique=True, default=uuid.uuid4)
    trkref = models.CharField(max_length=64)
    order_ref = models.CharField(max_length=255, db_index=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.trkref}/{self.order_ref} {self.request_id}"


def _rate_field():
    return models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )


class SandboxFaults(models.Model):
    """The fault configuration every fake provider reads on each request (one row, pk 1).

    Rates are probabilities per request, drawn from one random.Random seeded with `seed`
    (reseeded whenever the configuration is saved), so a seeded run is reproducible. `queue`
    holds faults to inject next, in order: [{"fault": "503", "provider": "35up"}, ...].
    `ignore_list_filters` makes the list endpoints keep only the filters the providers'
    documents promise, and `omit_order_returns` drops the `returns` 35up's documents do not
    promise on an order, so that the hub is tested against what it may rely on.
    """

    error_rate = _rate_field()
    timeout_rate = _rate_field()
    rate_limit_rate = _rate_field()
    drop_rate = _rate_field()
    latency_ms = models.PositiveIntegerField(default=0)
    retry_after_seconds = models.PositiveIntegerField(default=1)
    # None: the hub's read timeout plus one second, so the client gives up first.
    timeout_seconds = models.FloatField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    queue = models.JSONField(default=list, blank=True)
    # On: 35up's GET /orders ignores reference and status, Sendcloud's GET /orders/ ignores
    # order_id and order_number; pagination still applies (docs/sandbox.md).
    ignore_list_filters = models.BooleanField(default=False)
    # On: 35up's GET /orders/{id} (and its list) carries no `returns` key, as its documents
    # allow: the hub must leave an ambiguous return request to a person (docs/sandbox.md).
    omit_order_returns = models.BooleanField(default=False)
    configured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "sandbox faults"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="sandbox_faults_singleton"),
        ]

    def __str__(self):
        return "Sandbox faults"

    @classmethod
    def load(cls):
        faults, _ = cls.objects.get_or_create(pk=1)
        return faults
