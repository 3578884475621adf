"""Customers through the API: the wire format, numbering, uniqueness of contacts, the fields a
cashier may not touch, search and filters, soft delete — and refusals that change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.customers.models import Customer
from apps.customers.tests.conftest import customers_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


def test_create_answers_the_wire_format_with_a_company_code(api, world_a, groups):
    response = api(world_a.manager).post(
        URL,
        {
            "name": "  Ana Silva ",
            "email": "Ana@Example.com",
            "phone": "+351 912 000 111",
            "taxId": "PT123456789",
            "address": "Rua A, 1",
            "notes": "Prefers email receipts",
            "groupId": str(groups["vip"].pk),
            "creditLimit": "150.00",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert set(data) == {
        "id", "code", "name", "email", "phone", "taxId", "address", "notes", "groupId", "group",
        "creditLimit", "balance", "loyaltyPoints", "createdAt", "updatedAt",
    }  # fmt: skip
    assert data["code"] == "C-000001"
    assert data["name"] == "Ana Silva"
    assert data["email"] == "Ana@Example.com"
    assert data["phone"] == "+351912000111"  # E.164
    assert data["groupId"] == str(groups["vip"].pk)
    assert data["group"] == {
        "id": str(groups["vip"].pk),
        "name": "VIP",
        "discountPercent": "10.00",
    }
    assert (data["creditLimit"], data["balance"], data["loyaltyPoints"]) == ("150.00", "0.00", 0)

    second = api(world_a.cashier).post(URL, {"name": "Bruno"}, format="json")
    assert second.status_code == 201
    assert second.json()["data"]["code"] == "C-000002"
    assert second.json()["data"]["group"] is None
    assert second.json()["data"]["creditLimit"] == "0.00"


def test_codes_are_per_company(api, world_a, world_b):
    assert api(world_a.admin).post(URL, {"name": "A1"}, format="json").json()["data"]["code"] == (
        "C-000001"
    )
    assert api(world_b.admin).post(URL, {"name": "B1"}, format="json").json()["data"]["code"] == (
        "C-000001"
    )


@pytest.mark.parametrize(
    ("existing", "sent", "field"),
    [
        ({"email": "ana@example.com"}, {"email": "ANA@example.COM"}, "email"),
        ({"phone": "+351912000111"}, {"phone": "+351 912-000-111"}, "phone"),
    ],
)
def test_duplicate_contact_is_409_and_changes_nothing(
    api, world_a, make_customer, existing, sent, field
):
    make_customer("Ana", **existing)
    before = customers_state(world_a)

    response = api(world_a.manager).post(URL, {"name": "Another", **sent}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert response.json()["error"]["details"] == [{"field": field, "message": "Already in use."}]
    assert customers_state(world_a) == before


def test_duplicate_contact_on_update_is_409(api, world_a, make_customer):
    make_customer("Ana", email="ana@example.com")
    bruno = make_customer("Bruno", email="bruno@example.com")
    before = customers_state(world_a)

    response = api(world_a.manager).patch(
        f"{URL}/{bruno.pk}", {"email": "Ana@Example.com"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["details"] == [{"field": "email", "message": "Already in use."}]
    assert customers_state(world_a) == before


def test_a_deleted_customers_contacts_can_be_reused(api, world_a, make_customer):
    gone = make_customer("Gone", email="x@example.com", phone="+351912000111")
    client = api(world_a.manager)
    assert client.delete(f"{URL}/{gone.pk}").status_code == 200

    response = client.post(
        URL, {"name": "New", "email": "x@example.com", "phone": "+351 912 000 111"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["data"]["phone"] == "+351912000111"


def test_same_contacts_in_another_company_are_allowed(api, world_b, make_customer):
    make_customer("Ana", email="ana@example.com", phone="+351912000111")

    response = api(world_b.admin).post(
        URL, {"name": "Ana", "email": "ana@example.com", "phone": "+351912000111"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["data"]["phone"] == "+351912000111"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "phone": "call me"}, "phone"),
        ({"name": "A", "phone": "12"}, "phone"),
        ({"name": "A", "creditLimit": "-1.00"}, "creditLimit"),
        ({"name": "A", "creditLimit": "1.001"}, "creditLimit"),
        ({"name": "A", "creditLimit": 10}, "creditLimit"),
        ({"name": "A", "groupId": "00000000-0000-0000-0000-000000000000"}, "groupId"),
        ({}, "name"),
    ],
)
def test_invalid_input_is_400_and_changes_nothing(api, world_a, body, field):
    before = customers_state(world_a)

    response = api(world_a.manager).post(URL, body, format="json")

    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]
    assert customers_state(world_a) == before


def test_a_deleted_group_cannot_be_assigned(api, world_a, groups, make_customer):
    client = api(world_a.manager)
    assert client.delete(f"{URL}/groups/{groups['staff'].pk}").status_code == 200
    ana = make_customer()

    response = client.patch(f"{URL}/{ana.pk}", {"groupId": str(groups["staff"].pk)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "groupId", "message": "Unknown customer group."}
    ]


@pytest.mark.parametrize(
    "body",
    [{"creditLimit": "50.00"}, {"groupId": "VIP"}, {"creditLimit": "10.00", "groupId": "VIP"}],
)
def test_a_cashier_may_not_give_credit_or_a_group(api, world_a, groups, make_customer, body):
    body = {k: str(groups["vip"].pk) if v == "VIP" else v for k, v in body.items()}
    ana = make_customer()
    before = customers_state(world_a)
    client = api(world_a.cashier)

    created = client.post(URL, {"name": "New", **body}, format="json")
    updated = client.patch(f"{URL}/{ana.pk}", body, format="json")

    for response in (created, updated):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert sorted(d["field"] for d in response.json()["error"]["details"]) == sorted(body)
    assert customers_state(world_a) == before


def test_a_cashier_edits_contacts_and_may_resend_unchanged_managed_fields(
    api, world_a, groups, make_customer
):
    ana = make_customer(group=groups["vip"], credit_limit=Decimal("100.00"))

    response = api(world_a.cashier).patch(
        f"{URL}/{ana.pk}",
        {"phone": "+351 912 345 678", "groupId": str(groups["vip"].pk), "creditLimit": "100.00"},
        format="json",
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["phone"], data["groupId"], data["creditLimit"]) == (
        "+351912345678",
        str(groups["vip"].pk),
        "100.00",
    )


def test_a_manager_changes_credit_limit_and_group(api, world_a, groups, make_customer):
    ana = make_customer(group=groups["vip"])

    response = api(world_a.manager).patch(
        f"{URL}/{ana.pk}", {"creditLimit": "250.50", "groupId": None}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["data"]["creditLimit"], response.json()["data"]["group"]) == (
        "250.50",
        None,
    )
    with tenant_context(world_a.tenant):
        ana.refresh_from_db()
        assert (ana.credit_limit, ana.group_id) == (Decimal("250.50"), None)


def test_detail_and_unknown_ids(api, world_a, world_b, make_customer):
    ana = make_customer(email="ana@example.com")
    client = api(world_a.cashier)

    assert client.get(f"{URL}/{ana.pk}").json()["data"]["email"] == "ana@example.com"
    assert client.get(f"{URL}/{world_a.store.pk}").status_code == 404
    assert api(world_b.admin).get(f"{URL}/{ana.pk}").status_code == 404


def test_delete_is_refused_while_the_balance_is_not_zero(api, world_a, make_customer):
    for balance in (Decimal("12.50"), Decimal("-3.00")):
        customer = make_customer(f"Owes {balance}", balance=balance)
        before = customers_state(world_a)

        response = api(world_a.manager).delete(f"{URL}/{customer.pk}")

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "BALANCE_NOT_ZERO"
        assert response.json()["error"]["details"] == [
            {"field": "balance", "message": f"Is {balance}, not 0."}
        ]
        assert customers_state(world_a) == before


def test_delete_hides_the_customer(api, world_a, make_customer):
    ana = make_customer(loyalty_points=40)
    client = api(world_a.cashier)

    response = client.delete(f"{URL}/{ana.pk}")

    assert response.status_code == 200
    assert response.json()["data"]["id"] == str(ana.pk)
    assert client.get(f"{URL}/{ana.pk}").status_code == 404
    assert client.get(URL).json()["meta"]["total"] == 0
    with tenant_context(world_a.tenant):
        assert Customer.objects.get(pk=ana.pk).deleted_at is not None


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["data"]]


def test_search_matches_code_name_email_and_phone_digits(api, world_a, make_customer):
    make_customer("Ana Silva", email="ana.silva@example.com", phone="+351 912 000 111")
    make_customer("Bruno Costa", email="bruno@shop.test", phone="913-222-333")
    make_customer("Mariana Reis", email="reis@example.com")
    client = api(world_a.cashier)

    assert _names(client.get(URL, {"search": "ana"})) == ["Ana Silva", "Mariana Reis"]
    assert _names(client.get(URL, {"search": "SILVA"})) == ["Ana Silva"]
    assert _names(client.get(URL, {"search": "shop.test"})) == ["Bruno Costa"]
    assert _names(client.get(URL, {"search": "912 000"})) == ["Ana Silva"]
    assert _names(client.get(URL, {"search": "+351912"})) == ["Ana Silva"]
    assert _names(client.get(URL, {"search": "913-222"})) == ["Bruno Costa"]
    assert _names(client.get(URL, {"search": "c-900001"})) == ["Bruno Costa"]
    assert _names(client.get(URL, {"search": "ana example"})) == ["Ana Silva", "Mariana Reis"]
    assert _names(client.get(URL, {"search": "ana costa"})) == []
    assert _names(client.get(URL, {"search": "%"})) == []


def test_filters_by_group_balance_and_points(api, world_a, groups, make_customer):
    make_customer("Owes", group=groups["vip"], balance=Decimal("5.00"))
    make_customer("Credit", group=groups["staff"], balance=Decimal("-2.00"), loyalty_points=10)
    make_customer("Plain")
    client = api(world_a.manager)

    assert _names(client.get(URL, {"groupId": str(groups["vip"].pk)})) == ["Owes"]
    assert _names(client.get(URL, {"groupId": "none"})) == ["Plain"]
    assert _names(client.get(URL, {"hasBalance": "true"})) == ["Credit", "Owes"]
    assert _names(client.get(URL, {"hasBalance": "false"})) == ["Plain"]
    assert _names(client.get(URL, {"owes": "true"})) == ["Owes"]
    assert _names(client.get(URL, {"hasPoints": "true"})) == ["Credit"]
    assert _names(client.get(URL, {"sort": "-balance"})) == ["Owes", "Plain", "Credit"]
    for bad in ({"groupId": "vip"}, {"hasBalance": "yes"}):
        response = client.get(URL, bad)
        assert response.status_code == 400
        assert [d["field"] for d in response.json()["error"]["details"]] == list(bad)


def test_one_or_two_letter_searches_find_names_starting_with_them(api, world_a, make_customer):
    make_customer("Ana Silva")
    make_customer("Mariana Reis")
    make_customer("Anders Berg")
    make_customer("Joao Santos")
    client = api(world_a.cashier)

    assert _names(client.get(URL, {"search": "an"})) == ["Ana Silva", "Anders Berg"]
    assert _names(client.get(URL, {"search": "A"})) == ["Ana Silva", "Anders Berg"]
    assert _names(client.get(URL, {"search": "jo s"})) == ["Joao Santos"]
    assert _names(client.get(URL, {"search": "an silva"})) == ["Ana Silva"]  # "silva": trigrams


def test_a_search_counts_at_most_a_thousand(api, world_a):
    with tenant_context(world_a.tenant):
        Customer.objects.bulk_create(
            Customer(code=f"C-7{n:05d}", name=f"Capped {n:04d}") for n in range(1001)
        )
    client = api(world_a.cashier)

    searched = client.get(URL, {"search": "capped", "limit": 5})
    listed = client.get(URL, {"limit": 5})

    assert searched.status_code == 200
    assert searched.json()["meta"] == {
        "page": 1,
        "limit": 5,
        "total": 1000,
        "totalPages": 200,
        "totalCapped": True,
    }
    assert _names(searched) == [f"Capped {n:04d}" for n in range(5)]
    assert listed.json()["meta"]["total"] == 1001  # no search: the exact count
    assert "totalCapped" not in listed.json()["meta"]
