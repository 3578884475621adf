from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """The websocket endpoint /ws/events: authenticates the access token, joins the tenant's
    groups and relays the events published by `apps.core.events`."""

    name = "apps.realtime"
    label = "realtime"
    verbose_name = "Real time"
