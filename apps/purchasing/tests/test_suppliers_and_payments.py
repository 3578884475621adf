"""Suppliers and what the shop owes them: the API's wire format, refusals that change nothing,
and, as a property (hypothesis), any sequence of receipts and payments keeps every order's
paid and due amounts and the supplier's balance equal to its ledger, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import BusinessRuleViolation
from apps.purchasing import selectors, services
from apps.purchasing.models import PurchaseOrder, Supplier
from apps.purchasing.tests.conftest import PURCHASES, order, purchasing_state

pytestmark = pytest.mark.django_db

D = Decimal
SUPPLIERS = "/api/v1/suppliers"


def test_create_an_order_through_the_api(api, world_a, goods, acme):
    manager = api(world_a.manager)
    response = manager.post(
        PURCHASES,
        {
            "supplierId": str(acme.pk), "storeId": str(world_a.warehouse.pk),
            "expectedAt": "2026-12-01", "note": "Weekly",
            "items": [
                {"productId": str(goods.water.pk), "quantity": "7", "unitCost": "1.3333"},
                {"productId": str(goods.beans.pk), "quantity": "2.5", "unitCost": "10.005"},
            ],
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (
        data["number"],
        data["status"],
        data["total"],
        data["paidTotal"],
        data["dueAmount"],
        data["currency"],
    ) == (
        "PO-000001",
        "ORDERED",
        "34.34",
        "0.00",
        "34.34",
        "USD",  # the company's when ordered, kept by the order
    )  # fmt: skip  (9.3331 -> 9.33; 25.0125 -> 25.01)
    assert [(i["quantity"], i["receivedQuantity"], i["unitCost"], i["lineTotal"])
            for i in data["items"]] == [
        ("7", "0", "1.3333", "9.33"), ("2.5", "0", "10.0050", "25.01"),
    ]  # fmt: skip
    before = purchasing_state(world_a)
    for items, field in (
        ([{"productId": str(goods.water.pk), "quantity": "1", "unitCost": "1.00001"}],
         "items.0.unitCost"),
        ([{"productId": str(goods.water.pk), "quantity": "1.5", "unitCost": "1"}],
         "items.0.quantity"),
        ([{"productId": str(goods.wrap.pk), "quantity": "1", "unitCost": "1"}], "items.0"),
        ([], "items"),
    ):  # fmt: skip
        refused = manager.post(
            PURCHASES,
            {"supplierId": str(acme.pk), "storeId": str(world_a.store.pk), "items": items},
            format="json",
        )
        assert refused.status_code in (400, 422), refused.content
        assert refused.json()["error"]["details"][0]["field"] == field
    assert purchasing_state(world_a) == before


def test_suppliers_are_unique_and_deleted_only_when_settled(api, world_a, goods, acme):
    manager = api(world_a.manager)
    created = manager.post(SUPPLIERS, {"name": "Beta Drinks", "paymentTermsDays": 30},
                           format="json")  # fmt: skip
    assert created.status_code == 201
    assert (created.json()["data"]["balance"], created.json()["data"]["ledger"]) == ("0.00", [])
    before = purchasing_state(world_a)
    again = manager.post(SUPPLIERS, {"name": " acme foods "}, format="json")
    assert again.status_code == 409
    assert purchasing_state(world_a) == before
    po = order(world_a, acme, (goods.water, "2", "3.00"))
    busy = manager.delete(f"{SUPPLIERS}/{acme.pk}")
    assert busy.status_code == 422 and busy.json()["error"]["code"] == "IN_USE"
    with tenant_context(world_a.tenant):
        line = po.items.get()
        services.purchase_receive(
            actor=world_a.manager, order_id=po.pk,
            items=[services.ReceiveLine(item_id=line.pk, quantity=D("2"))],
        )  # fmt: skip
    owing = manager.delete(f"{SUPPLIERS}/{acme.pk}")
    assert owing.status_code == 422 and owing.json()["error"]["code"] == "BALANCE_NOT_ZERO"
    paid = manager.post(
        f"{PURCHASES}/{po.pk}/payment", {"amount": "6.00", "method": "BANK_TRANSFER"},
        format="json",
    )  # fmt: skip
    assert paid.status_code == 201 and paid.json()["data"]["dueAmount"] == "0.00"
    detail = manager.get(f"{SUPPLIERS}/{acme.pk}").json()["data"]
    assert detail["balance"] == "0.00"
    assert [(e["type"], e["amount"], e["balance"]) for e in detail["ledger"]] == [
        ("RECEIPT", "6.00", "6.00"), ("PAYMENT", "-6.00", "0.00"),
    ]  # fmt: skip
    assert [o["number"] for o in detail["recentOrders"]] == [po.number]
    assert manager.delete(f"{SUPPLIERS}/{acme.pk}").status_code == 200
    assert manager.get(f"{SUPPLIERS}/{acme.pk}").status_code == 404
    assert api(world_a.cashier).get(SUPPLIERS).status_code == 403


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["receive", "pay", "close"]),
            st.integers(0, 1),  # which order
            st.integers(1, 400),  # a quantity (tenths) or an amount (cents)
        ),
        min_size=1,
        max_size=10,
    )
)
def test_balances_and_dues_always_equal_the_ledger(world_a, goods, steps):
    with tenant_context(world_a.tenant):
        supplier = Supplier.objects.create(name=f"Property supplier {Supplier.objects.count()}")
    orders = [
        order(world_a, supplier, (goods.beans, "12.5", "3.3333")),  # 41.67
        order(world_a, supplier, (goods.beans, "4", "0.9999"), (goods.water, "3", "2.10")),
    ]
    with tenant_context(world_a.tenant):
        for step, which, size in steps:
            po = PurchaseOrder.objects.get(pk=orders[which].pk)
            try:
                if step == "receive":
                    line = po.items.order_by("position").first()
                    left = line.quantity - line.received_quantity
                    quantity = min(D(size) / 10, left) or D("0.1")
                    services.purchase_receive(
                        actor=world_a.manager, order_id=po.pk,
                        items=[services.ReceiveLine(item_id=line.pk, quantity=quantity)],
                    )  # fmt: skip
                elif step == "pay":
                    services.purchase_pay(
                        actor=world_a.manager, order_id=po.pk, amount=D(size) / 100,
                        method="CASH",
                    )  # fmt: skip
                else:
                    services.purchase_cancel(actor=world_a.manager, order_id=po.pk)
            except BusinessRuleViolation as refused:  # the rules, not a failure
                assert refused.code in (
                    "AMOUNT_EXCEEDS_DUE", "RECEIVE_EXCEEDS_ORDERED", "INVALID_STATE",
                )  # fmt: skip
        supplier.refresh_from_db()
        ledger = selectors.supplier_ledger(supplier)
        received = sum((e["amount"] for e in ledger if e["type"] == "RECEIPT"), D("0.00"))
        paid = -sum((e["amount"] for e in ledger if e["type"] == "PAYMENT"), D("0.00"))
        assert supplier.balance == received - paid == (ledger[-1]["balance"] if ledger else 0)
        for po in PurchaseOrder.objects.filter(supplier=supplier):
            assert po.paid_total == sum((p.amount for p in po.payments.all()), D("0.00"))
            assert po.received_total == sum((r.value for r in po.receipts.all()), D("0.00"))
            assert D("0.00") <= po.due_amount == po.payable_total - po.paid_total
            for line in po.items.all():
                if line.received_quantity == line.quantity:
                    from apps.purchasing.models import PurchaseReceiptItem

                    values = PurchaseReceiptItem.objects.filter(item=line).values_list(
                        "value", flat=True
                    )
                    assert sum(values, D("0.00")) == line.line_total


def test_supplier_search_and_lookup(api, world_a, acme):
    with tenant_context(world_a.tenant):
        Supplier.objects.create(name="Beta Drinks", contact_name="Maria Acmeira", phone="555 0101")
        Supplier.objects.create(name="Gamma Paper")
    manager = api(world_a.manager)
    found = manager.get(SUPPLIERS, {"search": "acme"}).json()["data"]
    assert [s["name"] for s in found] == ["Acme Foods", "Beta Drinks"]  # name or contact
    looked = manager.get("/api/v1/lookups/suppliers", {"search": "0101"}).json()["data"]
    assert [(s["label"], s["phone"]) for s in looked] == [("Beta Drinks", "555 0101")]
    assert api(world_a.cashier).get("/api/v1/lookups/suppliers").status_code == 403
