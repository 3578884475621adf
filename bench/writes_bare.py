"""The baselines of `bench/writes.py`: for each write endpoint, a bare DRF view running the SQL
that endpoint's service runs, in one transaction, with no authentication, permission, throttle,
idempotency, audit row, event, input or output serializer, envelope or exception mapping.

The statements are the ones the real endpoint sends (captured with `connection.execute_wrapper`
on 2026-12-07 and copied here, same texts, same batching into round trips), with parameters
computed in a few lines of Python from the request body and the rows read. `bench/writes.py`
checks at start that each bare view writes the same rows to the same tables as its endpoint
(the audit row aside) and prints both statement counts.

What each bare view leaves out of its endpoint's statements, and why:
- all: the authentication statement (`SET search_path; EXECUTE mipos_auth_user…`; the bare
  view sets the schema as the serving bench's bare barcode view does) and the audit INSERT;
- collect-due: the SAVEPOINT / RELEASE of the nested atomic block;
- transfer ship: the view's visibility read before the service (transfer + its items), the
  re-read for the answer (transfer + items again) and the company settings read (not cached
  on that path, unlike the adjustment's).

Mounted only by the bench's settings (bench/writes_settings.py → bench/writes_urls.py), never in
the product's URLs. The schema is `BENCH_SCHEMA`, as for bench/bare_urls.py.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.bare_urls import BENCH_SCHEMA

# the user the real requests are made as (cashier, movements' user, payment's creator)
ACTOR = {"id": uuid.UUID(os.environ["BENCH_ACTOR"]) if os.environ.get("BENCH_ACTOR") else None}
# the company (its public row): the checkout adds to its day in the console's rollup
TENANT = {"id": uuid.UUID(os.environ["BENCH_TENANT"]) if os.environ.get("BENCH_TENANT") else None}

CHECK_SQL = """
SELECT id, name FROM stores_store WHERE id = ANY(%s::uuid[]) AND deleted_at IS NULL
ORDER BY id FOR SHARE;
SELECT r.n, p.id, p.name, p.sku, p.cost_price, p.track_stock, COALESCE(u.allows_fraction, false),
       v.id, v.name, v.sku, v.cost, v.product_id,
       EXISTS (SELECT 1 FROM catalog_productvariant x
                WHERE x.product_id = p.id AND x.deleted_at IS NULL)
FROM unnest(%s::uuid[], %s::uuid[]) WITH ORDINALITY AS r (product_id, variant_id, n)
LEFT JOIN catalog_product p ON p.id = r.product_id AND p.deleted_at IS NULL
LEFT JOIN catalog_unit u ON u.id = p.unit_id
LEFT JOIN catalog_productvariant v ON v.id = r.variant_id AND v.deleted_at IS NULL
ORDER BY r.n
"""

ITEMS_SQL = """
SELECT r.n, p.id, p.name, p.sku, p.status, p.sell_price, p.cost_price, p.tax_rate,
       p.track_stock, COALESCE(u.allows_fraction, false),
       v.id, v.name, v.sku, v.price, v.cost, v.product_id,
       EXISTS (SELECT 1 FROM catalog_productvariant x
                WHERE x.product_id = p.id AND x.deleted_at IS NULL)
