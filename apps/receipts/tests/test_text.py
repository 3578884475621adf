"""The fixed-width text form: every line fits the paper's columns (32 at 58 mm, 48 at 80 mm),
whatever the names and taxes, with amounts right-aligned."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.receipts.rendering import _row, _table
from apps.receipts.tests.conftest import LONG_NAME, checkout
from apps.sales.models import Sale
from tests.factories.sales import line

COLUMNS = {"58mm": 32, "80mm": 48}


@pytest.mark.django_db
@pytest.mark.parametrize("paper", ["58mm", "80mm"])
def test_every_line_fits_and_totals_are_right_aligned(api, world_a, goods, paper):
    client = api(world_a.manager)  # 15 % off a line: beyond a cashier's own limit
    sale = checkout(
        client,
        world_a,
        line(goods.oil, "12"),
        line(goods.bread, "3"),
        line(goods.wine, "1", discount={"type": "PERCENT", "value": "15"}),
        line(goods.script, "2"),
        payments=[{"method": "CASH", "amount": "200.00"}],
        customerId=str(goods.customer.pk),
    )
    response = client.get(f"/api/v1/receipts/sale/{sale['id']}", {"format": "text", "paper": paper})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    width = COLUMNS[paper]
    assert max(len(text) for text in lines) <= width, [t for t in lines if len(t) > width]
    with tenant_context(world_a.tenant):
        stored = Sale.objects.get(pk=sale["id"])
    total_line = next(text for text in lines if text.startswith("TOTAL"))
    assert len(total_line) == width and total_line.endswith(f"{stored.total:,}")
    # the long name is all there, wrapped; the three rates each have a row
    assert LONG_NAME.replace(" ", "") in "".join(lines).replace(" ", "")
    for rate in ("6%", "13%", "23%"):
        assert any(text.startswith(rate) for text in lines), rate
    change = next(text for text in lines if text.startswith("Change"))
    assert change.endswith(f"{stored.change_due:,}") and len(change) == width


@pytest.mark.django_db
def test_text_follows_the_templates_paper_unless_asked(api, world_a, goods):
    client = api(world_a.admin)
    assert (
        client.put("/api/v1/receipts/template", {"paper": "58mm"}, format="json").status_code == 200
    )
    sale = checkout(client, world_a, line(goods.oil, "1"))
    text = client.get(f"/api/v1/receipts/sale/{sale['id']}", {"format": "text"}).content.decode()
    assert max(map(len, text.splitlines())) <= 32
    assert any(len(t) == 32 for t in text.splitlines())
    wide = client.get(f"/api/v1/receipts/sale/{sale['id']}", {"format": "text", "paper": "80mm"})
    assert max(map(len, wide.content.decode().splitlines())) == 48


@settings(max_examples=300, deadline=None)
@given(
    label=st.text(min_size=0, max_size=120),
    value=st.text(alphabet="0123456789.,-", min_size=1, max_size=60),
    width=st.sampled_from([32, 48, 80]),
    indent=st.sampled_from([0, 2]),
)
def test_a_row_never_overflows_and_keeps_its_value_right_aligned(label, value, width, indent):
    label = label.replace("\n", " ").replace("\r", " ")
    rows = _row(label, value, width, indent)
    assert all(len(text) <= width for text in rows)
    if len(value) <= width:
        assert rows[-1].endswith(value) and len(rows[-1]) == width


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(
        st.decimals(min_value=0, max_value=Decimal("99999999999.99"), places=2),
        min_size=1,
        max_size=4,
    ),
    width=st.sampled_from([32, 48]),
)
def test_the_tax_table_fits(amounts, width):
    rows = [{"rate": "23%", "base": f"{a:,}", "tax": f"{a / 4:,.2f}"} for a in amounts]
    assert all(len(text) <= width for text in _table(rows, width))
