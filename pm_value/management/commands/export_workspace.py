"""python manage.py export_workspace acme > acme.json: one workspace, complete, as JSON
lines (pm_value/backup.py; the README's "Backups" says what it holds)."""

import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pm_value.backup import BackupError, workspace_export


class Command(BaseCommand):
    help = (
        "Writes one workspace with everything in it (its people with their password "
        "hashes, strategy, measurements, initiatives, history, reports and their files) as "
        "JSON lines, to standard output or --output. Keep the file as secret as the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The workspace, e.g. acme.")
        parser.add_argument("-o", "--output", help="A file to write instead of standard output.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        path = options["output"]
        try:
            if path:
                with open(path, "w", encoding="utf-8") as handle:
                    counts = workspace_export(slug=options["slug"], write=handle.write)
            else:
                counts = workspace_export(
                    slug=options["slug"], write=lambda chunk: self.stdout.write(chunk, ending="")
                )
                self.stdout.flush()
        except BackupError as exc:
            if path and os.path.exists(path):
                os.remove(path)  # no half a backup left to be mistaken for one
            raise CommandError(str(exc)) from None
        # On standard error (standard output is the backup), unstyled: it is no error.
        self.stderr.write(
            f"Exported “{options['slug']}”: {sum(counts.values())} rows of {len(counts)} "
            f"models in {time.monotonic() - started:.1f} s.",
            style_func=str,
        )
