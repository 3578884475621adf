from __future__ import annotations

import pytest

from apps.audit.models import AuditLog
from apps.tenants.models import Tenant, TenantSettings

pytestmark = pytest.mark.django_db

ME = "/api/v1/tenants/me"
SETTINGS = "/api/v1/tenants/me/settings"


def test_profile_read_and_update(api, world_a):
    client = api(world_a.admin)
    assert client.get(ME).json()["data"]["slug"] == "acme"
    response = client.patch(
        ME,
        {"legalName": "Acme Retail Ltd", "taxId": "PT123", "website": "https://acme.example"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["data"]["legalName"] == "Acme Retail Ltd"
    assert Tenant.objects.get(pk=world_a.tenant.pk).tax_id == "PT123"
    entry = AuditLog.objects.get(action="tenant.update", tenant=world_a.tenant)
    assert entry.after == {
        "legal_name": "Acme Retail Ltd",
        "tax_id": "PT123",
        "website": "https://acme.example",
    }


def test_profile_cannot_change_slug_or_status(api, world_a):
    response = api(world_a.admin).patch(ME, {"slug": "evil", "status": "SUSPENDED"}, format="json")
    assert response.status_code == 200
    tenant = Tenant.objects.get(pk=world_a.tenant.pk)
    assert (tenant.slug, tenant.status) == ("acme", "ACTIVE")


def test_settings_defaults(api, world_a):
    data = api(world_a.admin).get(SETTINGS).json()["data"]
    assert (data["currency"], data["timezone"], data["taxRate"]) == ("USD", "UTC", "0.00")
    assert (data["cashRounding"], data["voidWindowHours"], data["receiptPaperWidthMm"]) == (
        "0.00",
        24,
        80,
    )


def test_settings_update(api, world_a):
    body = {
        "currency": "eur",
        "timezone": "Europe/Lisbon",
        "taxRate": "23.00",
        "pricesIncludeTax": True,
        "cashRounding": "0.05",
        "loyaltyEnabled": True,
        "loyaltyPointValue": "0.0200",
    }
    response = api(world_a.admin).patch(SETTINGS, body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["currency"], data["taxRate"], data["cashRounding"]) == ("EUR", "23.00", "0.05")
    stored = TenantSettings.objects.get(tenant=world_a.tenant)
    assert (stored.timezone, stored.prices_include_tax) == ("Europe/Lisbon", True)
    entry = AuditLog.objects.get(action="tenant.settings.update", tenant=world_a.tenant)
    assert entry.before["currency"] == "USD" and entry.after["currency"] == "EUR"
    assert "updated_at" not in entry.after


@pytest.mark.parametrize(
    "body, field",
    [
        ({"currency": "XXX"}, "currency"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"taxRate": "120.00"}, "taxRate"),
        ({"taxRate": "-1"}, "taxRate"),
        ({"taxRate": 12.5}, "taxRate"),  # money and rates travel as strings
        ({"cashRounding": "0.03"}, "cashRounding"),
        ({"invoicePrefix": "IN V"}, "invoicePrefix"),
        ({"voidWindowHours": 10000}, "voidWindowHours"),
        ({"receiptPaperWidthMm": 70}, "receiptPaperWidthMm"),
        ({"allowNegativeStock": "sometimes"}, "allowNegativeStock"),
        ({"loyaltyPointValue": "-0.5"}, "loyaltyPointValue"),
    ],
)
def test_invalid_settings_are_400_and_change_nothing(api, world_a, body, field):
    before = api(world_a.admin).get(SETTINGS).json()["data"]
    response = api(world_a.admin).patch(SETTINGS, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field
    assert api(world_a.admin).get(SETTINGS).json()["data"] == before


def test_dashboard_fields_are_fixed(api, world_a):
    data = api(world_a.admin).get("/api/v1/tenants/me/dashboard").json()["data"]
    assert data == {
        "today": {"salesCount": 0, "salesTotal": "0.00", "averageSale": "0.00"},
        "month": {"salesCount": 0, "salesTotal": "0.00", "averageSale": "0.00"},
        "stores": 2,
        "warehouses": 1,
        "activeUsers": 3,
        "products": 1,  # the world's Cola
        "customers": 0,
        "stockValue": "0.00",
        "lowStockCount": 0,
        "openTransfers": 0,
        "customerDues": "0.00",
    }


@pytest.mark.parametrize("path", [ME, SETTINGS, "/api/v1/tenants/me/dashboard"])
def test_only_admins_manage_the_company(api, world_a, path):
    assert api(world_a.manager).get(path).status_code == 403
    assert api(world_a.cashier).get(path).status_code == 403
