"""Django settings for PM Value, read from the environment (see README "Configuration").

With no variable set, PM Value runs embedded: a SQLite file under var/, Celery tasks in
process, e-mail to the console, DEBUG on. With DEBUG off it refuses to start without
SECRET_KEY and ALLOWED_HOSTS and turns on every production security setting.
"""

import base64
import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# Only the process environment: a .env file is docker compose's business, so a checkout
# with one behaves the same under `make run` and `make test`.
env = environ.Env()

# Where the embedded default keeps its state (SQLite file, dev secret, demo credentials).
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)


def _dev_secret_key() -> str:
    """A per-checkout random key for DEBUG mode, so no key is ever committed."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key()
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off."
        )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list the host names PM Value answers to when DEBUG is off."
        )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "axes",
    "pm_value",
    "accounts",
    "strategy",
    "initiatives",
    "reports",
    "webhooks",
]

MIDDLEWARE = [
    # First, so their headers also go with the 413 refusals of the size limit (which
    # reads no body either) and with every other middleware's early answer.
    "pm_value.security.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "pm_value.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Keeps the request for the audit trail (accounts/audit.py): who acts, from where.
    "accounts.audit.AuditContextMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pm_value.urls"
WSGI_APPLICATION = "pm_value.wsgi.application"
ASGI_APPLICATION = "pm_value.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.workspaces",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (runserver, the live test server) share the file: wait, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (DRF throttling counts live here; use Redis when several processes serve) ---
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://pm-value")}

# --- Accounts and passwords ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:root"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=12)
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "accounts.signin.LoginAttemptsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout (accounts/signin.py): after LOGIN_FAILURE_LIMIT failures for one account
# (from any address) or from one address (for any accounts), sign-in is refused for
# LOGIN_COOLOFF_MINUTES, counted from the last failure.
# A password reset link works once, for this long; a stranger cannot fill an inbox.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_HOURS", default=2) * 3600
PASSWORD_RESET_PER_HOUR = env.int("PASSWORD_RESET_PER_HOUR", default=5)
# How long the link of an invitation to a workspace works.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.signin.login_username"
AXES_CLIENT_IP_CALLABLE = "accounts.audit.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.signin.locked_out"
# Proxies in front of the app that append the client's address to X-Forwarded-For (0: the
# app is reached directly and REMOTE_ADDR is the client). Lockouts and the audit trail
# read the address through it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain files in DEBUG and tests, which
        # run without collectstatic.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
# In DEBUG (and tests) WhiteNoise serves straight from the app and static directories.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# --- Request limits -----------------------------------------------------------------------
# A list of 10,000 measurements is about 0.7 MB of JSON; 5 MB leaves room, no more.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_REQUEST_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- E-mail -----------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PM Value <pm-value@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where people reach the app: the links in e-mails, sent by a worker with no request to
# take the host from, start with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call then answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "pm_value.api.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Anonymous calls by address, browser sessions by user, API tokens each by token.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "accounts.throttling.SessionUserRateThrottle",
        "accounts.throttling.TokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="2000/minute"),
        "token": env.str("API_THROTTLE_TOKEN", default="2000/minute"),
    },
    # The anonymous budget is per address: read it as accounts.audit.client_ip does (DRF's
    # default, None, would trust any X-Forwarded-For a client sends).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "pm_value.api.errors.exception_handler",
    "NON_FIELD_ERRORS_KEY": "detail",
    "DEFAULT_SCHEMA_CLASS": "pm_value.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PM Value API",
    "DESCRIPTION": (
        "Business metrics, strategy and initiatives of a PM Value workspace. "
        "Authenticate with `Authorization: Token <key>` (create a key with "
        "`python manage.py create_api_token`) or a browser session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags by resource ("teams", "me"), not by the common /api/v1/workspaces/{slug} prefix.
    "SCHEMA_PATH_PREFIX": r"/api/v1(/workspaces/\{workspace_slug\})?",
    # Choice sets that share a field name get a name of their own, not a numbered one.
    "ENUM_NAME_OVERRIDES": {"WebhookDeliveryStatusEnum": "webhooks.models.DeliveryStatus"},
}

# --- Celery -----------------------------------------------------------------------------
# Every Celery setting lives under the CELERY_ namespace (pm_value/celery.py); a test
# reads them back from the app so a misspelled name cannot pass silently.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
# No broker configured: the embedded default runs every task in process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# An unacknowledged task returns to the queue after this long. It must exceed the hard
# time limit plus the longest retry countdown, or a slow task would run twice.
_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": _VISIBILITY_TIMEOUT}
# Hourly, so every workspace is served within the hour after its own midnight. A run that
# could not start within the hour (no worker) is dropped: the next one does the same work.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "initiatives-measure-due": {
        "task": "initiatives.tasks.measure_due",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    "initiatives-remind-revisits": {
        "task": "initiatives.tasks.remind_revisits",
        "schedule": crontab(minute=10),
        "options": {"expires": 55 * 60},
    },
    "reports-schedule-due": {
        "task": "reports.tasks.schedule_due",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    "webhooks-deliver-due": {
        "task": "webhooks.tasks.deliver_due",
        "schedule": crontab(),
        "options": {"expires": 50},
    },
}

# The value figures (value/summary/, value/objectives/, the dashboard) are kept for this
# long (reports.recent_figures): realized value shows at once, since a new version of the
# value data is a new key; statuses, efforts, titles and alignments within this many
# seconds. 0 keeps nothing.
VALUE_FIGURES_FRESH_SECONDS = env.int("VALUE_FIGURES_FRESH_SECONDS", default=30)

# Value reports (reports.services): a worker holds a run by a lease it renews as it goes; a
# run whose worker died is taken up again once the lease has run out (by the task coming
# back from the broker, or by schedule_due queueing it again after REPORT_RUN_STALE_SECONDS).
# A failed attempt is retried after 30 s, 60 s, … until REPORT_RUN_MAX_ATTEMPTS; e-mails
# likewise until REPORT_DELIVERY_MAX_ATTEMPTS.
REPORT_RUN_LEASE_SECONDS = env.int("REPORT_RUN_LEASE_SECONDS", default=10 * 60)
REPORT_RUN_STALE_SECONDS = env.int("REPORT_RUN_STALE_SECONDS", default=15 * 60)
REPORT_RUN_MAX_ATTEMPTS = env.int("REPORT_RUN_MAX_ATTEMPTS", default=3)
REPORT_RUN_RETRY_BACKOFF_SECONDS = env.float("REPORT_RUN_RETRY_BACKOFF_SECONDS", default=30.0)
REPORT_DELIVERY_MAX_ATTEMPTS = env.int("REPORT_DELIVERY_MAX_ATTEMPTS", default=5)

# Outbound webhooks (webhooks.services): a delivery is retried after each of these delays
# (seconds: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h), then failed; an endpoint whose every
# attempt failed for WEBHOOK_DISABLE_AFTER_HOURS is turned off and its admins e-mailed.
# A task waits for its retry itself up to WEBHOOK_MAX_COUNTDOWN_SECONDS (well inside the
# broker's visibility timeout); longer waits are queued by the deliver_due job.
WEBHOOK_RETRY_DELAYS = env.list(
    "WEBHOOK_RETRY_DELAYS", cast=float, default=[60, 300, 1800, 7200, 21600, 43200]
)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=24.0)
WEBHOOK_MAX_COUNTDOWN_SECONDS = env.float("WEBHOOK_MAX_COUNTDOWN_SECONDS", default=30 * 60)
WEBHOOK_SWEEP_GRACE_SECONDS = env.float("WEBHOOK_SWEEP_GRACE_SECONDS", default=60.0)
# Receivers are https on the public internet in production; DEBUG (a laptop, the tests)
# also allows http://localhost and private addresses.
WEBHOOK_ALLOW_HTTP_LOCALHOST = env.bool("WEBHOOK_ALLOW_HTTP_LOCALHOST", default=DEBUG)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=DEBUG)

# --- Security -----------------------------------------------------------------------------
# The style attributes Plotly writes for the rich text of labels (<b> in a hover label:
# style="font-weight:bold"), TAG_STYLES of its src/lib/svg_text_utils.js; the CSP allows
# exactly these values, no other inline style (tests/test_plotly_csp.py holds the list equal
# to the bundle's).
PLOTLY_TEXT_STYLES = [
    "font-size:70%",
    "text-decoration:line-through",
    "text-decoration:underline",
    "font-weight:bold",
    "font-style:italic",
    "cursor:pointer",
    "font-style:italic;font-weight:bold",
]


def _csp_hash(source: str) -> str:
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    return f"'sha256-{digest}'"


# Content-Security-Policy (pm_value/security.py; the shape of Django 6.0's SECURE_CSP).
# Only our own files: no inline script, no eval, no <style> element. Charts read their
# data from json_script tags in static JS; htmx runs with allowEval and allowScriptTags
# off (templates/base.html); Plotly's stylesheet is a file (templates/_plotly.html) and it
# styles its SVG through the CSSOM, which CSP allows. Plotly needs no 'unsafe-eval': its
# one `new Function` is a fallback for engines without globalThis, its one eval is in
# the map worker loader, and no chart here is a map.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-hashes'", *map(_csp_hash, PLOTLY_TEXT_STYLES)],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "accounts.views.csrf_failure"
if not DEBUG:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Health checks come over plain HTTP from inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint and fontTools log every step of every PDF at INFO.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
