"""The test suite: SQLite by default, PostgreSQL when DATABASE_URL says so (CI runs both)."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "sandbox", "demo"]

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the apps directly: no collectstatic needed on this machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The fake providers under /sandbox/ and the credentials they accept; tests that talk to them
# over HTTP point the base URLs at their live server.
SANDBOX_ENABLED = True
SANDBOX_CONTROL_TOKEN = "sandbox-control-test-token"
THIRTYFIVEUP_USERNAME = "sandbox-user"
THIRTYFIVEUP_PASSWORD = "sandbox-pass"
SENDCLOUD_PUBLIC_KEY = "sandbox-public"
SENDCLOUD_SECRET_KEY = "sandbox-secret"
SENDCLOUD_INTEGRATION_ID = 7
SHIPUP_API_KEY = "sandbox-shipup-key"
REEVOO_API_KEY = "sandbox-key"
REEVOO_API_SECRET = "sandbox-secret"
REEVOO_TRKREF = "ORDERHUB"
# Orders move on only when a test says so (control endpoint, or this setting in the test).
SANDBOX_35UP_ADVANCE_SECONDS = None
SANDBOX_35UP_INITIAL_STATUS = "pending"
# The API's throttle is off (user ids repeat across rolled-back tests); its tests set a rate.
API_THROTTLE_RATE = ""
CACHES["api"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}

# The live server's threads close their connections after each request, so none is left open
# when pytest-django drops the PostgreSQL test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not the in-memory default: the live-server tests' threads (and the crash test's
    # worker process) then share it with SQLite's ordinary locking, WAL and busy timeout,
    # where shared-cache memory databases fail at once with "database table is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
