"""Read-only views of what the fake providers received and hold (demo and debugging)."""

from django.contrib import admin

from .models import (
    SandboxOrder,
    SandboxOrderItem,
    SandboxOrderStatusChange,
    SandboxReevooSubmission,
    SandboxRequest,
    SandboxReturn,
    SandboxReturnItem,
    SandboxReturnStatusChange,
    SandboxSendcloudOrder,
    SandboxShipupOrder,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SandboxRequest)
class SandboxRequestAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "method", "path", "response_status", "fault"]
    list_filter = ["provider", "method", "response_status"]
    search_fields = ["path"]


class SandboxOrderItemInline(ReadOnlyInline):
    model = SandboxOrderItem
    fields = ["sku", "qty", "config"]


class SandboxOrderStatusChangeInline(ReadOnlyInline):
    model = SandboxOrderStatusChange
    fields = ["at", "from_status", "to_status", "source", "message"]


@admin.register(SandboxOrder)
class SandboxOrderAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "reference", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["public_id", "reference"]
    inlines = [SandboxOrderItemInline, SandboxOrderStatusChangeInline]


class SandboxReturnItemInline(ReadOnlyInline):
    model = SandboxReturnItem
    fields = ["order_item", "quantity"]


class SandboxReturnStatusChangeInline(ReadOnlyInline):
    model = SandboxReturnStatusChange
    fields = ["at", "from_status", "to_status", "source", "message"]


@admin.register(SandboxReturn)
class SandboxReturnAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "order", "status", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["public_id", "order__public_id", "order__reference"]
    list_select_related = ["order"]
    inlines = [SandboxReturnItemInline, SandboxReturnStatusChangeInline]


@admin.register(SandboxSendcloudOrder)
class SandboxSendcloudOrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "order_id", "order_number", "integration_id", "modified_at"]
    search_fields = ["order_id", "order_number"]


@admin.register(SandboxShipupOrder)
class SandboxShipupOrderAdmin(ReadOnlyAdmin):
    list_display = ["merchant_id", "updated_at"]
    search_fields = ["merchant_id"]


@admin.register(SandboxReevooSubmission)
class SandboxReevooSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["request_id", "trkref", "order_ref", "received_at"]
    search_fields = ["order_ref", "request_id"]
