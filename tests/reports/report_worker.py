"""A real Celery worker process for tests/reports/test_report_worker.py.

    python tests/reports/report_worker.py <queue> [--slow <section key> <seconds>]
                                                  [--start-after <path>]

Consumes only `queue` (the report tasks are routed to it, also the retries and e-mails
this worker queues), with a solo pool, so a test can SIGKILL it mid-run. With --slow,
that section of every report first sleeps for the given seconds: the kill lands while the
run is being made. With --start-after, the worker loads everything, then waits for the
file to exist before it connects: a test can have a second worker ready to take over the
moment it wants one. The database, broker, lease and visibility timeout come from the
environment, as for any worker.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm_value.settings")

import django  # noqa: E402

django.setup()

from pm_value.celery import app  # noqa: E402
from reports import rendering, report_data, tasks  # noqa: E402, F401 — loaded before the wait


def slow_down(key: str, seconds: float) -> None:
    sections = list(report_data.SECTIONS)
    for n, (k, title, build) in enumerate(sections):
        if k == key:

            def slow(ctx: Any, build: Any = build) -> Any:
                time.sleep(seconds)
                return build(ctx)

            sections[n] = (k, title, slow)
    report_data.SECTIONS = sections


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("queue")
    parser.add_argument("--slow", nargs=2, metavar=("SECTION", "SECONDS"))
    parser.add_argument("--start-after", type=Path)
    args = parser.parse_args(argv)
    if args.slow:
        slow_down(args.slow[0], float(args.slow[1]))
    if args.start_after:
        while not args.start_after.exists():
            time.sleep(0.05)
    app.conf.task_routes = {"reports.tasks.*": {"queue": args.queue}}
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--concurrency=1",
            f"--queues={args.queue}",
            f"--hostname={args.queue}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1:])
