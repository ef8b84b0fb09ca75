"""python manage.py import_workspace acme.json (or < acme.json) [--slug acme-copy]: writes a
workspace from a backup of export_workspace under new ids, all or nothing."""

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pm_value.backup import BackupError, open_backup, workspace_import


class Command(BaseCommand):
    help = (
        "Restores a workspace from a file of export_workspace (a path, or standard input), "
        "into an empty database or beside other workspaces: new ids, people matched by "
        "e-mail address, in one transaction. Refuses a slug that exists; --slug imports "
        "a copy under another one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="The backup (gzip or not); default stdin.")
        parser.add_argument("--slug", help="Import under this slug instead (a copy).")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        try:
            if options["path"]:
                try:
                    handle = open_backup(options["path"])
                except OSError as exc:
                    raise CommandError(f"Cannot read {options['path']}: {exc.strerror}.") from None
                with handle:
                    result = workspace_import(lines=handle, slug=options["slug"])
            else:
                result = workspace_import(lines=sys.stdin, slug=options["slug"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        except UnicodeDecodeError:
            raise CommandError(
                "The backup is not UTF-8 text: it is not a file of export_workspace, or it "
                "is damaged. Nothing was imported."
            ) from None
        rows = sum(result.rows.values())
        self.stdout.write(
            f"Imported “{result.workspace.slug}” ({result.workspace.name}): {rows} rows in "
            f"{time.monotonic() - started:.1f} s; {result.rows.get('accounts.user', 0)} people "
            f"created, {result.users_matched} matched by e-mail address."
        )
        for note in result.notes:
            self.stdout.write(f"Note: {note}.")
