"""Django admin for share links: to see and revoke them; they are created on the
dashboard's Share links page, where their address is shown."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from reports.models import ShareLink
from reports.services import share_link_revoke


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "workspace",
        "team",
        "objective",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "use_count",
    ]
    list_filter = ["workspace"]
    list_select_related = ["workspace", "team", "objective", "created_by"]
    search_fields = ["label", "workspace__name"]
    readonly_fields = [
        "workspace",
        "team",
        "objective",
        "nonce",
        "created_by",
        "created_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
        "use_count",
    ]
    fields = ["label", "expires_at", *readonly_fields]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected share links")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        for link in queryset.filter(revoked_at__isnull=True):
            share_link_revoke(link=link, by=request.user)  # type: ignore[arg-type]
        messages.success(request, "The selected share links are revoked.")
