"""python manage.py demo_data: the demo workspace "acme", its admin, its strategy (metrics
with two years of data, objectives and key results) and its initiatives and ideas with the
people who own, expect and vote them (initiatives/demo.py), if they do not exist.

Used by `make run`. Idempotent: run it again and it only prints the credentials. The
password is random, kept in var/demo-credentials.json (never committed)."""

import json
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Role, User, Workspace
from accounts.services import member_add, team_create, workspace_create
from initiatives.demo import seed_initiatives
from reports.demo import seed_reports
from strategy.demo import seed_strategy
from strategy.models import Metric
from strategy.services import workspace_today

DEMO_SLUG = "acme"
DEMO_EMAIL = "admin@acme.example"
DEMO_TEAMS = [
    ("Growth", "Acquisition and activation: sign-up to first value."),
    ("Core Product", "The analytics workspace customers live in every day."),
    ("Platform", "Reliability, performance and the cost to serve."),
]


class Command(BaseCommand):
    help = "Creates the demo workspace and an admin user if none exist, and prints how to log in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="URL to print.")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            if not Workspace.objects.filter(slug=DEMO_SLUG).exists():
                self._create_workspace()
            email, password = self._admin_credentials()
            self._seed_strategy()
            self._seed_initiatives()
        # Outside the transaction above: the reports' e-mails go out when theirs commits.
        seed_reports(
            workspace=Workspace.objects.get(slug=DEMO_SLUG),
            admin=User.objects.get(email=DEMO_EMAIL),
            say=self.stdout.write,
        )
        self.stdout.write(
            self.style.SUCCESS("PM Value demo is ready.")
            + f"\n  URL:      {options['url']}\n  E-mail:   {email}\n  Password: {password}\n"
        )

    def _create_workspace(self) -> None:
        workspace = workspace_create(
            slug=DEMO_SLUG,
            name="Acme Analytics",
            currency="EUR",
            timezone_name="Europe/Berlin",
            vision=(
                "Every company decides with its own numbers: self-serve analytics that "
                "a team trusts within a week of signing up."
            ),
        )
        for name, description in DEMO_TEAMS:
            team_create(workspace=workspace, name=name, description=description)
        self.stdout.write(f"Created the demo workspace “{workspace.name}”.")

    def _seed_strategy(self) -> None:
        """The demo strategy, once: a workspace that has metrics keeps what it has."""
        workspace = Workspace.objects.get(slug=DEMO_SLUG)
        if Metric.objects.filter(workspace=workspace).exists():
            return
        started = time.perf_counter()
        summary = seed_strategy(
            workspace=workspace,
            owner=User.objects.get(email=DEMO_EMAIL),
            today=workspace_today(workspace),
        )
        self.stdout.write(
            f"Created the demo strategy: {summary} ({time.perf_counter() - started:.1f} s)."
        )

    def _seed_initiatives(self) -> None:
        """The demo portfolio, once: a workspace that has initiatives keeps what it has."""
        workspace = Workspace.objects.get(slug=DEMO_SLUG)
        started = time.perf_counter()
        summary = seed_initiatives(
            workspace=workspace,
            admin=User.objects.get(email=DEMO_EMAIL),
            today=workspace_today(workspace),
        )
        if summary is not None:
            self.stdout.write(
                f"Created the demo initiatives: {summary} ({time.perf_counter() - started:.1f} s)."
            )

    def _admin_credentials(self) -> tuple[str, str]:
        """The demo admin's e-mail and password, (re)set so the printed password works."""
        path = settings.VAR_DIR / "demo-credentials.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if (
            user is not None
            and saved.get("email") == DEMO_EMAIL
            and user.check_password(saved.get("password", ""))
        ):
            return DEMO_EMAIL, saved["password"]
        password = secrets.token_urlsafe(12)
        workspace = Workspace.objects.get(slug=DEMO_SLUG)
        membership, _ = member_add(
            workspace=workspace, email=DEMO_EMAIL, role=Role.ADMIN, password=password
        )
        User.objects.filter(pk=membership.user_id).update(
            is_staff=True, is_superuser=True, full_name="Ada Admin"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"email": DEMO_EMAIL, "password": password}))
        path.chmod(0o600)
        return DEMO_EMAIL, password