FROM unnest(%s::uuid[], %s::uuid[]) WITH ORDINALITY AS r (product_id, variant_id, n)
LEFT JOIN catalog_product p ON p.id = r.product_id AND p.deleted_at IS NULL
LEFT JOIN catalog_unit u ON u.id = p.unit_id
LEFT JOIN catalog_productvariant v ON v.id = r.variant_id AND v.deleted_at IS NULL
ORDER BY r.n
"""

TILL_STORE_SQL = (
    "SELECT s.code, s.kind, EXISTS (SELECT 1 FROM stores_storeassignment a"
    " WHERE a.store_id = s.id AND a.user_id = %s), (SELECT sh.id FROM pos_shift sh"
    " WHERE sh.store_id = s.id AND sh.status = 'OPEN' AND ((sh.cashier_id = %s) IS TRUE"
    " OR sh.drawer = 'MAIN' OR NOT EXISTS (SELECT 1 FROM pos_shift o WHERE o.store_id ="
    " sh.store_id AND o.status = 'OPEN' AND o.id <> sh.id)) ORDER BY (sh.cashier_id = %s)"
    " IS TRUE DESC, sh.drawer = 'MAIN' DESC LIMIT 1 FOR SHARE)"
    " FROM stores_store s WHERE s.id = %s AND s.deleted_at IS NULL FOR SHARE OF s"
)


def _levels_lock_sql(count: int) -> str:
    inserts = ", ".join(["(gen_random_uuid(), %s::uuid, %s::uuid, %s::uuid, 0, %s)"] * count)
    wanted = ", ".join(["(%s::uuid, %s::uuid, %s::uuid)"] * count)
    return (
        "INSERT INTO inventory_stocklevel (id, store_id, product_id, variant_id, quantity,"
        f" updated_at) VALUES {inserts} ON CONFLICT DO NOTHING;"
        " SELECT l.id, l.store_id, l.product_id, l.variant_id, l.quantity,"
        "        l.low_stock_threshold, l.updated_at"
        f" FROM inventory_stocklevel l JOIN (VALUES {wanted})"
        " k (store_id, product_id, variant_id)"
        " ON l.store_id = k.store_id AND l.product_id = k.product_id"
        " AND l.variant_id IS NOT DISTINCT FROM k.variant_id"
        " ORDER BY l.store_id, l.product_id, l.variant_id NULLS FIRST FOR UPDATE OF l"
    )


def _levels_write_sql(count: int) -> str:
    values = ", ".join(["(%s::uuid, %s::numeric)"] * count)
    rows = ", ".join(
        ["(gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * count
    )
    return (
        "UPDATE inventory_stocklevel l SET quantity = v.quantity, updated_at = %s"
        f" FROM (VALUES {values}) v (id, quantity) WHERE l.id = v.id;"
        " INSERT INTO inventory_stockmovement (id, store_id, product_id, variant_id, type, delta,"
        " quantity_after, reason, note, reference_type, reference_id, user_id, created_at)"
        f" VALUES {rows}"
    )


def stock_move(
    cursor, store_id, changes: list[tuple], kind: str, *, reason="", ref_type="", ref_id=None
):
    """The two round trips of apps.inventory's stock_move: insert missing levels and lock them
    in key order; then one UPDATE of the levels and one INSERT of the movements.
    `changes`: (product_id, variant_id, delta)."""
    now = datetime.now(UTC)
    ordered = sorted(changes, key=lambda c: (c[0].int, c[1].int if c[1] else -1))
    params: list = []
    for product_id, variant_id, _ in ordered:
        params += [store_id, product_id, variant_id, now]
    for product_id, variant_id, _ in ordered:
        params += [store_id, product_id, variant_id]
    cursor.execute(_levels_lock_sql(len(ordered)), params)
    cursor.nextset()
    levels = {(row[2], row[3]): row for row in cursor.fetchall()}
    updates: list = [now]
    movements: list = []
    for product_id, variant_id, delta in changes:
        level = levels[(product_id, variant_id)]
        after = level[4] + delta
        if after < 0:
            raise ValueError("bench stock ran out")
        updates += [level[0], after]
        movements += [
            store_id, product_id, variant_id, kind, delta, after, reason, "", ref_type, ref_id,
            ACTOR["id"], now,
        ]  # fmt: skip
    cursor.execute(_levels_write_sql(len(changes)), updates + movements)
    return levels


class Bare(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []
    renderer_classes = [JSONRenderer]


class BareAdjustView(Bare):
    """POST the adjustment's body (storeId, reason, items [{productId, delta}], one item):
    the adjustment's 3 round trips + commit — store and catalogue check, stock lock, stock
    write."""

    def post(self, request):
        body = json.loads(request.body)
        store_id = uuid.UUID(body["storeId"])
        product_id = uuid.UUID(body["items"][0]["productId"])
        delta = Decimal(body["items"][0]["delta"])
        connection.set_schema(BENCH_SCHEMA["name"])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CHECK_SQL, [[store_id], [product_id], [None]])
            cursor.fetchall()
            cursor.nextset()
            cursor.fetchall()
            levels = stock_move(
                cursor, store_id, [(product_id, None, delta)], "ADJUSTMENT", reason=body["reason"]
            )
        level = levels[(product_id, None)]
        return Response({"productId": str(product_id), "quantity": str(level[4] + delta)})


SALE_SQL = (
    'INSERT INTO "sales_sale" ("id", "created_at", "updated_at", "number", "sequence",'
    ' "store_id", "cashier_id", "customer_id", "client_sale_id", "request_hash", "status",'
    ' "subtotal", "discount_total", "tax_total", "rounding_adjustment", "total",'
    ' "untaxed_gross", "untaxed_discounts", "paid_total", "change_due", "due_amount",'
    ' "due_paid", "due_returned", "points_earned", "points_redeemed", "points_value",'
    ' "group_discount_percent", "cart_discount", "prices_include_tax", "currency", "note",'
    ' "voided_at", "voided_by", "void_reason", "shift_id", "void_shift_id", "receipt_count",'
    ' "void_receipt_count", "product_ids") VALUES (' + "%s, " * 38 + "%s::uuid[]); "
    'INSERT INTO "sales_saleitem" ("id", "sale_id", "sold_at", "store_id", "position",'
    ' "product_id", "variant_id", "name", "sku", "quantity", "unit_price", "price_overridden",'
    ' "discount", "line_discount", "group_discount", "cart_discount", "points_discount",'
    ' "discount_amount", "tax_rate", "tax_amount", "line_total", "unit_cost", "track_stock",'
    ' "prices_include_tax", "returned_quantity") SELECT * FROM UNNEST((%s)::uuid[],'
    " (%s)::uuid[], (%s)::timestamp with time zone[], (%s)::uuid[], (%s)::smallint[],"
    " (%s)::uuid[], (%s)::uuid[], (%s)::varchar[], (%s)::varchar[], (%s)::numeric[],"
    " (%s)::numeric[], (%s)::boolean[], (%s)::jsonb[], (%s)::numeric[], (%s)::numeric[],"
    " (%s)::numeric[], (%s)::numeric[], (%s)::numeric[], (%s)::numeric[], (%s)::numeric[],"
    " (%s)::numeric[], (%s)::numeric[], (%s)::boolean[], (%s)::boolean[], (%s)::numeric[]); "
    'INSERT INTO "sales_payment" ("id", "created_at", "updated_at", "kind", "method", "amount",'
    ' "currency", "reference", "store_id", "sale_id", "sale_return_id", "customer_id",'
    ' "created_by", "shift_id") SELECT * FROM UNNEST((%s)::uuid[],'
    " (%s)::timestamp with time zone[], (%s)::timestamp with time zone[], (%s)::varchar[],"
    " (%s)::varchar[], (%s)::numeric[], (%s)::varchar[], (%s)::varchar[], (%s)::uuid[],"
    " (%s)::uuid[], (%s)::uuid[], (%s)::uuid[], (%s)::uuid[], (%s)::uuid[])"
)
COUNTER_SQL = (
    'INSERT INTO "{schema}"."core_documentcounter" AS c (series, last_value) VALUES (%s, 1)'
    " ON CONFLICT (series) DO UPDATE SET last_value = c.last_value + 1 RETURNING last_value"
)


SALES_DAY_SQL = (
    "INSERT INTO public.tenants_tenantsalesday AS d (tenant_id, day, sales_count, sales_total)"
    " VALUES (%s, %s, 1, %s) ON CONFLICT (tenant_id, day) DO UPDATE"
    " SET sales_count = d.sales_count + 1, sales_total = d.sales_total + EXCLUDED.sales_total"
)


class BareCheckoutView(Bare):
    """POST the checkout's body (storeId, items [{productId, quantity}], payments [{method,
    amount}]): the checkout's 7 round trips + commit — the till's store, the catalogue, the
    stock lock, the stock write, the store's counter, the sale + lines + payments, the company's
    day in the console's rollup (apps.tenants.usage)."""

    def post(self, request):
        body = json.loads(request.body)
        store_id = uuid.UUID(body["storeId"])
        items = [(uuid.UUID(i["productId"]), Decimal(i["quantity"])) for i in body["items"]]
        tenders = [(p["method"], Decimal(p["amount"])) for p in body["payments"]]
        schema = BENCH_SCHEMA["name"]
        connection.set_schema(schema)
        sale_id, now = uuid.uuid4(), datetime.now(UTC)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(TILL_STORE_SQL, [ACTOR["id"], ACTOR["id"], ACTOR["id"], store_id])
            code, _, _, shift_id = cursor.fetchone()
            cursor.execute(ITEMS_SQL, [[i[0] for i in items], [None] * len(items)])
            rows = cursor.fetchall()
            stock_move(
                cursor, store_id, [(pk, None, -qty) for pk, qty in items], "SALE",
                ref_type="sale", ref_id=sale_id,
            )  # fmt: skip
            lines = [(row, qty, (row[5] * qty).quantize(Decimal("0.01"))) for row, (_, qty) in zip(rows, items, strict=True)]  # fmt: skip
            total = sum(line[2] for line in lines)
            paid = sum(t[1] for t in tenders)
            cursor.execute(COUNTER_SQL.format(schema=schema), [f"sale:{store_id}"])
            sequence = cursor.fetchone()[0]
            n = len(lines)
            zeros = [Decimal(0)] * n
            sale = [
                sale_id, now, now, f"B-{code}-{sequence:06d}", sequence, store_id, ACTOR["id"], None,
                None, "", "COMPLETED", total, 0, 0, 0, total, total, 0, paid, paid - total, 0, 0,
                0, 0, 0, 0, 0, None, False, "USD", "", None, None, "", shift_id, None, 0, 0,
                sorted({i[0] for i in items}),
            ]  # fmt: skip
            item_rows = [
                [uuid.uuid4() for _ in lines], [sale_id] * n, [now] * n, [store_id] * n,
                list(range(n)), [row[1] for row, _, _ in lines], [None] * n,
                [row[2] for row, _, _ in lines], [row[3] for row, _, _ in lines],
                [qty for _, qty, _ in lines], [row[5] for row, _, _ in lines], [False] * n,
                [None] * n, zeros, zeros, zeros, zeros, zeros, [row[7] or Decimal(0) for row, _, _ in lines],
                zeros, [t for _, _, t in lines], [row[6] for row, _, _ in lines], [True] * n,
                [False] * n, zeros,
            ]  # fmt: skip
            k = len(tenders)
            payments = [
                [uuid.uuid4() for _ in tenders], [now] * k, [now] * k, ["SALE"] * k,
                [t[0] for t in tenders], [t[1] for t in tenders], ["USD"] * k, [""] * k,
                [store_id] * k, [sale_id] * k, [None] * k, [None] * k, [ACTOR["id"]] * k,
                [shift_id] * k,
            ]  # fmt: skip
            cursor.execute(SALE_SQL, sale + item_rows + payments)
            cursor.execute(SALES_DAY_SQL, [TENANT["id"], now.date(), total])
        return Response({"id": str(sale_id), "number": sale[3], "total": str(total)}, status=201)


