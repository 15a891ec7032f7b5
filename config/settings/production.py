"""Production: fails closed. The secret key, the host names and the database must be given for
real, or start-up stops with an ImproperlyConfigured naming each missing variable; the sandbox is
neither installed nor allowed. Passes `manage.py check --deploy`.

config/wsgi.py, config/asgi.py and Celery use these settings when DJANGO_SETTINGS_MODULE is unset.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, INSECURE_TEST_SECRET_KEY, SANDBOX_ENABLED, env

if SANDBOX_ENABLED:
    # The fake providers pretend orders were placed: they must never run next to real data.
    raise ImproperlyConfigured("SANDBOX_ENABLED must not be set in production settings.")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="").strip()
ALLOWED_HOSTS = [host for host in env.list("DJANGO_ALLOWED_HOSTS", default=[]) if host.strip()]

_missing = []
if not SECRET_KEY or SECRET_KEY == INSECURE_TEST_SECRET_KEY:
    _missing.append(
        "DJANGO_SECRET_KEY: a secret key of this installation's own (empty or the published "
        "test key is refused), e.g. 50 random characters"
    )
if not ALLOWED_HOSTS:
    _missing.append("DJANGO_ALLOWED_HOSTS: the host names the hub serves, comma-separated")
if not env.str("DATABASE_URL", default="").strip() or DATABASES["default"]["ENGINE"].endswith(
    "sqlite3"
):
    _missing.append(
        "DATABASE_URL: the production database, e.g. postgres://user:password@host:5432/orderhub "
        "(unset or SQLite is refused)"
    )
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables:\n  " + "\n  ".join(_missing)
    )

DEBUG = False
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
