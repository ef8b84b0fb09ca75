"""python manage.py create_api_token --workspace acme --email a@example.com [--read-only]

Prints only the key, so it can be captured: KEY=$(python manage.py create_api_token …)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.management.commands._workspace_args import workspace_by_slug
from accounts.models import Membership
from accounts.services import api_token_create


class Command(BaseCommand):
    help = "Creates an API token for a member of a workspace and prints its key (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace slug.")
        parser.add_argument("--email", required=True, help="The member the token acts as.")
        parser.add_argument("--read-only", action="store_true", help="The token can only read.")
        parser.add_argument("--name", default="", help="What the token is for, e.g. “BI export”.")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="The token stops working after this many days (default: until revoked).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = workspace_by_slug(options["workspace"])
        email = options["email"].strip().lower()
        membership = (
            Membership.objects.select_related("user")
            .filter(workspace=workspace, user__email__iexact=email)
            .first()
        )
        if membership is None:
            raise CommandError(
                f"{email} is not a member of {workspace.slug}. Add them first with: "
                f"python manage.py add_member --workspace {workspace.slug} --email {email} --role …"
            )
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        _, key = api_token_create(
            membership=membership,
            name=options["name"],
            read_only=options["read_only"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        self.stdout.write(key)
