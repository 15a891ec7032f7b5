"""The ASGI entry point. Without DJANGO_SETTINGS_MODULE it runs the production settings, which
refuse to start half-configured: a server never falls back to the demo's DEBUG, keys and sandbox."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
