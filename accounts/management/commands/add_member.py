"""python manage.py add_member --workspace acme --email a@example.com --role admin [--password …]"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.commands._workspace_args import validation_message, workspace_by_slug
from accounts.models import Role
from accounts.services import member_add


class Command(BaseCommand):
    help = "Adds a user to a workspace with a role (creates the user if needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace slug.")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}.")
        parser.add_argument(
            "--password", help="Sets the user's password (at least 12 characters, not common)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"].strip().lower()
        if role not in Role.values:
            raise CommandError(
                f"“{options['role']}” is not a role; use one of: {', '.join(Role.values)}."
            )
        workspace = workspace_by_slug(options["workspace"])
        try:
            membership, created = member_add(
                workspace=workspace, email=options["email"], role=role, password=options["password"]
            )
        except ValidationError as exc:
            raise CommandError(f"Member not added: {validation_message(exc)}") from None
        verb = "Added" if created else "Updated"
        self.stdout.write(
            f"{verb} {membership.user.email} as {membership.role} of {workspace.slug}."
        )
