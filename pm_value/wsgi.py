"""WSGI entry point (gunicorn pm_value.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm_value.settings")

application = get_wsgi_application()

# Everything loaded so far (Django, the apps, their modules) lives as long as the process:
# moved out of the garbage collector's sight, it is not scanned again on every collection
# that the thousands of objects of a value read set off (at the reference scale, a third
# of value/objectives/' slowest reads).
gc.freeze()
