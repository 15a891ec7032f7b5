"""What the hub keeps about its providers: each provider's answer per order, and the shared
rate-limiter state when no Redis is configured."""

from django.db import models

from integrations.providers import Provider


class ProviderLink(models.Model):
    """The order as a provider knows it: its id there, the last answer and the last failure."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="provider_links"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    remote_id = models.CharField(max_length=100, blank=True, help_text="The provider's own id.")
    remote_status = models.CharField(max_length=64, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Empty once a later call succeeded.")

    class Meta:
        ordering = ["order", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "provider"], name="providerlink_unique_order_provider"
            )
        ]

    def __str__(self):
        return f"{self.order} at {self.get_provider_display()}"


class RateLimitLog(models.Model):
    """Recent request times (epoch seconds, ascending) of one provider and kind."""

    key = models.CharField(max_length=64, unique=True)
    hits = models.JSONField(default=list)

    def __str__(self):
        return self.key
