"""Cash-drawer shifts through the API: open, cash in and out, the X report derived from the
drawer's log, the close with its variance and frozen Z report, who sees what, and the company's
"open shift required" rule for sales, returns, voids and dues."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.pos.models import CashEvent, Shift, ZReport
from apps.pos.tests.conftest import SHIFTS, open_shift, x_report
from apps.sales.tests.conftest import sales_state
from tests.factories.sales import cash, line
from tests.factories.sales import checkout as sell
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

D = Decimal


def pos_state(world) -> dict:
    with tenant_context(world.tenant):
        state = {
            "shifts": list(Shift.objects.order_by("pk").values()),
            "cash": list(CashEvent.objects.order_by("pk").values()),
            "z": list(ZReport.objects.order_by("pk").values()),
        }
    connection.set_schema_to_public()
    state["audit"] = AuditLog.objects.filter(tenant=world.tenant).count()
    return state


def test_open_answers_the_shift_and_one_open_shift_per_cashier_and_per_drawer(api, world_a):
    cashier = api(world_a.cashier)
    shift = open_shift(cashier, world_a, "150.00")
    assert {k: shift[k] for k in ("storeId", "drawer", "cashierId", "status", "openingFloat")} == {
        "storeId": str(world_a.store.pk), "drawer": "MAIN", "cashierId": str(world_a.cashier.pk),
        "status": "OPEN", "openingFloat": "150.00",
    }  # fmt: skip
    assert shift["zReport"] is None and shift["previousClosingCount"] is None
    before = pos_state(world_a)
    again = cashier.post(
        SHIFTS, {"storeId": str(world_a.store.pk), "openingFloat": "1.00", "drawer": "SIDE"},
        format="json",
    )  # fmt: skip
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "SHIFT_ALREADY_OPEN"
    taken = api(world_a.manager).post(
        SHIFTS, {"storeId": str(world_a.store.pk), "openingFloat": "1.00"}, format="json"
    )
    assert taken.status_code == 409
    assert taken.json()["error"]["details"] == [{"field": "drawer", "message": "Open."}]
    assert pos_state(world_a) == before


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"openingFloat": "-1.00"}, 400, "openingFloat"),
        ({"openingFloat": "1.00", "drawer": "bad drawer!"}, 400, "drawer"),
        ({"openingFloat": "1.00", "storeId": "other"}, 403, None),
        ({"openingFloat": "1.00", "storeId": "warehouse"}, 422, "storeId"),
    ],
)
def test_open_refusals_change_nothing(api, world_a, body, status, field):
    store = {"other": world_a.other_store, "warehouse": world_a.warehouse}.get(
        body.pop("storeId", ""), world_a.store
    )
    caller = api(world_a.manager if status == 422 else world_a.cashier)
    before = pos_state(world_a)
    response = caller.post(SHIFTS, {"storeId": str(store.pk), **body}, format="json")
    assert response.status_code == status, response.content
    if field:
        assert response.json()["error"]["details"][0]["field"] == field
    assert pos_state(world_a) == before


def test_the_drawer_log_gives_the_expected_cash_to_the_cent(api, world_a, shelf):
    """Float 100; a cash sale of 2.40 paid with 10 (change 7.60); a card sale; a return of
    one water in cash; pay-in 20; pay-out 5.50; drop 50: expected 100 + 2.40 - 0.80 + 20 - 5.50
    - 50 = 66.10."""
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    shift = open_shift(cashier, world_a)
    cash_sale = sell(cashier, world_a, line(shelf.water, "3"), payments=[cash("10.00")])
    sell(cashier, world_a, line(shelf.wrap, "2"), payments=[{"method": "CARD", "amount": "2.00"}])
    water = cash_sale["items"][0]["id"]
    # the manager refunds at the till: the refund is logged in the manager's drawer, not here;
    # so the cashier (no sale:return) cannot, and the return comes from a manager's own shift
    manager_shift = open_shift(manager, world_a, "30.00", drawer="BACK")
    refund = manager.post(
        f"/api/v1/sales/{cash_sale['id']}/return",
        {"items": [{"itemId": water, "quantity": "1"}], "refundMethod": "CASH", "reason": "x"},
        format="json",
    )
    assert refund.status_code == 201, refund.content
    for kind, amount, reason in (
        ("PAY_IN", "20.00", "Change"), ("PAY_OUT", "5.50", "Window cleaner"),
        ("CASH_DROP", "50.00", "To the safe"),
    ):  # fmt: skip
        response = cashier.post(
            f"{SHIFTS}/{shift['id']}/cash",
            {"type": kind, "amount": amount, "reason": reason},
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["data"]["amount"] == (amount if kind == "PAY_IN" else f"-{amount}")
    report = x_report(cashier, shift["id"])
    assert {k: report[k] for k in (
        "openingFloat", "cashSales", "cashRefunds", "payIns", "payOuts", "drops", "expectedCash",
        "salesCount", "salesTotal", "returnsCount",
    )} == {
        "openingFloat": "100.00", "cashSales": "2.40", "cashRefunds": "0.00", "payIns": "20.00",
        "payOuts": "5.50", "drops": "50.00", "expectedCash": "66.90", "salesCount": 2,
        "salesTotal": "4.40", "returnsCount": 0,
    }  # fmt: skip
    assert report["byMethod"] == [
        {"method": "CARD", "total": "2.00"},
        {"method": "CASH", "total": "2.40"},  # 10.00 tendered, 7.60 change
    ]
    back = x_report(manager, manager_shift["id"])
    assert (back["cashRefunds"], back["expectedCash"], back["returnsCount"]) == (
        "0.80", "29.20", 1,
    )  # fmt: skip

    too_much = cashier.post(
        f"{SHIFTS}/{shift['id']}/cash",
        {"type": "CASH_DROP", "amount": "66.91", "reason": "All of it"},
        format="json",
    )
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "INSUFFICIENT_CASH"

    closed = cashier.post(f"{SHIFTS}/{shift['id']}/close", {"countedCash": "66.40"}, format="json")
    assert closed.status_code == 200, closed.content
    data = closed.json()["data"]
    assert (data["status"], data["expectedCash"], data["countedCash"], data["variance"]) == (
        "CLOSED", "66.90", "66.40", "-0.50",
    )  # fmt: skip
    z = data["zReport"]
    assert z["number"] == "Z-S1-000001"
    assert (z["figures"]["expectedCash"], z["figures"]["variance"]) == ("66.90", "-0.50")
    assert z["figures"]["salesCount"] == 2 and z["figures"]["forced"] is False


def test_a_closed_shift_and_its_z_report_are_frozen(api, world_a):
    cashier = api(world_a.cashier)
    shift = open_shift(cashier, world_a, "10.00")
    closed = cashier.post(f"{SHIFTS}/{shift['id']}/close", {"countedCash": "10.00"}, format="json")
    assert closed.status_code == 200
    again = cashier.post(f"{SHIFTS}/{shift['id']}/close", {"countedCash": "0.00"}, format="json")
    assert again.status_code == 422 and again.json()["error"]["code"] == "INVALID_STATE"
    pay_in = cashier.post(
        f"{SHIFTS}/{shift['id']}/cash", {"type": "PAY_IN", "amount": "1.00", "reason": "x"},
        format="json",
    )  # fmt: skip
    assert pay_in.status_code == 422
    with tenant_context(world_a.tenant):
        for statement in (
            "UPDATE pos_zreport SET data = '{}'",
            "DELETE FROM pos_zreport",
            "UPDATE pos_shift SET counted_cash = 99 WHERE status = 'CLOSED'",
            "DELETE FROM pos_shift",
        ):
            with pytest.raises(DatabaseError, match="frozen"), transaction.atomic():
                connection.cursor().execute(statement)
        assert ZReport.objects.get().data["counted_cash"] == "10.00"
        assert Shift.objects.get().counted_cash == D("10.00")


def test_the_next_float_is_compared_with_the_last_count(api, world_a):
    cashier = api(world_a.cashier)
    first = open_shift(cashier, world_a, "100.00")
    cashier.post(f"{SHIFTS}/{first['id']}/close", {"countedCash": "180.25"}, format="json")
    second = open_shift(cashier, world_a, "180.00")
    assert (second["previousClosingCount"], second["floatDifference"]) == ("180.25", "-0.25")


def test_a_cashier_sees_only_their_shifts_and_a_manager_force_closes(api, world_a, world_b):
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    mine = open_shift(cashier, world_a)
    other = open_shift(manager, world_a, "5.00", drawer="BACK")
    assert [s["id"] for s in cashier.get(SHIFTS).json()["data"]] == [mine["id"]]
    for path in (f"{SHIFTS}/{other['id']}", f"{SHIFTS}/{other['id']}/x-report"):
        assert cashier.get(path).status_code == 404
    refused = cashier.post(f"{SHIFTS}/{other['id']}/close", {"countedCash": "5"}, format="json")
    assert refused.status_code == 404
    assert {s["id"] for s in manager.get(SHIFTS).json()["data"]} == {mine["id"], other["id"]}
    assert api(world_b.admin).get(f"{SHIFTS}/{mine['id']}").status_code == 404

    forced = manager.post(f"{SHIFTS}/{mine['id']}/close", {"countedCash": "100"}, format="json")
    assert forced.status_code == 200
    assert (forced.json()["data"]["forced"], forced.json()["data"]["closedBy"]) == (
        True, str(world_a.manager.pk),
    )  # fmt: skip
    entry = AuditLog.objects.filter(action="shift.close").get()
    assert (entry.actor_id, entry.entity_id, entry.after["forced"]) == (
        world_a.manager.pk, mine["id"], True,
    )  # fmt: skip


def test_every_sale_records_its_shift_and_the_company_may_require_one(api, world_a, shelf):
    company(world_a, require_open_shift=True)
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    before = sales_state(world_a)
    refused = cashier.post(
        "/api/v1/sales/checkout",
        {"storeId": str(world_a.store.pk), "items": [line(shelf.water)], "payments": [cash("1")]},
        format="json",
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "SHIFT_REQUIRED"
    assert sales_state(world_a) == before
    shift = open_shift(cashier, world_a)
    sale = sell(cashier, world_a, line(shelf.water, "2"), payments=[cash("2.00")])
    from apps.sales.models import Payment, Sale

    with tenant_context(world_a.tenant):
        assert str(Sale.objects.get(pk=sale["id"]).shift_id) == shift["id"]
        assert {str(p.shift_id) for p in Payment.objects.filter(sale_id=sale["id"])} == {
            shift["id"]
        }
    # at another store, where no drawer is open, a manager's cash sale is refused
    before = sales_state(world_a)
    elsewhere = manager.post(
        "/api/v1/sales/checkout",
        {"storeId": str(world_a.other_store.pk), "items": [line(shelf.wrap)],
         "payments": [cash("1.00")]},
        format="json",
    )  # fmt: skip
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["code"] == "SHIFT_REQUIRED"
    assert sales_state(world_a) == before
    # with a shift of their own, the manager's void is logged in their drawer
    manager_shift = open_shift(manager, world_a, "10.00", drawer="BACK")
    void = manager.post(f"/api/v1/sales/{sale['id']}/void", {"reason": "Wrong"}, format="json")
    assert void.status_code == 200, void.content
    report = x_report(manager, manager_shift["id"])
    assert (report["cashVoids"], report["voidsCount"], report["expectedCash"]) == (
        "1.60", 1, "8.40",
    )  # fmt: skip
    assert x_report(cashier, shift["id"])["voidedSalesCount"] == 1


def test_opened_and_closed_reach_the_store_after_commit(
    api, world_a, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from apps.core.events import store_group

    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(
        store_group(world_a.tenant.schema_name, world_a.store.pk), channel
    )
    cashier = api(world_a.cashier)
    with django_capture_on_commit_callbacks(execute=True):
        shift = open_shift(cashier, world_a, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        cashier.post(f"{SHIFTS}/{shift['id']}/close", {"countedCash": "10.00"}, format="json")
    received = []
    while layer.channels.get(channel) and not layer.channels[channel].empty():
        received.append(async_to_sync(layer.receive)(channel))
    assert [(m["event"], m["data"]["status"]) for m in received] == [
        ("shift.opened", "OPEN"),
        ("shift.closed", "CLOSED"),
    ]
    assert received[1]["data"]["zReport"] == "Z-S1-000001"
    assert received[0]["data"]["cashierId"] == str(world_a.cashier.pk)
