"""The mixed workload of `bench/load.py` (`make load`): a shop's day, compressed.

Run by bench/load.py, which seeds the company, serves it with gunicorn and passes what the users
need in a JSON file named by LOAD_SETUP (accounts, stores, products); each user logs in once
through `POST /api/auth/login`. Three kinds of user (16 users: 12 cashiers, 3 managers, 1 back
office):

- Cashier (weight 4): a sale = 1 to 4 lines, each found by a barcode scan at the till
  (`GET /pos/products?barcode=`), the catalogue's barcode lookup or a name search; the cart
  quoted (`POST /sales/quote`), then checked out (`POST /sales/checkout`) with a `clientSaleId`,
  paid by card (exact) or cash (rounded up to 5), or (a quarter of the sales) checked out at once
  paid in cash (the prices' sum rounded up: no tax in this company); one checkout in 20 is sent again with the same
  `clientSaleId` (a till's retry: 200, the same sale). A third of the carts hold a product of
  scarce stock (5 in each store, negative stock not allowed): once it runs out, quote and
  checkout answer 422 INSUFFICIENT_STOCK — the expected refusal, counted apart, not a failure.
  Now and then the till's own sales (`GET /pos/sales`).
- Manager (weight 1): reports (sales by day, cashier, profit, stock), the store's dashboard, the
  sales and low-stock lists, and returns: one item of a sale a cashier made here, restocked
  (`POST /sales/:id/return`, 201).
- Back office (one user, the ADMIN): a bulk import of 20 JSON rows now and then (10 products
  re-imported with new prices, 10 new), the company dashboard, the product list.

Any other answer than the documented one (another status, a 5xx, a connection error, a body
that says otherwise) is a failure. At the end, what the users saw succeed (sales with their
`clientSaleId`, returns, refusals) goes to the JSON file named by LOAD_RESULTS, which
bench/load.py checks against the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from collections import Counter, deque
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

SETUP = json.loads(Path(os.environ["LOAD_SETUP"]).read_text()) if "LOAD_SETUP" in os.environ else {}
PASSWORD = SETUP.get("password", "")

# What the run saw succeed or be refused as documented; written out at the end.
SEEN: dict = {"sales": {}, "replays": 0, "returns": [], "imports": 0, "refused": Counter()}
# Sales made in this run, for the managers' returns (one user process: gevent, no threads).
RETURNABLE: deque = deque(maxlen=500)
_accounts = {"cashier": itertools.count(), "manager": itertools.count()}


def _expect(response, status: int, what: str) -> dict | None:
    """The body's `data` when the answer is `status`, else the request is a failure."""
    if response.status_code != status:
        response.failure(f"{what}: HTTP {response.status_code} {response.text[:300]!r}")
        return None
    try:
        return response.json()["data"]
    except (ValueError, KeyError, TypeError):
        response.failure(f"{what}: not the envelope: {response.text[:300]!r}")
        return None


def _refused_for_stock(response) -> bool:
    try:
        return response.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    except (ValueError, KeyError, TypeError):
        return False


class Staff(FastHttpUser):
    abstract = True
    email = ""

    def on_start(self) -> None:
        self.auth = {}
        with self.client.post(
            "/api/auth/login", json={"email": self.email, "password": PASSWORD},
            name="auth/login", catch_response=True,
        ) as response:  # fmt: skip
            data = _expect(response, 200, "login")
        if data is None:
            raise StopUser()  # nothing works without a token (the failure is counted)
        self.auth = {"Authorization": f"Bearer {data['accessToken']}"}

    def get(self, path: str, name: str) -> dict | None:
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            return _expect(response, 200, name)


