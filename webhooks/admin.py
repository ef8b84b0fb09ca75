"""Django admin of webhooks: read mostly; deliveries are written by the services only."""

from django.contrib import admin

from webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "workspace", "active", "disabled_at", "created_at"]
    list_filter = ["active", "workspace"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "disabled_at", "disabled_reason", "failing_since", "created_at"]
    raw_id_fields = ["created_by"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "endpoint", "status", "attempts", "response_code", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["event_id"]
    raw_id_fields = ["endpoint"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
