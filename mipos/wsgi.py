import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mipos.settings.dev")
application = get_wsgi_application()

from apps.core.events import use_process_loop  # noqa: E402  (needs Django set up)

# A WSGI worker sends its websocket events through one event loop of its own (see the module).
use_process_loop()
