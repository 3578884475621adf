from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.core.events import all_stores_group, publish_event, store_group, tenant_group

pytestmark = pytest.mark.django_db


def listener(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def pending(channel: str) -> list[dict]:
    layer = get_channel_layer()
    messages = []
    while True:
        queue = layer.channels.get(channel)
        if not queue or queue.empty():
            return messages
        messages.append(async_to_sync(layer.receive)(channel))


@pytest.fixture(autouse=True)
def fresh_layer():
    async_to_sync(get_channel_layer().flush)()


def test_event_is_sent_after_commit_to_its_tenant_only(
    world_a, world_b, django_capture_on_commit_callbacks
):
    a = listener(tenant_group(world_a.tenant.schema_name))
    b = listener(tenant_group(world_b.tenant.schema_name))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
        publish_event("tenant.settings.updated", {"currency": "EUR"})
        assert pending(a) == []  # nothing before the commit
    messages = pending(a)
    assert [(m["event"], m["data"]) for m in messages] == [
        ("tenant.settings.updated", {"currency": "EUR"})
    ]
    assert messages[0]["at"].endswith("+00:00")
    assert pending(b) == []


def test_nothing_is_sent_when_the_transaction_rolls_back(
    world_a, django_capture_on_commit_callbacks
):
    a = listener(tenant_group(world_a.tenant.schema_name))
    with (
        django_capture_on_commit_callbacks(execute=True),
        tenant_context(world_a.tenant),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        publish_event("stock.updated", {"qty": 1})
        raise RuntimeError("rolled back")
    assert pending(a) == []


def test_store_events_reach_the_store_and_the_all_stores_groups(
    world_a, django_capture_on_commit_callbacks
):
    schema = world_a.tenant.schema_name
    store, other_store = (
        "11111111-1111-1111-1111-111111111111",
        "22222222-2222-2222-2222-222222222222",
    )
    own, managers, other, everyone = (
        listener(store_group(schema, store)),
        listener(all_stores_group(schema)),
        listener(store_group(schema, other_store)),
        listener(tenant_group(schema)),
    )
    with django_capture_on_commit_callbacks(execute=True), tenant_context(world_a.tenant):
        publish_event("sale.completed", {"total": "9.99"}, store_id=store)
    assert [m["event"] for m in pending(own)] == ["sale.completed"]
    assert [m["event"] for m in pending(managers)] == ["sale.completed"]
    assert pending(other) == []
    assert pending(everyone) == []
