"""Settings from the environment: production passes Django's deploy checks, refuses to
start half-configured, and the embedded default runs with nothing set.

Each case runs in a fresh Python process: settings are read once, at import.
"""

import json
import os
import re
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Every variable pm_value/settings.py reads (found in its text, so a new one cannot be
# missed): the parent's values (DATABASE_URL and
# CELERY_BROKER_URL in CI) must not leak into the environment under test.
SETTINGS_VARS = set(
    re.findall(
        r'env(?:\.[a-z_]+)?\(\s*"([A-Z][A-Z0-9_]*)"', (REPO / "pm_value/settings.py").read_text()
    )
)


def clean_env(**variables: str) -> dict[str, str]:
    """The parent's environment without any PM Value setting, plus these variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARS and not key.startswith("CELERY_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "pm_value.settings"
    return {**env, **variables}


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + string.punctuation.replace("$", "")
    return "".join(secrets.choice(alphabet) for _ in range(64))


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = clean_env(
        DEBUG="false",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="pm.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        VAR_DIR=str(tmp_path),
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value != ""}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_as_json(env: dict[str, str], names: list[str]) -> dict[str, object]:
    """These settings as a fresh process with this environment sees them."""
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


def test_production_settings_pass_the_deploy_checks(tmp_path: Path) -> None:
    # Given a production environment: DEBUG off, a strong key, the public host name
    env = production_env(tmp_path)

    # When the operator runs Django's deployment checklist, failing on any warning
    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    # Then nothing is reported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    # Given DEBUG off and no SECRET_KEY
    env = production_env(tmp_path, SECRET_KEY="")

    # When any management command starts
    result = manage(env, "check")

    # Then it stops and says which variable is missing
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path: Path) -> None:
    # Given DEBUG off and a key too short to be random enough
    env = production_env(tmp_path, SECRET_KEY="x" * 49)

    # When any management command starts
    result = manage(env, "check")

    # Then it stops and names SECRET_KEY
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path: Path) -> None:
    # Given DEBUG off, a good key, but no ALLOWED_HOSTS
    env = production_env(tmp_path, ALLOWED_HOSTS="")

    # When any management command starts
    result = manage(env, "check")

    # Then it stops and says which variable is missing
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list" in result.stderr
    assert "SECRET_KEY" not in result.stderr


def test_production_turns_on_every_security_setting(tmp_path: Path) -> None:
    # Given a production environment
    env = production_env(tmp_path)

    # When the settings are loaded
    values = settings_as_json(
        env,
        [
            "DEBUG",
            "SECURE_HSTS_SECONDS",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_SSL_REDIRECT",
            "SECURE_PROXY_SSL_HEADER",
            "STORAGES",
            "ALLOWED_HOSTS",
        ],
    )

    # Then HTTPS is enforced for a year, cookies only travel over it, the proxy's header
    # is trusted, and static files are hashed and compressed
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] == 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    storages = values["STORAGES"]
    assert isinstance(storages, dict)
    assert (
        storages["staticfiles"]["BACKEND"]
        == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert values["ALLOWED_HOSTS"] == ["pm.example.com"]


@pytest.mark.parametrize("debug", [None, "true"], ids=["no-variables", "debug-true"])
def test_embedded_default_needs_no_service(tmp_path: Path, debug: str | None) -> None:
    # Given no variable at all (or only DEBUG=true), and a fresh directory for state
    env = clean_env(VAR_DIR=str(tmp_path))
    if debug is not None:
        env["DEBUG"] = debug

    # When the settings are loaded
    values = settings_as_json(
        env,
        [
            "DEBUG",
            "DATABASES",
            "CELERY_BROKER_URL",
            "CELERY_TASK_ALWAYS_EAGER",
            "EMAIL_BACKEND",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
        ],
    )

    # Then it runs on a SQLite file under VAR_DIR, tasks in process, e-mail to the console
    assert values["DEBUG"] is True
    databases = values["DATABASES"]
    assert isinstance(databases, dict)
    assert databases["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert databases["default"]["NAME"] == str(tmp_path / "db.sqlite3")
    assert values["CELERY_BROKER_URL"] == ""
    assert values["CELERY_TASK_ALWAYS_EAGER"] is True
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    # And plain HTTP works on a laptop
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    # And the development secret key was generated there, not committed
    assert len((tmp_path / "dev-secret-key").read_text().strip()) >= 50
