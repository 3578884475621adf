from django.apps import AppConfig


class MediaConfig(AppConfig):
    """Uploaded images: verified on upload, served publicly (no token) by id."""

    name = "apps.media"
    label = "media"
    verbose_name = "Media"
