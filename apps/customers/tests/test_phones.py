"""Phone numbers are stored in E.164, read in the company's country (issue 25, point 9): one
customer however the number is typed, found by any of its forms; invalid numbers are a 400 that
changes nothing; migration 0003 normalises existing rows without failing on the duplicates it
reveals."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.customers.models import Customer
from apps.customers.tests.conftest import customers_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"
CC_FORM = "Type it with its country code, e.g. +351 912 345 678: the company has no country set."
migration = importlib.import_module("apps.customers.migrations.0003_phone_e164")


def _error(response) -> tuple[int, str, list]:
    body = response.json()
    return response.status_code, body["error"]["code"], body["error"]["details"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("912 345 678", "+351912345678"),
        ("+351 912 345 678", "+351912345678"),
        ("00351 912-345-678", "+351912345678"),
        ("912.345.678", "+351912345678"),
        ("21 123 4567", "+351211234567"),
        ("+44 20 7946 0958", "+442079460958"),  # a foreign number keeps its own country
    ],
)
def test_a_phone_is_stored_and_sent_in_e164(api, world_a, company_country, typed, stored):
    company_country(world_a, "PT")

    response = api(world_a.cashier).post(URL, {"name": "Ana", "phone": typed}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["data"]["phone"] == stored
    with tenant_context(world_a.tenant):
        assert Customer.objects.get(pk=response.json()["data"]["id"]).phone == stored


@pytest.mark.parametrize(
    "typed", ["912 345 678", "+351 912 345 678", "912345678", "00351912345678", "+351912345678"]
)
def test_the_same_number_typed_otherwise_is_the_same_customer(
    api, world_a, company_country, make_customer, typed
):
    company_country(world_a, "PT")
    make_customer("Ana", phone="+351912345678")
    before = customers_state(world_a)

    response = api(world_a.manager).post(URL, {"name": "Ana again", "phone": typed}, format="json")

    assert _error(response) == (409, "CONFLICT", [{"field": "phone", "message": "Already in use."}])
    assert customers_state(world_a) == before
    with tenant_context(world_a.tenant):
        assert Customer.objects.count() == 1


def test_an_update_to_another_customers_number_is_409(api, world_a, company_country, make_customer):
    company_country(world_a, "PT")
    make_customer("Ana", phone="+351912345678")
    bruno = make_customer("Bruno", phone="+351913000111")
    before = customers_state(world_a)

    response = api(world_a.manager).patch(
        f"{URL}/{bruno.pk}", {"phone": "912 345 678"}, format="json"
    )

    assert _error(response) == (409, "CONFLICT", [{"field": "phone", "message": "Already in use."}])
    assert customers_state(world_a) == before


@pytest.mark.parametrize(
    ("country", "typed", "message"),
    [
        ("", "912 345 678", CC_FORM),
        ("", "00351 912 345 678", CC_FORM),
        ("PT", "123 45", "Not a valid phone number in PT."),
        ("PT", "812 345 678", "Not a valid phone number in PT."),
        ("PT", "+351 12345", "Not a valid phone number."),
        ("", "+1 555 0100", "Not a valid phone number."),
        (
            "PT",
            "912 345 678 ext 2",
            "A phone number: digits, with optional '+', spaces, '-', '.', '(' or ')'.",
        ),
    ],
)
def test_an_invalid_phone_is_400_on_create_and_update_and_changes_nothing(
    api, world_a, company_country, make_customer, country, typed, message
):
    company_country(world_a, country)
    ana = make_customer("Ana", phone="+351913000111")
    before = customers_state(world_a)
    client = api(world_a.manager)

    created = client.post(URL, {"name": "New", "phone": typed}, format="json")
    updated = client.patch(f"{URL}/{ana.pk}", {"phone": typed}, format="json")

    for response in (created, updated):
        assert _error(response) == (
            400,
            "VALIDATION_ERROR",
            [{"field": "phone", "message": message}],
        )
    assert customers_state(world_a) == before
    with tenant_context(world_a.tenant):
        assert Customer.objects.count() == 1


def test_without_a_country_the_international_form_is_accepted(api, world_a, company_country):
    company_country(world_a, "")

    response = api(world_a.cashier).post(
        URL, {"name": "Ana", "phone": "+351 912 345 678"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["data"]["phone"] == "+351912345678"


def test_a_phone_kept_as_typed_may_be_resent_unchanged(
    api, world_a, company_country, make_customer
):
    """A form re-sends every field: a phone migration 0003 left as typed must not block the edit."""
    company_country(world_a, "PT")
    legacy = make_customer("Legacy", phone="912 000")

    response = api(world_a.cashier).patch(
        f"{URL}/{legacy.pk}", {"name": "Legacy Renamed", "phone": "912 000"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["data"]["name"], response.json()["data"]["phone"]) == (
        "Legacy Renamed",
        "912 000",
    )


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["data"]]


@pytest.mark.parametrize(
    "typed",
    ["912345678", "+351912345678", "912 345 678", "+351 912 345 678", "00351 912-345-678",
     "912 345", "345 678"],
)  # fmt: skip
def test_search_finds_the_customer_whatever_form_is_typed(
    api, world_a, company_country, make_customer, typed
):
    company_country(world_a, "PT")
    make_customer("Ana Silva", phone="+351912345678")
    make_customer("Bruno Costa", phone="+351913000111")
    make_customer("Carla Dias", phone="+442079460958")
    client = api(world_a.cashier)

    assert _names(client.get(URL, {"search": typed})) == ["Ana Silva"]
    lookup = client.get("/api/v1/lookups/customers", {"search": typed})
    assert [row["label"] for row in lookup.json()["data"]] == ["Ana Silva"]
    assert _names(client.get("/api/v1/pos/customers", {"search": typed})) == ["Ana Silva"]


def test_search_reads_a_national_number_in_the_company_country(
    api, world_a, company_country, make_customer
):
    """A national trunk prefix ("0" in the UK) is not among the stored digits: the typed number
    is read in the company's country to find it."""
    company_country(world_a, "GB")
    make_customer("Carla Dias", phone="+447400123456")
    make_customer("Ana Silva", phone="+351912345678")
    client = api(world_a.cashier)

    assert _names(client.get(URL, {"search": "07400 123456"})) == ["Carla Dias"]
    assert _names(client.get(URL, {"search": "+44 7400 123456"})) == ["Carla Dias"]


