from __future__ import annotations

import pytest

from apps.realtime.tests.redis_server import redis_url  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def keep_the_test_connection(monkeypatch):
    # channels closes "old" connections around each database_sync_to_async call, which would
    # close the connection holding the test's transaction.
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
