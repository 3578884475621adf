import warnings

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
WHITENOISE_USE_FINDERS = True

# Development serves static files from the apps (finders); no collected directory is expected.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