DUES_SQL = (
    'SELECT "sales_sale"."id", "sales_sale"."due_amount", "sales_sale"."due_paid",'
    ' "sales_sale"."due_returned", "sales_sale"."store_id" FROM "sales_sale"'
    ' WHERE ("sales_sale"."customer_id" = %s AND "sales_sale"."due_amount" >'
    ' ("sales_sale"."due_paid" + "sales_sale"."due_returned"))'
    ' ORDER BY "sales_sale"."created_at" ASC, "sales_sale"."id" ASC FOR UPDATE OF "sales_sale"'
)
CUSTOMER_LOCK_SQL = (
    'SELECT "customers_customer"."id", "customers_customer"."balance" FROM "customers_customer"'
    ' WHERE ("customers_customer"."deleted_at" IS NULL AND "customers_customer"."id" = %s)'
    ' ORDER BY "customers_customer"."id" ASC LIMIT 1 FOR UPDATE OF "customers_customer"'
)
BALANCE_SQL = """
WITH moved AS (
    UPDATE "{schema}"."customers_customer" SET balance = balance + %(change)s,
    updated_at = %(created_at)s
    WHERE id = %(customer)s
    RETURNING id, balance
)
INSERT INTO "{schema}"."customers_customerledgerentry" (id, customer_id, amount, balance_after,
type, reference_type, reference_id, note, created_by, created_at)
SELECT gen_random_uuid(), moved.id, %(change)s, moved.balance, %(type)s, %(reference_type)s,
%(reference_id)s, %(note)s, %(created_by)s, %(created_at)s FROM moved RETURNING id, balance_after
"""
PAYMENT_SQL = (
    'INSERT INTO "sales_payment" ("id", "created_at", "updated_at", "kind", "method", "amount",'
    ' "currency", "reference", "store_id", "sale_id", "sale_return_id", "customer_id",'
    ' "created_by", "shift_id") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)'
)


