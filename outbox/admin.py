import json
from functools import partial

from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.admin import ListParametersMixin
from core.paginator import CappedCountPaginator
from outbox import registry, services
from outbox.models import Delivery
from outbox.selectors import SITUATIONS

# By Delivery.state_css: a state, "retrying", or why a failed delivery failed.
STATE_COLOURS = {
    "queued": "#6c757d",
    "sending": "#0d6efd",
    "succeeded": "#198754",
    "retrying": "#b35c00",
    "refused": "#dc3545",
    "invalid": "#a4373a",
    "internal": "#6f42c1",
    "given_up": "#495057",
    "failed": "#dc3545",
    "dead": "#842029",
    "ambiguous": "#fd7e14",
}


class SituationFilter(admin.SimpleListFilter):
    """What happened, the way the admin index counts the deliveries that need a person."""

    title = "what happened"
    parameter_name = "situation"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in SITUATIONS.items()]

    def queryset(self, request, queryset):
        if self.value() in SITUATIONS:
            return queryset.filter(SITUATIONS[self.value()][1])
        return queryset


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return [(provider, registry.provider_label(provider)) for provider in registry.providers()]

    def queryset(self, request, queryset):
        if self.value() in registry.providers():
            return queryset.filter(provider=self.value())
        return queryset


class OperationFilter(admin.SimpleListFilter):
    title = "operation"
    parameter_name = "operation"

    def lookups(self, request, model_admin):
        labels = {}
        for spec in registry.specs():
            labels.setdefault(spec.operation, spec.label)
        return sorted(labels.items())

    def queryset(self, request, queryset):
        if self.value() in {spec.operation for spec in registry.specs()}:
            return queryset.filter(operation=self.value())
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(ListParametersMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "provider_label",
        "operation_label",
        "subject_link",
        "state_badge",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "duration_ms",
        "created_at",
    ]
    list_filter = [SituationFilter, "state", ProviderFilter, OperationFilter]
    # The order and return pages link to the deliveries of one subject and provider.
    extra_list_parameters = ("subject_type__exact", "subject_id__exact", "provider__exact")
    search_fields = ["target__exact"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["retry_now", "send_again_checked_absent", "give_up", "acknowledge"]
    readonly_fields = [
        "provider_label",
        "operation_label",
        "subject_link",
        "target",
        "state_badge",
        "attempts",
        "next_attempt_at",
        "settled_by",
        "settled_at",
        "lease_expires_at",
        "may_have_reached",
        "last_status_code",
        "duration_ms",
        "error",
        "pretty_payload",
        "pretty_request",
        "response_body",
        "created_by",
        "created_at",
        "updated_at",
        "finished_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("outbox.retry_delivery")

    @admin.display(description="provider", ordering="provider")
    def provider_label(self, delivery):
        return delivery.provider_label

    @admin.display(description="operation", ordering="operation")
    def operation_label(self, delivery):
        return delivery.operation_label

    @admin.display(description="about", ordering="target")
    def subject_link(self, delivery):
        """The subject's admin page, named by the delivery's target (no query per row)."""
        app_label, _, model_name = delivery.subject_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[delivery.subject_id])
        except NoReverseMatch:
            return delivery.target
        return format_html('<a href="{}">{}</a>', url, delivery.target)

    @admin.display(description="state", ordering="state")
    def state_badge(self, delivery):
        return format_html(
            '<span class="delivery-state delivery-state--{}" '
            'style="background:{};color:#fff;padding:2px 8px;border-radius:8px">{}</span>',
            delivery.state_css,
            STATE_COLOURS.get(delivery.state_css, "#6c757d"),
            delivery.state_label,
        )

    @admin.display(description="payload")
    def pretty_payload(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(delivery.payload, indent=2))

    @admin.display(description="request (Authorization redacted)")
    def pretty_request(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(delivery.request, indent=2))

    @admin.action(description="Retry selected deliveries now", permissions=["retry"])
    def retry_now(self, request, queryset):
        self._report(
            request, queryset, services.retry_now, "queued again", "not dead, failed or ambiguous"
        )

    @admin.action(
        description="Send again without looking: I checked, the provider does not have it",
        permissions=["retry"],
    )
    def send_again_checked_absent(self, request, queryset):
        self._report(
            request,
            queryset,
            partial(services.retry_now, checked_absent=True),
            "queued to be sent again without looking at the provider first",
            "not dead, failed or ambiguous",
        )

    @admin.action(description="Give up selected deliveries", permissions=["retry"])
    def give_up(self, request, queryset):
        self._report(
            request,
            queryset,
            services.give_up,
            "given up",
            "already finished (acknowledge a failure instead) or sending",
        )

    @admin.action(
        description="Acknowledge selected failures (read and dealt with)", permissions=["retry"]
    )
    def acknowledge(self, request, queryset):
        self._report(
            request,
            queryset,
            services.acknowledge,
            "acknowledged; it no longer needs a person",
            "not failed, or already given up or acknowledged",
        )

    def _report(self, request, queryset, service, done, refused):
        for delivery in queryset:
            if service(delivery_id=delivery.pk, actor_label=request.user.get_username()):
                self.message_user(request, f"Delivery #{delivery.pk}: {done}.", messages.SUCCESS)
            else:
                message = f"Delivery #{delivery.pk}: {refused}; left as it was."
                self.message_user(request, message, messages.WARNING)
