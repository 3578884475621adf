"""Customer search benchmark: `GET /api/v1/customers?search=…` on 100,000 customers, in-process
through Django's full stack (authentication, tenant routing, filters, pagination with its count,
serialisation), for what a cashier types — a surname, a first name and surname, part of a phone
number, a whole formatted phone number, a code, part of an email, a two-letter start, a name that
matches nobody — plus the till's `GET /api/v1/lookups/customers?search=…`. Target: p95 < 30 ms.

The baseline, measured in the same run: the page query alone (the same SQL the API sends, with
its count), run through a bare cursor; the ratio says what the HTTP stack adds.

Creates its own company in the development database (DATABASE_URL, or the embedded PostgreSQL
under .data/) and removes it after.

    .venv/bin/python bench/customers.py [--customers 100000] [--requests 400]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import use_production_settings  # noqa: E402

use_production_settings("customers")

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--customers", type=int, default=100_000)
parser.add_argument("--requests", type=int, default=400, help="requests per endpoint")
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
args = parser.parse_args()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.tenants.services import tenant_create  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import company_remove, percentile  # noqa: E402

SLUG = "bench-customers"
# Phone digits of customer i: (i x this) mod 10^8, zero-padded (spread like real numbers; every
# phone still starts with +351 9, as a shop's customers share a country and a mobile prefix).
PHONE_SPREAD = 48_271
PASSWORD = "Bench-pass-2026!"
FIRST = (
    "Ana Bruno Carla David Eva Filipe Gina Hugo Ines Joao Karina Luis Marta Nuno Olga Pedro "
    "Quiteria Rui Sara Tiago Ursula Vasco Wanda Xavier Yara Zeca Alice Bernardo Clara Diogo "
    "Elsa Fabio Gloria Henrique Irene Jorge Leonor Miguel Natalia Oscar Paula Ricardo Sofia "
    "Tomas Vera Afonso Beatriz Carlos Daniela Emanuel"
).split()
LAST = (
    "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Jesus Sousa Fernandes "
    "Goncalves Gomes Lopes Marques Alves Almeida Ribeiro Pinto Carvalho Teixeira Moreira "
    "Correia Mendes Nunes Soares Vieira Monteiro Cardoso Rocha Raposo Neves Coelho Cruz Cunha "
    "Pires Ramos Reis Simoes Antunes Matos Fonseca Machado Araujo Barbosa Tavares Lourenco "
    "Castro Figueiredo Azevedo"
).split()


def seed(count: int):
    """The company and `count` customers: names from 50 first names x 50 surnames, two in three
    with an email, three in four with a phone, a few in groups, some owing money."""
    created = tenant_create(
        name="Bench customers", slug=SLUG, owner_email=f"owner@{SLUG}.bench",
        owner_password=PASSWORD, owner_name="Owner",
    )  # fmt: skip
    tenant, owner = created.tenant, created.owner
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customergroup (id, name, discount_percent, created_at,"
            " updated_at) SELECT gen_random_uuid(), 'Group ' || g, g, now(), now()"
            " FROM generate_series(1, 5) AS g"
        )
        cursor.execute(
            "INSERT INTO customers_customer (id, code, name, email, phone, tax_id, address, notes,"
            " group_id, credit_limit, balance, loyalty_points, created_at, updated_at)"
            " SELECT gen_random_uuid(), 'C-' || lpad(i::text, 6, '0'),"
            " f.name || ' ' || l.name,"
            " CASE WHEN i %% 3 <> 0 THEN lower(f.name || '.' || l.name || i || '@example.com')"
            "  ELSE '' END,"
            " CASE WHEN i %% 4 <> 0 THEN '+351 9' || substr(p.digits, 1, 2) || ' '"
            "  || substr(p.digits, 3, 3) || ' ' || substr(p.digits, 6) ELSE '' END,"
            " '', '', '', CASE WHEN i %% 10 = 0 THEN (SELECT id FROM customers_customergroup"
            "  ORDER BY name LIMIT 1) END,"
            " 0, CASE WHEN i %% 7 = 0 THEN 12.50 ELSE 0 END, (i %% 13) * 10, now(), now()"
            " FROM generate_series(1, %s) AS i"
            " CROSS JOIN LATERAL (SELECT lpad(((i::bigint * %s) %% 100000000)::text, 8, '0')"
            "  AS digits) AS p"
            " JOIN unnest(%s::text[]) WITH ORDINALITY AS f(name, n) ON f.n = 1 + i %% 50"
            " JOIN unnest(%s::text[]) WITH ORDINALITY AS l(name, n) ON l.n = 1 + (i / 50) %% 50",
            [count, PHONE_SPREAD, FIRST, LAST],
        )
        cursor.execute(
            "INSERT INTO core_documentcounter (series, last_value) VALUES ('customer', %s)", [count]
        )
        # what autovacuum does after a bulk insert (statistics, the GIN pending list flushed)
        cursor.execute("VACUUM (ANALYZE) customers_customer")
    try:  # and the seed's own writes out of the way of the measurement (needs a superuser)
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass
    connection.set_schema_to_public()
    return tenant, owner


def searches(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(kind, text) as cashiers type them, in a fixed mix."""

    def number() -> int:
        return rng.randint(1, count)

    def phone_digits() -> str:  # of a customer who has a phone (not every 4th)
        n = rng.randint(1, count // 4) * 4 - rng.randint(1, 3)
        return f"{n * PHONE_SPREAD % 100_000_000:08d}"

    makers = {
        "surname": lambda: rng.choice(LAST)[:5].lower(),
        "first+surname": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "phone part": lambda: f"{number():08d}"[2:7],
        "phone whole": lambda: (lambda d: f"+351 9{d[:2]} {d[2:5]} {d[5:]}")(
            f"{(number() // 4 * 4 + 1):08d}"
        ),
        "code": lambda: f"C-{number():06d}",
        "email part": lambda: f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()[:3]}",
        "two letters": lambda: rng.choice(FIRST)[:2].lower(),
        "no match": lambda: rng.choice(["zzxq", "qwerty", "xptz 999"]),
    }
    kinds = list(makers)
    return [(kind, makers[kind]()) for kind in (kinds[i % len(kinds)] for i in range(count))]


