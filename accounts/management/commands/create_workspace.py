"""python manage.py create_workspace --slug acme --name "Acme" [--currency EUR]"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.commands._workspace_args import validation_message
from accounts.services import workspace_create


class Command(BaseCommand):
    help = "Creates a workspace (a tenant: a company or business unit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="Short name used in URLs, e.g. acme.")
        parser.add_argument("--name", required=True, help="Display name, e.g. “Acme Inc.”.")
        parser.add_argument("--currency", default="EUR", help="ISO 4217 code (default EUR).")
        parser.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC).")
        parser.add_argument("--vision", default="", help="The company vision, in a sentence.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            workspace = workspace_create(
                slug=options["slug"],
                name=options["name"],
                currency=options["currency"],
                timezone_name=options["timezone"],
                vision=options["vision"],
            )
        except ValidationError as exc:
            raise CommandError(f"Workspace not created: {validation_message(exc)}") from None
        self.stdout.write(
            f"Created workspace “{workspace.name}” ({workspace.slug}, {workspace.currency})."
        )
