"""Customer groups: unique names, discount range, and a delete that never leaves a customer in a
deleted group."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.customers.models import Customer, CustomerGroup
from apps.customers.tests.conftest import customers_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/groups"


def test_create_list_and_update(api, world_a, make_customer):
    client = api(world_a.manager)

    created = client.post(URL, {"name": "Wholesale", "discountPercent": "12.5"}, format="json")

    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert set(data) == {"id", "name", "discountPercent", "customerCount", "createdAt", "updatedAt"}
    assert (data["name"], data["discountPercent"], data["customerCount"]) == (
        "Wholesale",
        "12.50",
        0,
    )
    with tenant_context(world_a.tenant):
        group = CustomerGroup.objects.get(pk=data["id"])
    make_customer("In it", group=group)
    make_customer("Also in it", group=group)

    listed = api(world_a.cashier).get(URL)
    assert listed.status_code == 200
    assert [(g["name"], g["customerCount"]) for g in listed.json()["data"]] == [("Wholesale", 2)]

    updated = client.patch(f"{URL}/{group.pk}", {"discountPercent": "15"}, format="json")
    assert updated.status_code == 200
    assert (updated.json()["data"]["discountPercent"], updated.json()["data"]["customerCount"]) == (
        "15.00",
        2,
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "vip", "discountPercent": "5"}, 409, "name"),
        ({"name": "Other", "discountPercent": "100.01"}, 400, "discountPercent"),
        ({"name": "Other", "discountPercent": "-1"}, 400, "discountPercent"),
        ({"name": " ", "discountPercent": "1"}, 400, "name"),
        ({"name": "Other"}, 400, "discountPercent"),
    ],
)
def test_refusals_change_nothing(api, world_a, groups, body, status, field):
    before = customers_state(world_a)

    response = api(world_a.manager).post(URL, body, format="json")

    assert response.status_code == status
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert customers_state(world_a) == before


def test_renaming_onto_another_groups_name_is_409(api, world_a, groups):
    before = customers_state(world_a)

    response = api(world_a.manager).patch(
        f"{URL}/{groups['staff'].pk}", {"name": "VIP"}, format="json"
    )

    assert response.status_code == 409
    assert customers_state(world_a) == before


def test_delete_in_use_is_422_and_changes_nothing(api, world_a, groups, make_customer):
    make_customer(group=groups["vip"])
    before = customers_state(world_a)

    response = api(world_a.manager).delete(f"{URL}/{groups['vip'].pk}")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IN_USE"
    assert customers_state(world_a) == before


def test_delete_reassigning_members_to_another_group(api, world_a, groups, make_customer):
    ana = make_customer("Ana", group=groups["vip"])
    bruno = make_customer("Bruno", group=groups["vip"])
    carla = make_customer("Carla", group=groups["staff"])

    response = api(world_a.manager).delete(
        f"{URL}/{groups['vip'].pk}?reassignTo={groups['staff'].pk}"
    )

    assert response.status_code == 200
    assert (response.json()["data"]["name"], response.json()["data"]["customerCount"]) == ("VIP", 0)
    with tenant_context(world_a.tenant):
        assert CustomerGroup.objects.get(pk=groups["vip"].pk).deleted_at is not None
        assert {c.pk: c.group_id for c in Customer.objects.all()} == {
            ana.pk: groups["staff"].pk,
            bruno.pk: groups["staff"].pk,
            carla.pk: groups["staff"].pk,
        }
    listed = api(world_a.manager).get(URL).json()["data"]
    assert [(g["name"], g["customerCount"]) for g in listed] == [("Staff", 3)]


def test_delete_with_reassign_to_none_leaves_members_without_group(
    api, world_a, groups, make_customer
):
    ana = make_customer(group=groups["vip"])

    response = api(world_a.manager).delete(f"{URL}/{groups['vip'].pk}?reassignTo=none")

    assert response.status_code == 200
    with tenant_context(world_a.tenant):
        ana.refresh_from_db()
        assert ana.group_id is None


@pytest.mark.parametrize("target", ["self", "unknown", "not-a-uuid"])
def test_delete_with_a_bad_reassign_target_is_400(api, world_a, groups, make_customer, target):
    make_customer(group=groups["vip"])
    value = {
        "self": str(groups["vip"].pk),
        "unknown": "00000000-0000-0000-0000-000000000000",
        "not-a-uuid": "vip",
    }[target]
    before = customers_state(world_a)

    response = api(world_a.manager).delete(f"{URL}/{groups['vip'].pk}?reassignTo={value}")

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == ["reassignTo"]
    assert customers_state(world_a) == before


def test_an_unused_group_is_deleted_and_its_name_freed(api, world_a, groups):
    client = api(world_a.manager)

    assert client.delete(f"{URL}/{groups['staff'].pk}").status_code == 200
    assert client.patch(
        f"{URL}/{groups['staff'].pk}", {"name": "X"}, format="json"
    ).status_code == (404)
    again = client.post(URL, {"name": "Staff", "discountPercent": "5"}, format="json")
    assert again.status_code == 201


def test_cashiers_may_not_manage_groups(api, world_a, groups):
    """customer:write, but a group sets a discount: a pricing decision, like a credit limit."""
    client = api(world_a.cashier)
    before = customers_state(world_a)

    responses = [
        client.post(URL, {"name": "Friends", "discountPercent": "50"}, format="json"),
        client.patch(f"{URL}/{groups['vip'].pk}", {"discountPercent": "100"}, format="json"),
        client.delete(f"{URL}/{groups['vip'].pk}"),
    ]

    assert [(r.status_code, r.json()["error"]["code"]) for r in responses] == [
        (403, "FORBIDDEN")
    ] * 3
    assert customers_state(world_a) == before
    assert client.get(URL).status_code == 200
