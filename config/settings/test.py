"""The test suite: SQLite by default, PostgreSQL when DATABASE_URL says so (CI runs both)."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the apps directly: no collectstatic needed on this machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