class BareCollectDueView(Bare):
    """POST {"customerId", "amount", "method", "storeId"}: the collection's 5 round trips +
    commit — the due sales locked, the customer locked, its balance and ledger row, the till's
    store, the payment (no due sale in the bench: the customer owes an opening balance)."""

    def post(self, request):
        body = json.loads(request.body)
        customer_id = uuid.UUID(body["customerId"])
        store_id = uuid.UUID(body["storeId"])
        amount = Decimal(body["amount"])
        schema = BENCH_SCHEMA["name"]
        connection.set_schema(schema)
        payment_id, now = uuid.uuid4(), datetime.now(UTC)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(DUES_SQL, [customer_id])
            if cursor.fetchall():
                raise ValueError("the bench customer has due sales")
            cursor.execute(CUSTOMER_LOCK_SQL, [customer_id])
            if cursor.fetchone()[1] < amount:
                raise ValueError("the bench customer's balance ran out")
            cursor.execute(
                BALANCE_SQL.format(schema=schema),
                {
                    "change": -amount, "customer": customer_id, "type": "PAYMENT",
                    "reference_type": "payment", "reference_id": payment_id, "note": "",
                    "created_by": ACTOR["id"], "created_at": now,
                },
            )  # fmt: skip
            balance = cursor.fetchone()[1]
            cursor.execute(TILL_STORE_SQL, [ACTOR["id"], ACTOR["id"], ACTOR["id"], store_id])
            shift_id = cursor.fetchone()[3]
            cursor.execute(
                PAYMENT_SQL,
                [
                    payment_id, now, now, "DUE", body["method"], amount, "USD", "", store_id,
                    None, None, customer_id, ACTOR["id"], shift_id,
                ],
            )  # fmt: skip
        return Response({"id": str(payment_id), "balance": str(balance)}, status=201)


