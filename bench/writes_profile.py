"""`bench/writes.py --profile`: where a gunicorn worker's time goes while wrk drives one
endpoint, sampled with py-spy (`pip install py-spy`; it attaches to the worker, so it needs
ptrace rights: root, or CAP_SYS_PTRACE).

py-spy records the worker's stacks (idle ones included: waiting for PostgreSQL or for the next
request; other threads, such as the events' loop, left out) in its raw "collapsed" format; each sample is put in the first category below whose
pattern one of its frames matches, scanning the categories in order (so a statement run by the
audit service counts as audit, not as database wait). The figures are shares of the worker's
wall-clock time; multiplied by the time per request (1 / req/s with one worker kept busy),
milliseconds per request.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# (category, pattern on "function (file:line)" frames); first match wins, in this order
CATEGORIES = [
    ("worker idle (waiting for a request)", r"^(?!.*SyncWorker\.handle \()"),
    ("gunicorn HTTP (parse, send, close)", r"^(?!.*SyncWorker\.handle_request \()"),
    ("authentication (JWT, user statement)", r"_authenticate \(rest_framework/request\.py"),
    ("throttles", r"check_throttles \(rest_framework/views\.py"),
    ("permissions / plan features", r"check_permissions \(rest_framework/views\.py"),
    (  # the decorator's own frame is in every stack of the view: its work only
        "idempotency key",
        r"(?:key_lock|idempotency_\w+|request_fingerprint|replay_response|purge\w*)"
        r" \(apps/core/idempotency\.py",
    ),
    ("audit row", r"apps/audit/"),
    ("events (publish, deliver)", r"apps/core/events\.py|asgiref/|channels"),
    ("input validation (serializers)", r"\b(?:is_valid|run_validation) \(rest_framework/"),
    (
        "answer (serializer, envelope, JSON)",
        r"finalize_response|rendered_content|\.data \(rest_framework/serializers"
        r"|to_representation|_levels_response|_render \(",
    ),
    ("commit", r"\bcommit \(django/db/backends|__exit__ \(django/db/transaction\.py"),
    (
        "SQL (execute, wait, fetch)",
        r"\b(?:execute|fetchone|fetchall|fetchmany|nextset) \(|psycopg/",
    ),
    ("service logic (Python)", r"apps/(?:inventory|sales|customers|stores|catalog)/"),
    ("view / DRF dispatch", r"rest_framework/"),
    ("middleware / Django / WSGI", r"django/|apps/core/middleware|whitenoise|gunicorn/"),
]


WAIT = re.compile(r"Connection\.wait \(psycopg/[^;]*$")


def pyspy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"  # the virtualenv's, when not on PATH
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: int, out: Path) -> subprocess.Popen:
    """Starts py-spy recording `pid` for `seconds` (raw collapsed stacks, idle included)."""
    return subprocess.Popen(
        [
            pyspy(), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250",
            "--idle", "--format", "raw", "--output", str(out), "--nonblocking",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def classify(raw: Path) -> tuple[Counter, int]:
    compiled = [(name, re.compile(pattern)) for name, pattern in CATEGORIES]
    shares: Counter = Counter()
    waits: Counter = Counter()  # of which the leaf is psycopg waiting for the server
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        if stack.startswith("Thread._bootstrap"):  # another thread (the events' loop)
            continue
        total += n
        for name, pattern in compiled:
            if pattern.search(stack):
                shares[name] += n
                break
        else:
            name = "other"
            shares[name] += n
        if WAIT.search(stack):
            waits[name] += n
    return shares, waits, total


def report(label: str, raw: Path, rate: float) -> list[str]:
    shares, waits, total = classify(raw)
    if not total:
        return [f"  {label}: no samples"]
    busy = total - shares["worker idle (waiting for a request)"]
    # one worker: its busy time divided by the requests it served
    per_request = 1000 * (busy / total) / rate if rate else 0.0
    lines = [
        f"  {label}: {rate:.0f} req/s, {per_request:.2f} ms per request;"
        f" worker busy {100 * busy / total:.0f}% of {total} samples;"
        f" waiting for PostgreSQL {sum(waits.values()) / busy * per_request:.2f} ms in all"
    ]
    for name, n in shares.most_common():
        if name.startswith("worker idle"):
            continue
        share = n / busy
        wait = waits[name] / busy * per_request
        lines.append(
            f"    {name:<40} {100 * share:5.1f}%  {share * per_request:6.2f} ms"
            + (f"  (waiting for PostgreSQL {wait:.2f} ms)" if wait >= 0.01 else "")
        )
    return lines
