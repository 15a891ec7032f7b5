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

if SANDBOX_ENABLED:
    # With no configuration the providers are the sandbox in this same process, and the
    # credentials are the ones it accepts (it accepts exactly the configured ones). Every value
    # stays overridable; an empty variable counts as unset.
    SANDBOX_URL = env("SANDBOX_URL", default="") or "http://127.0.0.1:8000/sandbox"
    THIRTYFIVEUP_BASE_URL = env("THIRTYFIVEUP_BASE_URL", default="") or f"{SANDBOX_URL}/35up/v1"
    THIRTYFIVEUP_USERNAME = env("THIRTYFIVEUP_USERNAME", default="") or "sandbox-user"
    THIRTYFIVEUP_PASSWORD = env("THIRTYFIVEUP_PASSWORD", default="") or "sandbox-pass"
    SENDCLOUD_BASE_URL = env("SENDCLOUD_BASE_URL", default="") or f"{SANDBOX_URL}/sendcloud/api/v3"
    SENDCLOUD_PUBLIC_KEY = env("SENDCLOUD_PUBLIC_KEY", default="") or "sandbox-public"
    SENDCLOUD_SECRET_KEY = env("SENDCLOUD_SECRET_KEY", default="") or "sandbox-secret"
    SENDCLOUD_INTEGRATION_ID = env.int("SENDCLOUD_INTEGRATION_ID", default=None) or 7
    SHIPUP_BASE_URL = env("SHIPUP_BASE_URL", default="") or f"{SANDBOX_URL}/shipup"
    SHIPUP_API_KEY = env("SHIPUP_API_KEY", default="") or "sandbox-shipup-key"
    REEVOO_BASE_URL = env("REEVOO_BASE_URL", default="") or f"{SANDBOX_URL}/reevoo/v4"
    REEVOO_API_KEY = env("REEVOO_API_KEY", default="") or "sandbox-key"
    REEVOO_API_SECRET = env("REEVOO_API_SECRET", default="") or "sandbox-secret"
    REEVOO_TRKREF = env("REEVOO_TRKREF", default="") or "ORDERHUB"
    # 35up moves approved orders on by one step per this many seconds (read lazily).
    SANDBOX_35UP_ADVANCE_SECONDS = env.int("SANDBOX_35UP_ADVANCE_SECONDS", default=120)
    SANDBOX_35UP_INITIAL_STATUS = env("SANDBOX_35UP_INITIAL_STATUS", default="pending")
