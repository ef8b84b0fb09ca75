"""WSGI entry point (gunicorn pm_value.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm_value.settings")

application = get_wsgi_application()
