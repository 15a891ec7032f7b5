"""The outbox: one Delivery row per provider call, written in the same transaction as the change
that needs it, sent by a worker after commit (DESIGN.md "Reliable delivery").

The outbox names no provider and no domain: a delivery's provider and operation are keys of the
registry (outbox.registry) that the integrations fill, and its subject is any model row, kept as
its model label ("orders.order") and primary key.
"""

from datetime import UTC

from django.db import models
from django.utils import timezone

from outbox import registry


class DeliveryState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    # Why it failed is the delivery's `failure`.
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead (out of attempts)"
    AMBIGUOUS = "ambiguous", "Ambiguous (sent, answer lost)"


class DeliveryFailure(models.TextChoices):
    """Why a delivery is failed: what a person reads, and whether one has to act."""

    REFUSED = "refused", "Refused by the provider"
    INVALID = "invalid", "Not sent: invalid for the provider"
    INTERNAL = "internal", "Failed in the hub"
    GIVEN_UP = "given_up", "Given up by a person"


# Deliveries that wait for a person: out of attempts, outcome unknown, or failed and nobody has
# given them up or acknowledged them yet (a person settles them: `settled_at`).
NEEDS_A_PERSON = models.Q(state__in=["dead", "ambiguous"]) | models.Q(
    state="failed", settled_at__isnull=True
)


# An earlier delivery of the same sequence in one of these states holds a later one back.
IN_FLIGHT_STATES = [DeliveryState.QUEUED, DeliveryState.SENDING]
# ... and, for a strict sequence (each call builds on the one before), also these: a later call
# waits until each earlier one succeeded, was refused or was given up by a person.
UNSETTLED_STATES = [*IN_FLIGHT_STATES, DeliveryState.AMBIGUOUS, DeliveryState.DEAD]


class Delivery(models.Model):
    provider = models.CharField(max_length=16)
    operation = models.CharField(max_length=32)
    subject_type = models.CharField(
        max_length=64, help_text="Model label of what the call is about, e.g. orders.order."
    )
    subject_id = models.BigIntegerField()
    sequence_key = models.CharField(
        max_length=120, help_text="Deliveries with the same key go out in the order written."
    )
    sequence_strict = models.BooleanField(
        default=False, help_text="Waits for earlier ones to be settled, not only sent."
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
    may_have_reached = models.BooleanField(
        default=False,
        help_text="An earlier attempt may have reached the provider (server error, lost answer, "
        "worker stopped mid-call): an unsafe operation looks at the provider before it is sent "
        "again.",
    )
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    request = models.JSONField(
        default=dict, blank=True, help_text="Last request sent (Authorization redacted)."
    )
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)
    failure = models.CharField(
        max_length=16, choices=DeliveryFailure.choices, blank=True, help_text="Why it failed."
    )
    settled_by = models.CharField(
        max_length=150, blank=True, help_text="The person who gave it up or acknowledged it."
    )
    settled_at = models.DateTimeField(null=True, blank=True)
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
            models.Index(
                fields=["subject_type", "subject_id", "provider", "id"],
                name="delivery_subject_idx",
            ),
            models.Index(fields=["sequence_key", "id"], name="delivery_sequence_idx"),
            models.Index(fields=["provider", "state"], name="delivery_provider_state_idx"),
            models.Index(
                fields=["subject_type", "subject_id"],
                condition=NEEDS_A_PERSON,
                name="delivery_needs_person_idx",
            ),
        ]
        permissions = [
            ("retry_delivery", "Can retry or give up deliveries"),
            ("push_order", "Can send orders to providers by hand"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.provider} {self.operation} {self.target}"

    @property
    def provider_label(self):
        return registry.provider_label(self.provider)

    @property
    def operation_label(self):
        return registry.operation_label(self.provider, self.operation)

    @property
    def unsafe_to_repeat(self):
        return registry.spec_for(self.provider, self.operation).unsafe_to_repeat

    @property
    def needs_a_person(self):
        """NEEDS_A_PERSON for a row already read (tests/outbox keep the two in agreement)."""
        if self.state in (DeliveryState.DEAD, DeliveryState.AMBIGUOUS):
            return True
        return self.state == DeliveryState.FAILED and self.settled_at is None

    @property
    def state_label(self):
        """What happened, in words: who refused it, why it was not sent, who gave it up, when
        the next attempt goes out."""
        if self.state == DeliveryState.QUEUED and self.attempts and self.error:
            return (
                f"Retrying (attempt {self.attempts + 1}, next at "
                f"{self.next_attempt_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
            )
        if self.state != DeliveryState.FAILED:
            return self.get_state_display()
        if self.failure == DeliveryFailure.GIVEN_UP:
            return f"Given up by {self.settled_by or 'a person'}"
        label = {
            DeliveryFailure.REFUSED: f"Refused by {self.provider_label}",
            DeliveryFailure.INVALID: f"Not sent: invalid for {self.provider_label}",
            DeliveryFailure.INTERNAL: "Failed in the hub",
        }.get(self.failure, self.get_state_display())
        if self.settled_at:
            return f"{label} (acknowledged by {self.settled_by or 'a person'})"
        return label

    @property
    def state_css(self):
        """The badge's class: retrying and each kind of failure look different."""
        if self.state == DeliveryState.QUEUED and self.attempts and self.error:
            return "retrying"
        if self.state == DeliveryState.FAILED:
            return self.failure or "failed"
        return self.state
