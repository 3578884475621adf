import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mipos.settings.dev")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

# Websocket routing (/ws/events) arrives with the real-time module.
application = ProtocolTypeRouter({"http": django_asgi_app})
