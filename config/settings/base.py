"""Settings shared by every environment. Every value comes from the environment (django-environ);
`.env.example` lists them all."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.FileAwareEnv()
environ.FileAwareEnv.read_env(BASE_DIR / ".env", overwrite=False)

# The test suite's key; the demo makes one per install, production refuses this one.
INSECURE_TEST_SECRET_KEY = "insecure-demo-key-only-for-local-use"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=INSECURE_TEST_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    "orders",
    "returns",
    "integrations",
    "outbox",
    "api",
    # "sandbox" (the fake providers) and "demo" (which places its orders there) are installed by
    # the local and test settings only: production has neither, nor their admin and URLs.
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the "try again at" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# An empty DATABASE_URL counts as unset (production refuses both).
DATABASES = {
    "default": environ.Env.db_url_config(
        env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the delivery worker share the file.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes, core/signin.py, docs/security.md "Sign-in"): after
# LOGIN_FAILURE_LIMIT failures in a row for one username from one address, that pair is refused
# for LOGIN_COOLOFF_MINUTES from the last counted failure; `manage.py
# unlock_login USERNAME` lifts it. Per pair, so nobody can lock a colleague out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
# Reverse proxies in front of the hub that append to X-Forwarded-For (0: use the peer address).
LOGIN_TRUSTED_PROXIES = env.int("LOGIN_TRUSTED_PROXIES", default=0)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1 or LOGIN_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be at least 1, "
        "LOGIN_TRUSTED_PROXIES at least 0."
    )
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lock are logged, not counted: the lock ends when the page says, and
# axes' record of the pair does not grow with every request an attacker sends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "core.signin.client_address"
AXES_LOCKOUT_CALLABLE = "core.signin.lockout_response"
# Successful sign-ins are not stored (axes' AccessLog would keep every address for ever).
AXES_DISABLE_ACCESS_LOG = True

# Beat anonymises orders closed or cancelled more than this many days ago, daily (orders.privacy,
# docs/runbook.md). Empty (the default): never automatically; `manage.py anonymise_orders` by hand.
ANONYMISE_AFTER_DAYS = env.int("ANONYMISE_AFTER_DAYS", default=None)

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The REST API (api/, docs/api.md): tokens or a session, nothing anonymous, one error format.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.DjangoModelPermissions"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per client (API user) as "N/second|minute|hour|day"; empty: no limit.
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="600/minute")
# Largest request body the API reads; a larger one is answered 413.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_048_576)
# Results per API page unless the client asks for fewer or more (at most API_MAX_PAGE_SIZE).
API_PAGE_SIZE = env.int("API_PAGE_SIZE", default=50)
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=200)
# The API's throttle counts: shared through Redis when there is one, else per process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"}
    ),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Order hub API",
    "DESCRIPTION": "Read the orders, returns and provider deliveries the hub keeps in sync, push "
    "orders in, and request actions. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.describe_every_field",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "ReturnStatusEnum": "returns.models.ReturnStatus",
        "DeliveryStateEnum": "outbox.models.DeliveryState",
        "OrderActionEnum": "orders.services.SHOP_ACTIONS",
        "SettableReturnStatusEnum": "api.serializers.SETTABLE_RETURN_STATUSES",
        "TransitionReasonEnum": "api.serializers.TRANSITION_REASON_KEYS",
    },
    # The schema and the docs page are for signed-in clients too; the page's assets are served
    # from this server (drf-spectacular-sidecar), not from a CDN.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # core.signin logs each failure and lockout in one line; axes' own INFO lines repeat them.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Admin order list: rows counted at most up to this number (beyond it the list says "N+").
ORDER_LIST_COUNT_LIMIT = env.int("ORDER_LIST_COUNT_LIMIT", default=10_000)

# Providers (DESIGN.md "Providers"). A provider without credentials is disabled.
HUB_VERSION = "0.1.0"
PROVIDER_CONNECT_TIMEOUT = env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0)
PROVIDER_READ_TIMEOUT = env.float("PROVIDER_READ_TIMEOUT", default=30.0)
THIRTYFIVEUP_BASE_URL = env("THIRTYFIVEUP_BASE_URL", default="") or "https://api.35up.io/v1"
THIRTYFIVEUP_USERNAME = env("THIRTYFIVEUP_USERNAME", default="")
THIRTYFIVEUP_PASSWORD = env("THIRTYFIVEUP_PASSWORD", default="")
SENDCLOUD_BASE_URL = env("SENDCLOUD_BASE_URL", default="") or "https://panel.sendcloud.sc/api/v3"
SENDCLOUD_PUBLIC_KEY = env("SENDCLOUD_PUBLIC_KEY", default="")
SENDCLOUD_SECRET_KEY = env("SENDCLOUD_SECRET_KEY", default="")
SENDCLOUD_INTEGRATION_ID = env.int("SENDCLOUD_INTEGRATION_ID", default=None)
SHIPUP_BASE_URL = env("SHIPUP_BASE_URL", default="") or "https://api.shipup.co"
SHIPUP_API_KEY = env("SHIPUP_API_KEY", default="")
REEVOO_BASE_URL = env("REEVOO_BASE_URL", default="") or "https://api.reevoocloud.com/v4"
REEVOO_API_KEY = env("REEVOO_API_KEY", default="")
REEVOO_API_SECRET = env("REEVOO_API_SECRET", default="")
REEVOO_TRKREF = env("REEVOO_TRKREF", default="")
PROVIDER_POOL_SIZE = env.int("PROVIDER_POOL_SIZE", default=10)
# Published limits as "N/S": at most N requests in any S seconds (docs/providers.md). Shipup's
# leaky bucket (2/s, burst 60) is "60/30"; 35up and Reevoo publish none.
PROVIDER_RATE_LIMITS = {
    "sendcloud:write": env.list("SENDCLOUD_WRITE_RATE_LIMITS", default=["100/60", "15/1"]),
    "sendcloud:read": env.list("SENDCLOUD_READ_RATE_LIMITS", default=["1000/60"]),
    "shipup:write": env.list("SHIPUP_RATE_LIMITS", default=["60/30"]),
}
# A call waits at most this long for a free slot of the hub's own limiter. 0 (the default): a
# delivery without a free slot is rescheduled for it and the attempt does not count.
PROVIDER_RATE_LIMIT_MAX_WAIT = env.float("PROVIDER_RATE_LIMIT_MAX_WAIT", default=0.0)

# Shared state across processes: the provider rate limiter uses Redis when set, else the database.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")

# The built-in fake providers under /sandbox/ (demo and tests only; refused in production).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)

# Outbox (DESIGN.md "Reliable delivery"). Seconds before attempt 1, 2, ...; then the row is dead.
OUTBOX_RETRY_SCHEDULE = env.list(
    "OUTBOX_RETRY_SCHEDULE", cast=float, default=[0, 5, 300, 1800, 7200, 18000, 36000, 36000]
)
OUTBOX_RETRY_JITTER = env.float("OUTBOX_RETRY_JITTER", default=0.2)
# A worker that has not recorded its call by then is taken for dead (keep above the read timeout).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
# Deliveries one provider's drain claims per round (Sendcloud's batches take up to 100).
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=10.0)
# With Celery: how long one drain task sends before handing over to a fresh task, how long a
# scheduled drain's mark keeps others from scheduling another, and how far ahead a drain schedules
# the next one for a delivery waiting on its time (beyond it, the sweep does).
OUTBOX_DRAIN_SECONDS = env.float("OUTBOX_DRAIN_SECONDS", default=30.0)
OUTBOX_DRAIN_MARK_SECONDS = env.int("OUTBOX_DRAIN_MARK_SECONDS", default=60)
OUTBOX_RESCHEDULE_SECONDS = env.float("OUTBOX_RESCHEDULE_SECONDS", default=300.0)
# With Celery: a drain for Sendcloud waits this long after the first change so that a batch fills.
SENDCLOUD_BATCH_LINGER_SECONDS = env.float("SENDCLOUD_BATCH_LINGER_SECONDS", default=1.0)
# Automatic triggers of DESIGN.md's provider table; each can be turned off.
TRIGGER_35UP_PLACE_ON_INGEST = env.bool("TRIGGER_35UP_PLACE_ON_INGEST", default=True)
TRIGGER_SENDCLOUD = env.bool("TRIGGER_SENDCLOUD", default=True)
TRIGGER_SHIPUP = env.bool("TRIGGER_SHIPUP", default=True)
# Reevoo asks for a review once the order reaches this status: fulfilled, delivered, or "" (off).
TRIGGER_REEVOO_ON = env.str("TRIGGER_REEVOO_ON", default="delivered")
SYNC_INTERVAL_SECONDS = env.int("SYNC_INTERVAL_SECONDS", default=300)

CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"
# Orders read from 35up per sync run, least recently synced first.
SYNC_BATCH_LIMIT = env.int("SYNC_BATCH_LIMIT", default=500)
# Pages of 100 read from 35up's GET /orders when looking for an ambiguous placement; past them a
# person decides (35up promises no filter on that list, so the hub may have to read all of it).
THIRTYFIVEUP_LOOKUP_MAX_PAGES = env.int("THIRTYFIVEUP_LOOKUP_MAX_PAGES", default=200)

# Ingest limits (docs/ingest-format.md "Limits"): every door refuses what goes beyond them.
# The import command's file (and what a door hands to orders.ingest.parse_ingest_json), in bytes.
INGEST_MAX_FILE_BYTES = env.int("INGEST_MAX_FILE_BYTES", default=20 * 1024 * 1024)
INGEST_MAX_LINES_PER_ORDER = env.int("INGEST_MAX_LINES_PER_ORDER", default=100)
INGEST_MAX_LINE_QUANTITY = env.int("INGEST_MAX_LINE_QUANTITY", default=10_000)
INGEST_MAX_CONFIG_KEYS = env.int("INGEST_MAX_CONFIG_KEYS", default=50)
INGEST_MAX_CONFIG_VALUE_LENGTH = env.int("INGEST_MAX_CONFIG_VALUE_LENGTH", default=200)
# Any object key (config keys included), and any string the format gives no shorter limit.
INGEST_MAX_KEY_LENGTH = env.int("INGEST_MAX_KEY_LENGTH", default=100)
INGEST_MAX_STRING_LENGTH = env.int("INGEST_MAX_STRING_LENGTH", default=1_000)
# Objects and arrays inside one order (the format itself needs 3: lines, a line, its config).
INGEST_MAX_DEPTH = env.int("INGEST_MAX_DEPTH", default=8)
