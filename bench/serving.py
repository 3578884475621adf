"""Serving benchmark: the API served as production serves it, measured over HTTP with wrk.

gunicorn with the production configuration (deploy/gunicorn.conf.py: 2 sync workers) and the
production settings (persistent PostgreSQL connections with health checks), plus one bench-only
route (bench/serving_settings.py). In ONE run, with wrk (2 threads, 8 connections) against each
URL in turn, it prints req/s of:

- bare:      `/bare/barcode/<code>`, a DRF view with no authentication, permission, throttle,
             envelope or serializer, running one indexed SELECT (the barcode lookup's product
             query) on the bench company's schema — the floor of any API call;
- barcode:   `GET /api/v1/products/lookup/barcode/<code>` as a CASHIER (product barcodes);
- list 20:   `GET /api/v1/products?limit=20` as an ADMIN (cost prices included);
- list 100:  `GET /api/v1/products?limit=100` as an ADMIN;

and each one's ratio to bare, measured in the same run (rounds interleaved, medians), so machine
load moves them together. Targets: barcode >= 0.8x bare, list 20 >= 0.35x bare.

It creates its own company with the 202-product demo catalogue (apps.catalog.demo) in the
development database (DATABASE_URL, or the embedded PostgreSQL under .data/) and removes it after.

    make bench        # or: .venv/bin/python bench/serving.py [--duration 5] [--rounds 3]
    .venv/bin/python bench/serving.py --server dev   # what `make run` serves (gunicorn, ASGI)

Needs `wrk` (Debian/Ubuntu: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.serving_settings",
    # production refuses to start without one; the bench's tokens are signed with it
    "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-serving-secret-key-0123456789abcdefghij"),
    "SECURE_COOKIES": "0",
    "ALLOWED_HOSTS": "*",
    # wrk sends thousands of requests a second with one token: lift the rate limits for the run
    "THROTTLE_USER": "1000000000/min",
    "THROTTLE_ANON": "1000000000/min",
    # one JSON log line per request would go to a file nobody reads; the bare view and the API
    # pay the same, so leaving it out makes the ratios conservative
    "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    "GUNICORN_ACCESS_LOG": "",
}
os.environ.update({k: v for k, v in SERVER_ENV.items() if k not in os.environ or k == "LOG_LEVEL"})
os.environ["DJANGO_SETTINGS_MODULE"] = SERVER_ENV["DJANGO_SETTINGS_MODULE"]

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument(
    "--server", choices=["gunicorn", "dev"], default="gunicorn",
    help="gunicorn as production (default), or as `make run` (one ASGI worker, dev settings)",
)  # fmt: skip
parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
parser.add_argument("--keep", action="store_true", help="keep the bench company afterwards")
args = parser.parse_args()
# This process seeds with the settings the server will run with (and prints them).
os.environ["BENCH_BASE_SETTINGS"] = "dev" if args.server == "dev" else "production"
if args.server == "dev":
    os.environ.pop("LOG_LEVEL", None)

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from apps.tenants.models import Tenant  # noqa: E402
from apps.users.tokens import token_pair_issue  # noqa: E402
from bench.common import (  # noqa: E402
    company_remove,
    demo_company_seed,
    free_port,
    start_server,
    stop_server,
)

SLUG = "bench-serving"
PASSWORD = "Bench-pass-2026!"
LUA = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format(nil, paths[i])
end
"""


def cleanup() -> None:
    company_remove(SLUG)


def seed() -> tuple[Tenant, str, str, list[str]]:
    """The bench company: demo catalogue, an ADMIN and a CASHIER; their tokens; barcodes."""
    tenant, owner, cashier, rows = demo_company_seed(
        slug=SLUG, name="Bench serving", password=PASSWORD
    )
    barcodes = [row["barcode"] for row in rows if row.get("barcode")]
    return (
        tenant,
        token_pair_issue(user=owner).access,
        token_pair_issue(user=cashier).access,
        barcodes,
    )


def check(url: str, headers: dict) -> None:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")


def wrk(base: str, paths: list[str], headers: dict, seconds: int, tmp: Path) -> float:
    listing = tmp / f"paths-{abs(hash(tuple(paths)))}.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = tmp / "rotate.lua"
    script.write_text(LUA)
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, base + paths[0]],
        env={**os.environ, "WRK_PATHS": str(listing)},
        capture_output=True, text=True,
    )  # fmt: skip
    out = result.stdout
    if result.returncode != 0:
        raise SystemExit(f"wrk failed on {paths[0]}: {result.stderr}{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise SystemExit(f"wrk saw failures on {paths[0]}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian/Ubuntu)")

    call_command("migrate", verbosity=0)
    cleanup()
    tenant, admin_token, cashier_token, barcodes = seed()
    db = connection.settings_dict
    connections.close_all()
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="mipos-bench-"))
    process = start_server(args.server, port, tenant.schema_name, tmp / "server.log")
    base = f"http://127.0.0.1:{port}"
    as_admin = {"Authorization": f"Bearer {admin_token}"}
    as_cashier = {"Authorization": f"Bearer {cashier_token}"}
    targets = {
        "bare": ([f"/bare/barcode/{code}" for code in barcodes], {}),
        "barcode": ([f"/api/v1/products/lookup/barcode/{code}" for code in barcodes], as_cashier),
        "list 20": (["/api/v1/products?limit=20"], as_admin),
        "list 100": (["/api/v1/products?limit=100"], as_admin),
    }
    rates: dict[str, list[float]] = {name: [] for name in targets}
    try:
        for paths, headers in targets.values():
            check(base + paths[0], headers)
            wrk(base, paths, headers, 1, tmp)  # warm-up: imports, caches, connections
        for _ in range(args.rounds):
            for name, (paths, headers) in targets.items():
                rates[name].append(wrk(base, paths, headers, args.duration, tmp))
    finally:
        stop_server(process)
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            cleanup()

    medians = {name: statistics.median(values) for name, values in rates.items()}
    bare = medians["bare"]
    if args.server == "gunicorn":
        server = "gunicorn, 2 sync workers (deploy/gunicorn.conf.py), production settings"
    else:
        server = "gunicorn, 1 ASGI worker (deploy/gunicorn_dev.conf.py, `make run`), dev settings"
    conn = settings.DATABASES["default"]
    pool = conn.get("OPTIONS", {}).get("pool")
    keeping = (
        f"psycopg pool (min {pool['min_size']}, max {pool['max_size']})"
        if pool
        else f"CONN_MAX_AGE={conn['CONN_MAX_AGE']}, health checks {conn['CONN_HEALTH_CHECKS']}"
    )
    print(f"Serving benchmark — {server}")
    print(f"  connections: {keeping}; PostgreSQL at {db['HOST'] or 'localhost'}")
    print(f"  wrk 2 threads, 8 connections, {args.duration:g} s x {args.rounds} rounds (medians)")
    targets_ratio = {"barcode": 0.8, "list 20": 0.35}
    for name, values in rates.items():
        ratio = medians[name] / bare
        line = f"  {name:<9} {medians[name]:8.0f} req/s   x{ratio:5.2f} of bare"
        line += "   (" + ", ".join(f"{v:.0f}" for v in values) + ")"
        if name in targets_ratio:
            target = targets_ratio[name]
            line += f"   target >= {target}  {'MET' if ratio >= target else 'MISSED'}"
        print(line)


if __name__ == "__main__":
    main()
