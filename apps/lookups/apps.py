from django.apps import AppConfig


class LookupsConfig(AppConfig):
    """Compact `{id, label, …}` lists for dropdowns and autocomplete. No models: each entity's
    own app provides the rows."""

    name = "apps.lookups"
    label = "lookups"
    verbose_name = "Lookups"
