"""Every form of a receipt shows the figures the sale STORED, in the sale's own currency and
pricing mode (issue 25, points 1 and 2), whatever the company's settings say now:
- prices include tax: subtotal - discounts + rounding = total, the tax shown as included;
- prices exclude tax: subtotal - discounts + tax + rounding = total."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.inventory.services import AdjustItem, stock_adjust
from apps.receipts.tests.conftest import checkout, pdf_text
from apps.sales.models import Sale, SaleReturn
from tests.factories.sales import line
from tests.factories.tenants import company

pytestmark = pytest.mark.django_db

FIGURES = ("subtotal", "discount_total", "tax_total", "rounding_adjustment", "total")
TOTALS_ROW = re.compile(
    r'<tr class="(?:strong)?" data-total="([a-z-]+)">\s*<td>([^<]*)</td><td class="v">([^<]*)</td>'
)


def stored_figures(world, sale_id) -> tuple:
    with tenant_context(world.tenant):
        sale = Sale.objects.get(pk=sale_id)
        return (sale.currency, sale.prices_include_tax, *(getattr(sale, f) for f in FIGURES))


def text_totals(text: str) -> list[str]:
    """The block of the text receipt from its Subtotal line to the line before the next rule."""
    lines = text.splitlines()
    start = next(i for i, text in enumerate(lines) if text.startswith("Subtotal"))
    end = next(i for i in range(start, len(lines)) if set(lines[i]) == {"-"})
    return lines[start:end]


def row(label: str, value: str, width: int = 48) -> str:
    return label + value.rjust(width - len(label))


def test_an_inclusive_discounted_sale_in_every_format(api, world_a, inclusive_sale):
    assert stored_figures(world_a, inclusive_sale["id"]) == (
        "USD", True, Decimal("22.94"), Decimal("4.29"), Decimal("3.49"), Decimal("0.00"),
        Decimal("18.65"),
    )  # fmt: skip
    client = api(world_a.admin)
    url = f"/api/v1/receipts/sale/{inclusive_sale['id']}"
    body = client.get(url).json()["data"]
    data = body["data"]
    assert (data["currency"], data["pricesIncludeTax"]) == ("USD", True)
    assert data["totals"] == {
        "subtotal": "22.94", "discountTotal": "4.29", "taxTotal": "3.49",
        "roundingAdjustment": "0.00", "total": "18.65",
    }  # fmt: skip
    assert [(i["quantity"], i["unitPrice"], i["discount"], i["tax"], i["total"])
            for i in data["items"]] == [("2.000", "11.47", "4.29", "3.49", "18.65")]  # fmt: skip
    assert data["taxSummary"] == [{"rate": "23.00", "base": "15.16", "tax": "3.49"}]

    expected_rows = [
        ("subtotal", "Subtotal", "22.94"),
        ("discounts", "Discounts", "-4.29"),
        ("total", "TOTAL USD", "18.65"),
        ("tax-included", "Tax included 23%", "3.49"),  # in the total, not added to it
    ]
    assert TOTALS_ROW.findall(body["html"]) == expected_rows
    html = client.get(url, {"format": "html"}).content.decode()
    assert TOTALS_ROW.findall(html) == expected_rows

    text = client.get(url, {"format": "text", "paper": "80mm"}).content.decode()
    assert text_totals(text) == [
        row("Subtotal", "22.94"),
        row("Discounts", "-4.29"),
        row("TOTAL USD", "18.65"),
        row("Tax included 23%", "3.49"),
    ]
    # the line: 2 x 11.47 less its discount, as the totals add it up
    assert "\n" + row("  2 x 11.47", "18.65") + "\n  Discount -4.29\n" in text
    narrow = client.get(url, {"format": "text", "paper": "58mm"}).content.decode()
    assert text_totals(narrow) == [
        row("Subtotal", "22.94", 32),
        row("Discounts", "-4.29", 32),
        row("TOTAL USD", "18.65", 32),
        row("Tax included 23%", "3.49", 32),
    ]

    _pages, pdf = pdf_text(client.get(url, {"format": "pdf"}).content)
    for label, value in (("Subtotal", "22.94"), ("Discounts", "-4.29"), ("TOTAL USD", "18.65"),
                         ("Tax included 23%", "3.49")):  # fmt: skip
        assert re.search(rf"{re.escape(label)}\s*{re.escape(value)}", pdf), (label, pdf)


def _exclusive_sale(api, world) -> dict:
    """Prices exclude tax, cash rounded to 0.05: 2 x 10.00 at 23 % with a 1.00 cart discount,
    30.00 in cash. Stored: subtotal 20.00, discounts 1.00, tax 4.37, rounding -0.02, total
    23.35 (23.37 rounded), change 6.65."""
    company(world, prices_include_tax=False, currency="USD", cash_rounding="0.05")
    with tenant_context(world.tenant):
        pads = Product.objects.create(
            name="Notepads", sku="R-PADS", status="ACTIVE", sell_price=Decimal("10.00"),
            cost_price=Decimal("3.00"), tax_rate=Decimal("23.00"),
        )  # fmt: skip
        stock_adjust(
            actor=world.admin, store_id=world.store.pk, reason="FOUND",
            items=[AdjustItem(pads.pk, None, Decimal("10"))],
        )  # fmt: skip
    return checkout(
        api(world.admin), world, line(pads, "2"),
        payments=[{"method": "CASH", "amount": "30.00"}],
        discount={"type": "AMOUNT", "value": "1.00"},
    )  # fmt: skip


def test_an_exclusive_discounted_sale_with_cash_rounding_in_every_format(api, world_a, goods):
    sale = _exclusive_sale(api, world_a)
    assert stored_figures(world_a, sale["id"]) == (
        "USD", False, Decimal("20.00"), Decimal("1.00"), Decimal("4.37"), Decimal("-0.02"),
        Decimal("23.35"),
    )  # fmt: skip
    client = api(world_a.admin)
    url = f"/api/v1/receipts/sale/{sale['id']}"
    body = client.get(url).json()["data"]
    assert (body["data"]["currency"], body["data"]["pricesIncludeTax"]) == ("USD", False)
    assert body["data"]["totals"] == {
        "subtotal": "20.00", "discountTotal": "1.00", "taxTotal": "4.37",
        "roundingAdjustment": "-0.02", "total": "23.35",
    }  # fmt: skip
    expected_rows = [
        ("subtotal", "Subtotal", "20.00"),
        ("discounts", "Discounts", "-1.00"),
        ("tax", "Tax", "4.37"),
        ("rounding", "Rounding", "-0.02"),
        ("total", "TOTAL USD", "23.35"),
    ]
    assert TOTALS_ROW.findall(body["html"]) == expected_rows
    assert TOTALS_ROW.findall(client.get(url, {"format": "html"}).content.decode()) == (
        expected_rows
    )
    text = client.get(url, {"format": "text"}).content.decode()
    assert text_totals(text) == [
        row("Subtotal", "20.00"),
        row("Discounts", "-1.00"),
        row("Tax", "4.37"),
        row("Rounding", "-0.02"),
        row("TOTAL USD", "23.35"),
    ]
    # the line without the tax the totals add: 2 x 10.00 - 1.00
    assert "\n" + row("  2 x 10.00", "19.00") + "\n  Discount -1.00\n" in text
    assert "Tax included" not in text


def test_a_return_receipt_of_an_exclusive_sale_adds_up_in_its_mode(api, world_a, goods):
    sale = _exclusive_sale(api, world_a)
    client = api(world_a.admin)
    with tenant_context(world_a.tenant):
        item = Sale.objects.get(pk=sale["id"]).items.get()
    returned = client.post(
        f"/api/v1/sales/{sale['id']}/return",
        {
            "items": [{"itemId": str(item.pk), "quantity": "1"}],
            "refundMethod": "CASH",
            "reason": "Too many",
        },
        format="json",
    )
    assert returned.status_code == 201, returned.content
    with tenant_context(world_a.tenant):
        refund = SaleReturn.objects.get(pk=returned.json()["data"]["id"])
    # half the line's 23.37 (11.69, 2.19 of it tax) less half the sale's cash rounding (0.01)
    assert (refund.refund_total, refund.currency, refund.prices_include_tax) == (
        Decimal("11.68"), "USD", False,
    )  # fmt: skip
    url = f"/api/v1/receipts/sale/{sale['id']}"
    data = client.get(url, {"returnId": str(refund.pk)}).json()["data"]["data"]
    assert (data["currency"], data["pricesIncludeTax"]) == ("USD", False)
    assert data["totals"] == {
        "subtotal": "9.50", "discountTotal": "0.00", "taxTotal": "2.19",
        "roundingAdjustment": "-0.01", "total": "11.68",
    }  # fmt: skip
    text = client.get(url, {"returnId": str(refund.pk), "format": "text"}).content.decode()
    assert text_totals(text) == [
        row("Subtotal", "9.50"),
        row("Tax", "2.19"),
        row("Rounding", "-0.01"),
        row("REFUND USD", "11.68"),
    ]


def test_a_receipt_keeps_the_sales_currency_and_mode_when_the_company_changes(
    api, world_a, inclusive_sale
):
    # the company's settings changed behind the services' back (a forced change, or an old
    # row): the receipt still says what the sale was made in
    company(world_a, currency="EUR", prices_include_tax=False)
    client = api(world_a.admin)
    url = f"/api/v1/receipts/sale/{inclusive_sale['id']}"
    body = client.get(url).json()["data"]
    assert (body["data"]["currency"], body["data"]["pricesIncludeTax"]) == ("USD", True)
    assert body["data"]["totals"]["total"] == "18.65"
    for form in (body["html"], client.get(url, {"format": "html"}).content.decode(),
                 client.get(url, {"format": "text"}).content.decode()):  # fmt: skip
        assert "TOTAL USD" in form and "EUR" not in form
        assert "Tax included 23%" in form
    _pages, pdf = pdf_text(client.get(url, {"format": "pdf"}).content)
    assert "TOTAL USD" in pdf and "EUR" not in pdf
    void = client.post(f"/api/v1/sales/{inclusive_sale['id']}/void", {"reason": "x"}, format="json")
    assert void.status_code == 200, void.content
    voided = client.get(url, {"document": "VOID", "format": "text"}).content.decode()
    assert row("VOIDED USD", "18.65") in voided.splitlines()
