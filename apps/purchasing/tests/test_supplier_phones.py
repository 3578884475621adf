"""Suppliers' phones go through the customers' normaliser (apps.core.phones, issue 25): stored and
sent in E.164, read in the company's country; invalid ones 400 changing nothing; a whole number
in any form finds the supplier; migration 0003 normalises existing phones."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.purchasing.models import Supplier

pytestmark = pytest.mark.django_db

URL = "/api/v1/suppliers"
migration = importlib.import_module("apps.purchasing.migrations.0003_supplier_phone_e164")


def _suppliers(world) -> list[tuple]:
    with tenant_context(world.tenant):
        return list(Supplier.objects.order_by("name").values_list("name", "phone", "updated_at"))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("210 100 200", "+351210100200"), ("+351 210-100-200", "+351210100200"), ("", "")],
)
def test_a_suppliers_phone_is_stored_and_sent_in_e164(api, world_a, company_country, typed, stored):
    company_country(world_a, "PT")
    client = api(world_a.manager)

    created = client.post(URL, {"name": "Fresh Foods", "phone": typed}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["data"]["phone"] == stored
    supplier_id = created.json()["data"]["id"]
    updated = client.patch(f"{URL}/{supplier_id}", {"phone": "00351 220 500 600"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["data"]["phone"] == "+351220500600"
    with tenant_context(world_a.tenant):
        assert Supplier.objects.get(pk=supplier_id).phone == "+351220500600"


@pytest.mark.parametrize(
    ("country", "typed", "message"),
    [
        ("", "210 100 200", "Type it with its country code, e.g. +351 912 345 678: the company"
                            " has no country set."),
        ("PT", "1234", "Not a valid phone number in PT."),
        ("PT", "ring Rita", "A phone number: digits, with optional '+', spaces, '-', '.', '(' or"
                            " ')'."),
    ],
)  # fmt: skip
def test_an_invalid_suppliers_phone_is_400_and_changes_nothing(
    api, world_a, company_country, country, typed, message
):
    company_country(world_a, country)
    with tenant_context(world_a.tenant):
        rita = Supplier.objects.create(name="Rita Supplies", phone="+351210100200")
    before = _suppliers(world_a)
    client = api(world_a.manager)

    created = client.post(URL, {"name": "New supplier", "phone": typed}, format="json")
    updated = client.patch(f"{URL}/{rita.pk}", {"phone": typed}, format="json")

    for response in (created, updated):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert response.json()["error"]["details"] == [{"field": "phone", "message": message}]
    assert _suppliers(world_a) == before


@pytest.mark.parametrize(
    "typed", ["210100200", "+351210100200", "210 100 200", "00351 210 100 200", "100 200"]
)
def test_a_supplier_is_found_by_its_phone_in_any_form(api, world_a, company_country, typed):
    company_country(world_a, "PT")
    with tenant_context(world_a.tenant):
        Supplier.objects.create(name="Fresh Foods", phone="+351210100200")
        Supplier.objects.create(name="Lisbon Beverages", phone="+351210300400")
    client = api(world_a.manager)

    listed = client.get(URL, {"search": typed}).json()["data"]
    looked = client.get("/api/v1/lookups/suppliers", {"search": typed}).json()["data"]

    assert [s["name"] for s in listed] == ["Fresh Foods"]
    assert [s["label"] for s in looked] == ["Fresh Foods"]


def test_migration_normalises_existing_suppliers_phones(world_a, company_country):
    company_country(world_a, "PT")
    with tenant_context(world_a.tenant):
        for name, phone in [
            ("National", "210 100 200"),
            ("International", "+351 210-300-400"),
            ("Same number", "+351 210 100 200"),  # not unique: both normalised
            ("Foreign", "+44 20 7946 0958"),
            ("Invalid", "555 0101"),
            ("None", ""),
        ]:
            Supplier.objects.create(name=name, phone=phone)

        migration.phones_normalise(None, SimpleNamespace(connection=connection))

        assert dict(Supplier.objects.values_list("name", "phone")) == {
            "National": "+351210100200",
            "International": "+351210300400",
            "Same number": "+351210100200",
            "Foreign": "+442079460958",
            "Invalid": "555 0101",
            "None": "",
        }