SLOWEST: dict[str, list[tuple[float, str]]] = {}


def measure(client: Client, path: str, queries: list[tuple[str, str]]):
    samples: dict[str, list[float]] = {}
    slowest = SLOWEST.setdefault(path, [])
    for n, (kind, text) in enumerate(queries):
        started = time.perf_counter()
        response = client.get(path, {"search": text})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}?search={text}: HTTP {response.status_code}")
        if n >= 16:  # the first ones warm caches and connections
            samples.setdefault(kind, []).append(elapsed)
            slowest.append((elapsed, text))
    slowest.sort(reverse=True)
    del slowest[5:]
    return samples


def sql_baseline(tenant, client: Client, queries: list[tuple[str, str]]) -> list[float]:
    """The SQL each API search sent (captured once), replayed through a bare cursor."""
    statements = []
    for _kind, text in queries[: len(queries) // 4]:
        with CaptureQueriesContext(connection) as captured:
            client.get("/api/v1/customers", {"search": text})
        statements.append(
            [q["sql"] for q in captured.captured_queries if "customers_customer" in q["sql"]]
        )
    samples = []
    with tenant_context(tenant), connection.cursor() as cursor:
        for sqls in statements:
            started = time.perf_counter()
            for sql in sqls:
                cursor.execute(sql)
                cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    connection.set_schema_to_public()
    return samples


def report(title: str, path: str, samples: dict[str, list[float]]) -> float:
    every = [value for values in samples.values() for value in values]
    print(f"  {title}, {len(every)} requests:")
    for kind, values in samples.items():
        print(
            f"    {kind:<14} p50 {statistics.median(values):6.1f} ms"
            f"  p95 {percentile(values, 0.95):6.1f} ms  max {max(values):6.1f} ms"
        )
    p95 = percentile(every, 0.95)
    print("    slowest: " + ", ".join(f"{text!r} {ms:.0f} ms" for ms, text in SLOWEST[path]))
    print(f"    all: p95 {p95:.1f} ms   target < 30 ms  {'MET' if p95 < 30 else 'MISSED'}")
    return p95


def main() -> None:
    call_command("migrate", verbosity=0)
    company_remove(SLUG)
    try:
        tenant, owner = seed(args.customers)
        connection.set_schema_to_public()
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=owner).access}")
        rng = random.Random(11)
        queries = searches(rng, args.requests + 16)
        api = measure(client, "/api/v1/customers", queries)
        lookup = measure(client, "/api/v1/lookups/customers", queries)
        baseline = sql_baseline(tenant, client, queries[16:])
    finally:
        connections.close_all()
        if not args.keep:
            company_remove(SLUG)
    db = connection.settings_dict
    print("Customer search benchmark")
    print(f"  PostgreSQL at {db['HOST'] or 'localhost'}; {args.customers:,} customers")
    api_p95 = report("GET /api/v1/customers?search=", "/api/v1/customers", api)
    report("GET /api/v1/lookups/customers?search=", "/api/v1/lookups/customers", lookup)
    sql_p50, sql_p95 = statistics.median(baseline), percentile(baseline, 0.95)
    api_all = [value for values in api.values() for value in values]
    print(
        f"  baseline, the same SQL through a bare cursor ({len(baseline)} searches): "
        f"p50 {sql_p50:.1f} ms, p95 {sql_p95:.1f} ms; the API's p50 is "
        f"x{statistics.median(api_all) / sql_p50:.1f} and its p95 x{api_p95 / sql_p95:.1f} of it"
    )


if __name__ == "__main__":
    main()
