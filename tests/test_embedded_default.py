"""The embedded default, as a newcomer runs it (`make run`): no service, no variable.

migrate, demo_data, runserver in real processes on a fresh VAR_DIR; then a plain HTTP
client checks the health endpoint and logs in with the printed credentials.
"""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest

REPO = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 20

# Variables that would point the embedded default at a real service or production mode.
STRIPPED = {"DATABASE_URL", "CACHE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "VAR_DIR"}


@dataclass(frozen=True)
class Install:
    env: dict[str, str]
    var_dir: Path
    email: str
    password: str


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in STRIPPED and not key.startswith("CELERY_")
    }
    return {**env, "VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "pm_value.settings"}


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def printed_credentials(stdout: str) -> tuple[str, str]:
    email = re.search(r"^\s*E-mail:\s+(\S+)\s*$", stdout, re.MULTILINE)
    password = re.search(r"^\s*Password:\s+(\S+)\s*$", stdout, re.MULTILINE)
    assert email is not None, stdout
    assert password is not None, stdout
    return email.group(1), password.group(1)


def workspace_slugs(var_dir: Path) -> list[str]:
    with sqlite3.connect(var_dir / "db.sqlite3") as db:
        return [slug for (slug,) in db.execute("SELECT slug FROM accounts_workspace")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    """A fresh embedded install: `migrate`, then `demo_data`, as `make run` does."""
    var_dir = tmp_path_factory.mktemp("var")
    env = embedded_env(var_dir)
    manage(env, "migrate", "--noinput")
    email, password = printed_credentials(manage(env, "demo_data"))
    return Install(env=env, var_dir=var_dir, email=email, password=password)


@pytest.fixture
def server(install: Install, tmp_path: Path) -> Iterator[str]:
    """`manage.py runserver` on a free port; its base URL once it answers."""
    port = free_port()
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO,
            env=install.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"runserver did not answer:\n{log.read_text()}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_newcomer_logs_in_to_the_demo_workspace(install: Install, server: str) -> None:
    # Given the embedded install running, and a browser-like client that keeps cookies
    assert install.email == "admin@acme.example"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    # When the health endpoint is asked
    with opener.open(f"{server}/healthz", timeout=10) as response:
        status, health = response.status, json.loads(response.read())

    # Then everything is up, with tasks running in process (no broker)
    assert status == 200
    assert health["status"] == "ok"
    assert health["database"]["vendor"] == "sqlite"
    assert "in-process" in health["broker"]["transport"]

    # When the newcomer opens the login page
    with opener.open(f"{server}/accounts/login/", timeout=10) as response:
        status, page = response.status, response.read().decode()

    # Then it invites them to log in
    assert status == 200
    assert "Log in to PM Value" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None, page

    # When they log in with the credentials demo_data printed
    form = urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": install.email,
            "password": install.password,
        }
    ).encode()
    with opener.open(f"{server}/accounts/login/", data=form, timeout=10) as response:
        final_url, page = response.geturl(), response.read().decode()

    # Then they are on the demo workspace's home
    assert final_url == f"{server}/w/acme/"
    assert "Acme Analytics" in page
    assert "Log in to PM Value" not in page


def test_demo_data_again_keeps_the_password_and_the_workspace(install: Install) -> None:
    # Given an install where demo_data already ran once
    assert workspace_slugs(install.var_dir) == ["acme"]

    # When `make run` runs demo_data again
    stdout = manage(install.env, "demo_data")

    # Then it prints the same credentials and creates no second workspace
    assert printed_credentials(stdout) == (install.email, install.password)
    assert "Created the demo workspace" not in stdout
    assert workspace_slugs(install.var_dir) == ["acme"]
