import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES, database_connections, env_bool

DEBUG = False
if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True

# Behind TLS (the default deployment: nginx or a load balancer terminates it and sets
# X-Forwarded-Proto): plain-HTTP requests are redirected, and browsers are told to use HTTPS
# only. Turn off with SECURE_SSL_REDIRECT=0 / SECURE_HSTS_SECONDS=0 when serving plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^health(/live|/ready)?$", r"^metrics$"]  # probes, scrapers: plain HTTP
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# gunicorn's sync workers keep one connection each (health-checked before reuse); the Daphne
# service for /ws/ sets DB_POOL_MAX_SIZE instead (docker-compose.yml). See database_connections.
database_connections(DATABASES["default"], max_age=600)
