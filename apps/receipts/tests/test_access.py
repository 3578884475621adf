"""Who reaches which receipt (another company's sale is 404 in every form; a cashier sees their
stores' only), the queries a receipt costs (not one more per line), and print numbers under
concurrent generations (real parallel connections)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.audit.models import AuditLog
from apps.receipts.selectors import receipt_document_get
from apps.receipts.services import receipt_issue
from apps.receipts.tests.conftest import checkout
from apps.sales.models import Sale
from apps.sales.tests.conftest import committed, run_threads  # noqa: F401 (fixture)
from tests.factories.sales import line, sale_make

FORMS = [
    ("GET", "", {}),
    ("GET", "", {"format": "html"}),
    ("GET", "", {"format": "pdf"}),
    ("GET", "", {"format": "text"}),
    ("GET", "", {"format": "text", "print": "true"}),
    ("GET", "", {"document": "VOID", "print": "true"}),
    ("GET", "", {"gift": "true"}),
    ("GET", "", {"document": "VOID"}),
    ("GET", "/preview", {}),
    ("GET", "/link", {}),
    ("POST", "/email", {}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "suffix", "query"), FORMS)
def test_another_companys_sale_is_404_in_every_form(
    api, world_a, world_b, goods, method, suffix, query
):
    sale = checkout(api(world_a.cashier), world_a, line(goods.bread))
    audit = AuditLog.objects.count()
    client = api(world_b.admin)
    path = f"/api/v1/receipts/sale/{sale['id']}{suffix}"
    if method == "POST":
        response = client.post(path, {"to": "x@y.test"}, format="json")
    else:
        response = client.get(path, query)
    assert response.status_code == 404, response.content[:200]
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert sale["number"] not in response.content.decode()
    with tenant_context(world_a.tenant):
        assert Sale.objects.get(pk=sale["id"]).receipt_count == 0
    assert AuditLog.objects.count() == audit


@pytest.mark.django_db
def test_a_cashier_reaches_only_their_stores_receipts(api, world_a):
    with tenant_context(world_a.tenant):
        elsewhere = sale_make(
            store=world_a.other_store, cashier_id=world_a.admin.pk, product=world_a.product,
            sequence=1,
        )  # fmt: skip
    cashier, manager = api(world_a.cashier), api(world_a.manager)
    for suffix in ("", "/preview", "/link"):
        assert cashier.get(f"/api/v1/receipts/sale/{elsewhere.pk}{suffix}").status_code == 404
    assert manager.get(f"/api/v1/receipts/sale/{elsewhere.pk}?print=true").status_code == 200
    with tenant_context(world_a.tenant):
        assert Sale.objects.get(pk=elsewhere.pk).receipt_count == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", [{}, {"format": "text"}, {"format": "html"}, {"format": "text", "print": "true"}]
)
@pytest.mark.parametrize("suffix", ["", "/preview"])
def test_a_receipt_costs_the_same_queries_for_one_line_or_ten(api, world_a, goods, query, suffix):
    client = api(world_a.cashier)
    small = checkout(client, world_a, line(goods.bread))
    large = checkout(
        client, world_a, *[line(p) for p in (goods.bread, goods.wine, goods.oil, goods.script)] * 3
    )
    client.get(f"/api/v1/receipts/sale/{small['id']}{suffix}", query)  # warm per-process caches
    counts = []
    for sale in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/receipts/sale/{sale['id']}{suffix}", query)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 14


def test_concurrent_generations_get_distinct_print_numbers(committed):  # noqa: F811
    world, product = committed
    with tenant_context(world.tenant):
        sale = sale_make(store=world.store, cashier_id=world.cashier.pk, product=product,
                         sequence=1)  # fmt: skip
    connection.set_schema_to_public()

    def generate(_n: int) -> int:
        document = receipt_document_get(sale_id=sale.pk, store_ids=None)
        return receipt_issue(actor=world.cashier, document=document, output="text")

    numbers = run_threads(world, 24, generate, threads=8)
    assert sorted(numbers) == list(range(1, 25))
    with tenant_context(world.tenant):
        assert Sale.objects.get(pk=sale.pk).receipt_count == 24
    connection.set_schema_to_public()
    prints = AuditLog.objects.filter(entity_id=str(sale.pk), action__startswith="receipt.")
    assert sorted(prints.values_list("after__print_number", flat=True)) == list(range(1, 25))
    assert prints.filter(action="receipt.print").count() == 1
