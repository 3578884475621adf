from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "apps.pos"
    label = "pos"
    verbose_name = "Point of sale"

    def ready(self) -> None:
        from apps.pos import selectors, services
        from apps.pos.models import CashEventType
        from apps.sales import drawer

        # the drawer as sales sees it (apps.sales.drawer; apps.core.hooks)
        missing = set(drawer.CASH_EVENT_TYPES) - set(CashEventType.values)
        if missing:
            raise RuntimeError(f"apps.sales.drawer names unknown cash event types: {missing}")
        drawer.shift_sql.register(lambda: selectors.DRAWER_SHIFT_SQL)
        drawer.till_shift_id.register(services.till_shift_id)
        drawer.cash_event.register(services.cash_event)
        drawer.shift_required.register(services.shift_required)
