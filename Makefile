# Two commands for a newcomer: `make run` and `make test`. Only Python 3.11+ is needed:
# the virtualenv, the dependencies and an embedded PostgreSQL (under .data/) are set up on demand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 5000

.PHONY: install run test test-slow walkthrough lint check bench bench-tenants bench-console bench-writes load faults cluster-test db-stop clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	@echo "Serving HTTP + websockets on http://localhost:$(PORT)  (docs: http://localhost:$(PORT)/api/docs)"
	@# gunicorn as production (its HTTP parser and request limits), one ASGI worker serving HTTP and
	@# websockets, reloaded on code changes (deploy/gunicorn_dev.conf.py, deploy/dev_asgi.py);
	@# PORT: the port, and PUBLIC_URL's default (the password-reset e-mail's links)
	PORT=$(PORT) $(PY) -m gunicorn -c deploy/gunicorn_dev.conf.py

# Two tiers: `make test` the fast one (every behaviour but what needs minutes or other processes:
# about 2.5 minutes), `make test-slow` the rest (schemathesis as every role, seed_demo, browsers,
# servers and Redis in other processes). CI runs both. Each in two processes (pytest-xdist; each its
# own test database; a process left idle takes the next waiting test): 4 min 27 s -> 2 min 15 s for
# the fast tier on 2 cores. TEST_WORKERS=0 runs in one process (`pytest -m "not slow"` as well).
TEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -m "not slow" -n $(TEST_WORKERS) --dist worksteal

# The slow tier: the four schemathesis runs are most of it.
SLOW_WORKERS ?= 2
test-slow: install
	$(PY) -m pytest -m slow -n $(SLOW_WORKERS) --dist worksteal

# The curl walk-through (docs/walkthrough.md) run as a script (its own text) against a fresh demo
# database and a server on a free port, every call's documented status checked (tests/walkthrough.py; needs jq).
walkthrough: install
	$(PY) tests/walkthrough.py

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@# the layers the apps obey (pyproject.toml's [tool.importlinter]): no app imports one above it
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint test

# bench/serving.py and bench/inventory.py drive gunicorn with wrk: installed here with apt-get
# when possible (root). bench/inventory.py also runs pgbench (the embedded PostgreSQL has one).
bench: install
	$(PY) bench/tenant_create.py
	$(PY) bench/catalogue.py
	$(PY) bench/customers.py
	$(PY) bench/pos_products.py
	$(PY) bench/purchasing.py
	$(PY) bench/reports.py
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get install -y -q wrk >/dev/null; } || { echo "bench/serving.py needs wrk:" \
	  "apt-get install wrk (Debian/Ubuntu) or brew install wrk (macOS)"; exit 1; }
	$(PY) bench/serving.py
	$(PY) bench/inventory.py
	$(PY) bench/checkout.py

# Many companies on one PostgreSQL (issue 28): creation time at 10/100/1,000, migrate, disk, memory,
# latency; TENANTS_ARGS="--companies 10000 --walk" for the long run
bench-tenants: install
	$(PY) bench/tenants_scale.py $(TENANTS_ARGS)

# The platform console at 1,000 companies against 10 (issue 29): dashboard_load() in-process, GET
# /admin/ and the companies list through gunicorn, query counts; target < 300 ms (bench/console.py)
bench-console: install
	$(PY) bench/console.py $(CONSOLE_ARGS)

# The write endpoints (adjust, checkout, collect-due, transfer ship) against bare views running the
# same SQL, one gunicorn worker, wrk (bench/writes.py; arguments in WRITES_ARGS, e.g. --duration 10).
bench-writes: install
	$(PY) bench/writes.py $(WRITES_ARGS)

# A shop's mixed workload (cashiers, managers, a bulk import) by locust against gunicorn as production
# serves it, 16 users for 60 s, then the stock and sales checked in the database (bench/load.py).
load: install
	$(PY) bench/load.py $(LOAD_ARGS)

# PostgreSQL and Redis killed (-9) and restarted under a checkout burst against gunicorn, each a
# server private to the run (bench/faults.py): no 500, 503s during the outage, normal answers
# within 2 s of the restart, every acknowledged sale once, stock equal to its ledger.
faults: install
	$(PY) bench/faults.py $(FAULTS_ARGS)

# Two API (gunicorn) and two websocket (Daphne) processes behind nginx, sharing PostgreSQL and Redis
# (REDIS_URL, else a Redis of the run): a checkout on one pushed by the other, settings, plan,
# logout and throttles seen by the other at once, one API process killed (-9) in a checkout burst
# through nginx without losing or doubling an acknowledged sale (bench/cluster.py; needs nginx).
cluster-test: install
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null 2>&1 && apt-get install -y -q nginx >/dev/null; } \
	  || { echo "bench/cluster.py needs nginx: apt-get install nginx (Debian/Ubuntu)"; exit 1; }
	$(PY) bench/cluster.py $(CLUSTER_ARGS)

db-stop:
	-$(PY) -m mipos.database stop

clean: db-stop
	rm -rf $(VENV) .data staticfiles
