"""The WSGI entry point (gunicorn config.wsgi). Without DJANGO_SETTINGS_MODULE it runs the
production settings, which refuse to start half-configured: a server never falls back to the
demo's DEBUG, keys and sandbox."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
