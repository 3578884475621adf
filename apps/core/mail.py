"""Mail sent off the request path: after the transaction commits, by a small pool of background
threads, so neither a slow mail server nor whether a message was sent at all shows in a
response's time (account recovery must not tell who has an account)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.core.mail import EmailMessage
from django.db import transaction

logger = logging.getLogger("mipos.mail")

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail")
_pending: set[Future] = set()
_lock = threading.Lock()


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:  # logged, never raised: nobody is waiting for it
        logger.exception("could not send mail %r", message.subject)


def _submit(message: EmailMessage) -> None:
    future = _pool.submit(_send, message)
    with _lock:
        _pending.add(future)
    future.add_done_callback(lambda done: _forget(done))


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def mail_send_later(message: EmailMessage) -> None:
    """Sends `message` in the background once the current transaction commits (never, if it
    rolls back)."""
    transaction.on_commit(lambda: _submit(message))


def mail_sent_wait(timeout: float = 10.0) -> None:
    """Waits for the messages handed over so far (tests, and a clean shutdown)."""
    with _lock:
        pending = set(_pending)
    wait(pending, timeout=timeout)