class Cashier(Staff):
    weight = 4
    wait_time = between(0.25, 1.0)  # the customer's next item, paying, the next customer

    def on_start(self) -> None:
        account = SETUP["cashiers"][next(_accounts["cashier"]) % len(SETUP["cashiers"])]
        self.email, self.store = account["email"], account["storeId"]
        super().on_start()

    def _find(self, product: dict) -> None:
        roll = random.random()
        if roll < 0.6:  # the till's scanner
            self.get(
                f"/api/v1/pos/products?storeId={self.store}&barcode={product['barcode']}",
                "pos/products?barcode",
            )
        elif roll < 0.8:
            self.get(
                f"/api/v1/products/lookup/barcode/{product['barcode']}", "products/lookup/barcode"
            )
        else:  # typed: a word of its name
            word = random.choice(re.findall(r"[A-Za-z]{3,}", product["name"]) or ["a"])
            self.get(
                f"/api/v1/pos/products?storeId={self.store}&search={word}", "pos/products?search"
            )

    @task(10)
    def sale(self) -> None:
        plenty = random.sample(SETUP["products"], random.randint(1, 4))
        lines = [(p, random.randint(1, 3)) for p in plenty]
        scarce = random.random() < 0.33
        if scarce:
            lines.append((random.choice(SETUP["scarce"]), random.randint(1, 2)))
        for product, _ in lines:
            self._find(product)
        cart = {
            "storeId": self.store,
            "items": [{"productId": p["id"], "quantity": str(q)} for p, q in lines],
        }
        if random.random() < 0.25:  # a regular's usual basket: straight to the checkout
            total = sum(Decimal(p["price"]) * q for p, q in lines)  # no tax in this company
            payment = {"method": "CASH", "amount": f"{total.to_integral_value(ROUND_CEILING):.2f}"}
        else:
            with self.client.post(
                "/api/v1/sales/quote", json=cart, headers=self.auth, name="sales/quote",
                catch_response=True,
            ) as response:  # fmt: skip
                if scarce and response.status_code == 422 and _refused_for_stock(response):
                    response.success()
                    SEEN["refused"]["sales/quote INSUFFICIENT_STOCK"] += 1
                    return  # the cashier tells the customer; the sale is not made
                quote = _expect(response, 200, "quote")
            if quote is None:
                return
            total = Decimal(quote["total"])
            if random.random() < 0.5:
                payment = {"method": "CARD", "amount": str(total)}
            else:  # a note or two: change due
                cash = (total / 5).to_integral_value(rounding=ROUND_CEILING) * 5
                payment = {"method": "CASH", "amount": f"{max(cash, total):.2f}"}
        body = {**cart, "clientSaleId": str(uuid.uuid4()), "payments": [payment]}
        with self.client.post(
            "/api/v1/sales/checkout", json=body, headers=self.auth, name="sales/checkout",
            catch_response=True,
        ) as response:  # fmt: skip
            if scarce and response.status_code == 422 and _refused_for_stock(response):
                response.success()  # sold out (since the quote, by another till)
                SEEN["refused"]["sales/checkout INSUFFICIENT_STOCK"] += 1
                return
            sale = _expect(response, 201, "checkout")
            if sale is None:
                return
            if Decimal(sale["total"]) != total or sale["clientSaleId"] != body["clientSaleId"]:
                response.failure(f"checkout: not the sale quoted: {sale['total']} vs {total}")
                return
        SEEN["sales"][body["clientSaleId"]] = sale["id"]
        RETURNABLE.append(sale)
        if random.random() < 0.05:  # the till did not see the answer: it sends the sale again
            with self.client.post(
                "/api/v1/sales/checkout", json=body, headers=self.auth,
                name="sales/checkout (retry, same clientSaleId)", catch_response=True,
            ) as response:  # fmt: skip
                again = _expect(response, 200, "checkout retry")
                if again is not None and again["id"] != sale["id"]:
                    response.failure(f"retry made another sale: {again['id']} != {sale['id']}")
                elif again is not None:
                    SEEN["replays"] += 1

    @task(1)
    def my_sales(self) -> None:
        self.get("/api/v1/pos/sales", "pos/sales")


def _period() -> str:
    today = date.today()
    return f"from={today - timedelta(days=7)}&to={today}"


