"""WSGI entry point: ``gunicorn project.wsgi:application``."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:  # one readable line instead of a traceback
    sys.exit(f"Configuration error: {exc}")
