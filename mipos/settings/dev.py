import warnings

from .base import *  # noqa: F403
from .base import DATABASES, database_connections, env_bool

DEBUG = env_bool("DEBUG", True)
WHITENOISE_USE_FINDERS = True
# `make run` serves deploy/dev_asgi.py with gunicorn's ASGI worker (deploy/gunicorn_dev.conf.py;
# `manage.py runserver`: with Daphne, through ASGI_APPLICATION): websockets as production does,
# HTTP through Django's WSGI handler (about 3x faster than sync views under Django's ASGI
# handler), and a connection pool, as persistent connections leak under ASGI.
ASGI_APPLICATION = "deploy.dev_asgi.application"
database_connections(DATABASES["default"], pool_max_size=8)

# Development serves static files from the apps (finders); no collected directory is expected.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