class Manager(Staff):
    weight = 1
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        self.email = SETUP["managers"][next(_accounts["manager"]) % len(SETUP["managers"])]
        super().on_start()

    @task(3)
    def sales_report(self) -> None:
        self.get(f"/api/v1/reports/sales?{_period()}&groupBy=day", "reports/sales")

    @task(1)
    def cashier_report(self) -> None:
        self.get(f"/api/v1/reports/cashier?{_period()}", "reports/cashier")

    @task(1)
    def profit_report(self) -> None:
        self.get(f"/api/v1/reports/profit?{_period()}", "reports/profit")

    @task(1)
    def stock_report(self) -> None:
        self.get("/api/v1/reports/stock", "reports/stock")

    @task(2)
    def store_dashboard(self) -> None:
        store = random.choice(SETUP["stores"])
        self.get(f"/api/v1/stores/{store}/stats", "stores/:id/stats")

    @task(2)
    def sales_list(self) -> None:
        self.get("/api/v1/sales?limit=20", "sales?limit=20")

    @task(1)
    def low_stock(self) -> None:
        self.get("/api/v1/inventory/stock/low", "inventory/stock/low")

    @task(2)
    def return_item(self) -> None:
        if not RETURNABLE:
            return
        sale = RETURNABLE.popleft()  # each sale returned once: nothing can refuse it
        self.get(f"/api/v1/sales/{sale['id']}", "sales/:id")
        item = sale["items"][0]
        body = {
            "items": [{"itemId": item["id"], "quantity": "1", "restock": True}],
            "refundMethod": "CASH",
            "reason": "Load test: changed their mind",
        }
        with self.client.post(
            f"/api/v1/sales/{sale['id']}/return", json=body, headers=self.auth,
            name="sales/:id/return", catch_response=True,
        ) as response:  # fmt: skip
            data = _expect(response, 201, "return")
        if data is not None:
            SEEN["returns"].append(data["id"])


class BackOffice(Staff):
    fixed_count = 1
    wait_time = between(2.0, 5.0)

    def on_start(self) -> None:
        self.email = SETUP["admin"]
        self.batch = 0
        super().on_start()

    @task(1)
    def bulk_import(self) -> None:
        self.batch += 1
        rows = [
            {
                "sku": f"LOAD-{n:04d}",
                "name": f"Load test item {n}",
                "category": "Load/Imported",
                "unit": "Piece",
                "costPrice": "1.00",
                "sellPrice": f"{2 + self.batch / 100:.2f}",
            }
            for n in [*range(1, 11), *range(self.batch * 10 + 1, self.batch * 10 + 11)]
        ]
        with self.client.post(
            "/api/v1/products/bulk-import?createMissing=true", json=rows, headers=self.auth,
            name="products/bulk-import (20 rows)", catch_response=True,
        ) as response:  # fmt: skip
            report = _expect(response, 200, "bulk import")
            if report is not None and (report["failedRows"] or report["errors"]):
                response.failure(f"bulk import refused rows: {report['errors'][:3]}")
            elif report is not None:
                SEEN["imports"] += 1

    @task(1)
    def company_dashboard(self) -> None:
        self.get("/api/v1/tenants/me/dashboard", "tenants/me/dashboard")

    @task(1)
    def products(self) -> None:
        self.get("/api/v1/products?limit=20", "products?limit=20")


@events.test_start.add_listener
def _started(**_kwargs) -> None:
    SEEN["started"] = time.time()


@events.test_stop.add_listener
def _write_results(environment, **_kwargs) -> None:
    """Once every user has stopped (after its last task): what was seen, and each kind of
    request's counts and response times (locust's histogram: ms -> requests)."""
    path = os.environ.get("LOAD_RESULTS")
    if not path:
        return
    stats = [
        {
            "method": entry.method,
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "times": entry.response_times,
        }
        for entry in environment.stats.entries.values()
    ]
    errors = [
        f"{e.method} {e.name}: {e.error} x{e.occurrences}"
        for e in environment.stats.errors.values()
    ]
    errors += [  # exceptions raised in a task (a bug of this file, or an unexpected body)
        f"exception x{e['count']}: {e['traceback'][-1500:]}"
        for e in environment.runner.exceptions.values()
    ]
    seconds = time.time() - SEEN["started"]
    with open(path, "w") as out:
        json.dump(
            {
                **SEEN,
                "refused": dict(SEEN["refused"]),
                "seconds": seconds,
                "stats": stats,
                "errors": errors,
            },
            out,
        )
