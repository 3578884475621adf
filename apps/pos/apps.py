from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "apps.pos"
    label = "pos"
    verbose_name = "Point of sale"
