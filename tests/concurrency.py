"""Running a piece of work in several threads at once, for the tests that prove a row lock
or a constraint decides between concurrent requests (PostgreSQL, transaction=True)."""

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(job: Callable[[], T], times: int = 2, timeout: float = 60) -> list[T]:
    """Runs `job` in `times` threads released at the same moment; their results, in the
    order they finished. A thread's exception fails the caller. Each thread closes its own
    database connection."""
    barrier = threading.Barrier(times)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait(timeout)
            result = job()
            with lock:
                results.append(result)
        except BaseException as exc:  # noqa: BLE001 - raised again below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert errors == [], errors
    assert len(results) == times, "a thread did not finish in time"
    return results
