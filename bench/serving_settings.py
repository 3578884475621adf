"""Settings for `bench/serving.py`: the production settings (or, with BENCH_BASE_SETTINGS=dev,
the development ones `make run` uses) plus one bench-only route, `/bare/barcode/<code>`
(bench/bare_urls.py). Nothing else differs from what production serves."""

import os

if os.environ.get("BENCH_BASE_SETTINGS", "production") == "dev":
    from mipos.settings.dev import *  # noqa: F403
else:
    from mipos.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.bare_urls"
# The bench talks plain HTTP to the server on 127.0.0.1 (no TLS-terminating proxy in front).
SECURE_SSL_REDIRECT = False
