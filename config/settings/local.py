"""The embedded demo: SQLite file, DEBUG on, everything on this machine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the apps directly: no collectstatic needed on this machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The demo talks to the built-in fake providers served by this same process.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
