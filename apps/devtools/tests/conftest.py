from __future__ import annotations

import logging

import pytest

from apps.devtools.log_store import LogStoreHandler, log_store


@pytest.fixture
def stored_logs():
    """The log store as production wires it (a handler on the root logger; `mipos.request`
    lines at INFO), but without its thread: the test writes the queue with `flush()`, in its own
    connection and transaction."""
    handler = LogStoreHandler()
    root = logging.getLogger()
    request_logger = logging.getLogger("mipos.request")
    level = request_logger.level
    log_store.configure(background=False)
    request_logger.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield log_store
    finally:
        root.removeHandler(handler)
        request_logger.setLevel(level)
        log_store.configure()
