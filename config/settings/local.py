"""The embedded demo: SQLite file, DEBUG on, everything on this machine.

Nothing secret is published: Django's secret key, the credentials the sandbox accepts (and the
hub sends it) and the token of the sandbox's control endpoints are made at random on first use
and kept in a git-ignored, owner-only file (LOCAL_SECRETS_FILE, default `.local-secrets.json`
beside manage.py), which every process of this install (web, delivery loop) then reads.
"""

import json
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, env

INSTALLED_APPS = [*INSTALLED_APPS, "sandbox", "demo"]

DEBUG = env.bool("DJANGO_DEBUG", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the apps directly: no collectstatic needed on this machine.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

GENERATED_SECRETS = (
    "DJANGO_SECRET_KEY",
    "THIRTYFIVEUP_USERNAME",
    "THIRTYFIVEUP_PASSWORD",
    "SENDCLOUD_PUBLIC_KEY",
    "SENDCLOUD_SECRET_KEY",
    "SHIPUP_API_KEY",
    "REEVOO_API_KEY",
    "REEVOO_API_SECRET",
    "SANDBOX_CONTROL_TOKEN",
)


def _write_owner_only(path, values):
    """Write `values` to a new file beside `path`; the caller moves it into place."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(values, file, indent=2)
        file.write("\n")
    return temporary


def install_secrets(path):
    """This install's secrets, made on first use. Of two processes starting at once on a fresh
    install, the first to link its file in place wins and the other reads that file."""
    try:
        stored = json.loads(path.read_text())
    except FileNotFoundError:
        stored = {}
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{path} is not JSON: delete it and a new one is made (new demo credentials)."
        ) from exc
    missing = [name for name in GENERATED_SECRETS if not stored.get(name)]
    if not missing:
        return stored
    stored.update({name: secrets.token_urlsafe(32) for name in missing})
    temporary = _write_owner_only(path, stored)
    try:
        if len(missing) == len(GENERATED_SECRETS):
            try:
                os.link(temporary, path)
            except FileExistsError:
                return json.loads(path.read_text())
        else:
            # An older file lacking a newer secret: complete it in place.
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return stored


LOCAL_SECRETS_FILE = Path(env("LOCAL_SECRETS_FILE", default="") or BASE_DIR / ".local-secrets.json")
_secrets = install_secrets(LOCAL_SECRETS_FILE)


def _given_or_generated(name):
    # Every value stays overridable by its environment variable; an empty one counts as unset.
    return env(name, default="") or _secrets[name]


SECRET_KEY = _given_or_generated("DJANGO_SECRET_KEY")

# The demo talks to the built-in fake providers served by this same process.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)

if SANDBOX_ENABLED:
    # With no configuration the providers are the sandbox in this same process, and the
    # credentials are this install's (the sandbox accepts exactly the configured ones).
    SANDBOX_URL = env("SANDBOX_URL", default="") or "http://127.0.0.1:8000/sandbox"
    SANDBOX_CONTROL_TOKEN = _given_or_generated("SANDBOX_CONTROL_TOKEN")
    THIRTYFIVEUP_BASE_URL = env("THIRTYFIVEUP_BASE_URL", default="") or f"{SANDBOX_URL}/35up/v1"
    THIRTYFIVEUP_USERNAME = _given_or_generated("THIRTYFIVEUP_USERNAME")
    THIRTYFIVEUP_PASSWORD = _given_or_generated("THIRTYFIVEUP_PASSWORD")
    SENDCLOUD_BASE_URL = env("SENDCLOUD_BASE_URL", default="") or f"{SANDBOX_URL}/sendcloud/api/v3"
    SENDCLOUD_PUBLIC_KEY = _given_or_generated("SENDCLOUD_PUBLIC_KEY")
    SENDCLOUD_SECRET_KEY = _given_or_generated("SENDCLOUD_SECRET_KEY")
    SENDCLOUD_INTEGRATION_ID = env.int("SENDCLOUD_INTEGRATION_ID", default=None) or 7
    SHIPUP_BASE_URL = env("SHIPUP_BASE_URL", default="") or f"{SANDBOX_URL}/shipup"
    SHIPUP_API_KEY = _given_or_generated("SHIPUP_API_KEY")
    REEVOO_BASE_URL = env("REEVOO_BASE_URL", default="") or f"{SANDBOX_URL}/reevoo/v4"
    REEVOO_API_KEY = _given_or_generated("REEVOO_API_KEY")
    REEVOO_API_SECRET = _given_or_generated("REEVOO_API_SECRET")
    REEVOO_TRKREF = env("REEVOO_TRKREF", default="") or "ORDERHUB"
    # 35up moves approved orders on by one step per this many seconds (read lazily).
    SANDBOX_35UP_ADVANCE_SECONDS = env.int("SANDBOX_35UP_ADVANCE_SECONDS", default=120)
    SANDBOX_35UP_INITIAL_STATUS = env("SANDBOX_35UP_INITIAL_STATUS", default="pending")
