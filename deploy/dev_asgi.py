"""The ASGI application `make run` serves: gunicorn's ASGI worker (deploy/gunicorn_dev.conf.py:
production's HTTP parser and request limits), or Daphne under `manage.py runserver`
(development settings: ASGI_APPLICATION).

Websockets exactly as in production (mipos.asgi). HTTP through Django's WSGI handler, run in a
worker thread per request (asgiref's WsgiToAsgi, not thread-sensitive): the REST API is sync
Django, and Django's ASGI handler runs a sync view with ~30 async/sync thread hops per request,
this with ~3. Connections come from the psycopg pool (development settings), as persistent ones
leak under an ASGI server. Measured with `bench/serving.py --server dev` (docs/benchmarks.md).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mipos.settings.dev")

from asgiref.sync import sync_to_async
from asgiref.wsgi import WsgiToAsgi, WsgiToAsgiInstance
from django.core.wsgi import get_wsgi_application

wsgi_application = get_wsgi_application()  # sets Django up before the routing is imported

from channels.routing import ProtocolTypeRouter  # noqa: E402

from mipos.asgi import application as production_application  # noqa: E402


class _ThreadedInstance(WsgiToAsgiInstance):
    # asgiref runs every request in ONE shared thread (thread-sensitive): one slow request
    # would hold up every other and the websockets' database calls. A thread from the pool each.
    run_wsgi_app = sync_to_async(
        WsgiToAsgiInstance.__dict__["run_wsgi_app"].func, thread_sensitive=False
    )


class ThreadedWsgiToAsgi(WsgiToAsgi):
    async def __call__(self, scope, receive, send):
        await _ThreadedInstance(self.wsgi_application, self.duplicate_header_limit)(
            scope, receive, send
        )


application = ProtocolTypeRouter(
    {
        "http": ThreadedWsgiToAsgi(wsgi_application),
        "websocket": production_application.application_mapping["websocket"],
    }
)