def test_search_finds_a_phone_kept_as_typed_by_its_digits(
    api, world_a, company_country, make_customer
):
    company_country(world_a, "PT")
    make_customer("Ana Silva", phone="+351912345678")
    make_customer("Ana Legacy", phone="912 345 678")  # a duplicate migration 0003 left as typed
    client = api(world_a.cashier)

    assert _names(client.get(URL, {"search": "+351 912 345 678"})) == ["Ana Legacy", "Ana Silva"]


# --- migration 0003 -------------------------------------------------------------------------------
def _at(minute: int) -> datetime:
    return datetime(2026, 1, 1, 12, minute, tzinfo=UTC)


def _normalise_existing(world) -> dict[str, tuple[str, str]]:
    with tenant_context(world.tenant):
        migration.phones_normalise(None, SimpleNamespace(connection=connection))
        return {c.name: (c.phone, c.notes) for c in Customer.objects.all()}


def test_migration_normalises_in_the_company_country_and_keeps_duplicates_as_typed(
    world_a, company_country, make_customer
):
    company_country(world_a, "PT")
    rows = [  # (name, phone, created minute, notes, deleted)
        ("Oldest", "+351 912 345 678", 1, "", False),
        ("Later twin", "912 345 678", 2, "Prefers SMS", False),
        ("Older than holder", "912 000 111", 3, "", False),
        ("Holder in E.164", "+351912000111", 4, "", False),
        ("Invalid", "12345", 5, "", False),
        ("Deleted", "913 222 333", 6, "", True),
        ("Live after deleted", "+351 913-222-333", 7, "", False),
        ("No phone", "", 8, "", False),
        ("Foreign", "+44 20 7946 0958", 9, "", False),
    ]
    codes = {}
    for name, phone, minute, notes, deleted in rows:
        customer = make_customer(
            name,
            phone=phone,
            notes=notes,
            created_at=_at(minute),
            deleted_at=_at(30) if deleted else None,
        )
        codes[name] = customer.code

    after = _normalise_existing(world_a)

    assert after == {
        "Oldest": ("+351912345678", ""),
        "Later twin": (
            "912 345 678",
            "Prefers SMS\nPhone 912 345 678 is +351912345678, the number of customer"
            f" {codes['Oldest']}: kept as typed when phones became E.164 (issue 25).",
        ),
        "Older than holder": (
            "912 000 111",
            "Phone 912 000 111 is +351912000111, the number of customer"
            f" {codes['Holder in E.164']}: kept as typed when phones became E.164 (issue 25).",
        ),
        "Holder in E.164": ("+351912000111", ""),
        "Invalid": ("12345", ""),
        "Deleted": ("+351913222333", ""),
        "Live after deleted": ("+351913222333", ""),
        "No phone": ("", ""),
        "Foreign": ("+442079460958", ""),
    }
    # run again: nothing more changes (the notes are not repeated)
    assert _normalise_existing(world_a) == after


def test_migration_without_a_country_normalises_only_the_international_form(
    world_a, company_country, make_customer
):
    company_country(world_a, "")
    make_customer("International", phone="+351 912 345 678", created_at=_at(1))
    make_customer("National", phone="912 345 678", created_at=_at(2))

    assert _normalise_existing(world_a) == {
        "International": ("+351912345678", ""),
        "National": ("912 345 678", ""),
    }
