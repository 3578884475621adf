"""Settings for `bench/writes.py`: bench/serving_settings.py's (production's, plus the bare
barcode view) with the bare write views mounted too (bench/writes_urls.py)."""

from bench.serving_settings import *  # noqa: F403

ROOT_URLCONF = "bench.writes_urls"