TRANSFER_LOCK_SQL = (
    'SELECT "inventory_transfer"."id", "inventory_transfer"."status",'
    ' "inventory_transfer"."from_store_id", "inventory_transfer"."to_store_id"'
    ' FROM "inventory_transfer" WHERE "inventory_transfer"."id" = %s'
    ' ORDER BY "inventory_transfer"."number" DESC LIMIT 1 FOR UPDATE'
)
STORE_SHARE_SQL = "SELECT 1 FROM stores_store WHERE id = %s AND deleted_at IS NULL FOR SHARE"
TRANSFER_ITEMS_SQL = (
    'SELECT "inventory_transferitem"."id", "inventory_transferitem"."product_id",'
    ' "inventory_transferitem"."variant_id", "inventory_transferitem"."quantity"'
    ' FROM "inventory_transferitem" WHERE "inventory_transferitem"."transfer_id" = %s'
    ' ORDER BY "inventory_transferitem"."position" ASC'
)
TRANSFER_SHIP_SQL = (
    'UPDATE "inventory_transfer" SET "updated_at" = %s, "status" = %s, "shipped_at" = %s,'
    ' "shipped_by" = %s WHERE "inventory_transfer"."id" = %s'
)


class BareTransferShipView(Bare):
    """POST /bare/transfers/<id>/ship: the service's 7 round trips + commit — the transfer
    locked, both stores share-locked, its lines, the stock lock and write, the new status."""

    def post(self, request, pk):
        connection.set_schema(BENCH_SCHEMA["name"])
        now = datetime.now(UTC)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(TRANSFER_LOCK_SQL, [pk])
            _, state, from_store, to_store = cursor.fetchone()
            if state != "PENDING":
                return Response({"error": f"transfer {pk} is {state}"}, status=422)
            cursor.execute(STORE_SHARE_SQL, [from_store])
            cursor.fetchone()
            cursor.execute(STORE_SHARE_SQL, [to_store])
            cursor.fetchone()
            cursor.execute(TRANSFER_ITEMS_SQL, [pk])
            lines = cursor.fetchall()
            stock_move(
                cursor, from_store, [(p, v, -q) for _, p, v, q in lines], "TRANSFER_OUT",
                ref_type="TRANSFER", ref_id=pk,
            )  # fmt: skip
            cursor.execute(TRANSFER_SHIP_SQL, [now, "IN_TRANSIT", now, ACTOR["id"], pk])
        return Response({"id": str(pk), "status": "IN_TRANSIT"})
