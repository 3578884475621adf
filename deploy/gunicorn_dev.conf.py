# gunicorn settings for `make run`: the production file (deploy/gunicorn.conf.py) with only what
# development needs changed, so the server a newcomer runs answers like production before Django
# does (same HTTP parser and request limits: a 16 KB URL → 414, a 100 KB header → 431, a broken
# multipart body reaches Django and gets the JSON error envelope; same control-socket choice).
#
# One ASGI worker (gunicorn's own, `asgi`): HTTP and websockets on one port, `/ws/events` as
# production's Daphne serves it, the REST API through Django's WSGI handler in threads
# (deploy/dev_asgi.py, development settings: DEBUG, static files from the apps, a psycopg pool).
# One process, so the in-process channel layer (no REDIS_URL) reaches every socket.
import os
import runpy
from pathlib import Path

globals().update(
    (name, value)
    for name, value in runpy.run_path(str(Path(__file__).with_name("gunicorn.conf.py"))).items()
    if not name.startswith("__")
)

wsgi_app = "deploy.dev_asgi:application"
bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
worker_class = "asgi"
workers = 1
# Restart the worker when a loaded Python file changes (as `manage.py runserver` did); open
# websockets are closed after graceful_timeout and the clients reconnect.
reload = os.environ.get("DEV_RELOAD", "1") != "0"
graceful_timeout = 3
max_requests = 0  # no periodic restart: it would drop the open websockets
max_requests_jitter = 0
# Django logs every request (logger mipos.request); gunicorn's access line only on demand.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
