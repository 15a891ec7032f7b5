"""The outbox: one Delivery row per provider call, written in the same transaction as the change
that needs it, sent by a worker after commit (DESIGN.md "Reliable delivery")."""

from django.db import models
from django.utils import timezone

from integrations.http import Provider


class Operation(models.TextChoices):
    PLACE_ORDER = "place_order", "Place order (POST /orders)"
    UPDATE_ORDER_STATUS = "update_order_status", "Update order status (PATCH /orders/{id})"
    PUSH_ORDER = "push_order", "Create or update order"
    SUBMIT_ORDER = "submit_order", "Submit customer order"


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (refused by the provider)"
    DEAD = "dead", "Dead (out of attempts)"
    AMBIGUOUS = "ambiguous", "Ambiguous (sent, answer lost)"


# Operations that must never be repeated blindly: a lost answer makes the delivery ambiguous.
UNSAFE_TO_REPEAT = {
    (Provider.THIRTYFIVEUP, Operation.PLACE_ORDER),
    (Provider.REEVOO, Operation.SUBMIT_ORDER),
}


def blocking_states(provider):
    """States of an earlier delivery that hold back a later one for the same order and provider.

    35up calls build on each other (a PATCH needs the order the POST created, two PATCHes must land
    in order), so a later call waits until each earlier one succeeded, was refused or was given up.
    Sendcloud, Shipup and Reevoo take whole-order upserts built at send time: only one is in flight
    at a time, so an older state never overwrites a newer one.
    """
    if provider == Provider.THIRTYFIVEUP:
        return [
            DeliveryState.QUEUED,
            DeliveryState.SENDING,
            DeliveryState.AMBIGUOUS,
            DeliveryState.DEAD,
        ]
    return [DeliveryState.QUEUED, DeliveryState.SENDING]


class Delivery(models.Model):
    provider = models.CharField(max_length=16, choices=Provider.choices)
    operation = models.CharField(max_length=32, choices=Operation.choices)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="deliveries", null=True
    )
    target = models.CharField(max_length=100, help_text="What the call is about (reference, id).")
    payload = models.JSONField(default=dict, blank=True, help_text="Arguments of the operation.")
    state = models.CharField(
        max_length=16, choices=DeliveryState.choices, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    call_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current attempt's call went out, if it did."
    )
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    request = models.JSONField(
        default=dict, blank=True, help_text="Last request sent (Authorization redacted)."
    )
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["order", "provider", "id"], name="delivery_order_idx"),
            models.Index(fields=["provider", "state"], name="delivery_provider_state_idx"),
        ]
        permissions = [
            ("retry_delivery", "Can retry or give up deliveries"),
            ("push_order", "Can send orders to providers by hand"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.provider} {self.operation} {self.target}"

    @property
    def unsafe_to_repeat(self):
        return (self.provider, self.operation) in UNSAFE_TO_REPEAT
