from apps.core.events import publish_event
from apps.stores.models import Store


def store_changed(event: str, store: Store) -> None:
    """store.created / store.updated / store.deleted, to that store's staff and the managers."""
    publish_event(
        event,
        {"id": store.pk, "name": store.name, "code": store.code, "kind": store.kind},
        store_id=store.pk,
    )
