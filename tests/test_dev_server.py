"""`make run`'s server answers like production's before Django does (issue 26, point 10).

The server is started with the very command of the Makefile's `run` recipe (gunicorn with
deploy/gunicorn_dev.conf.py: one ASGI worker serving HTTP and websockets, development settings),
on a free port, against the test database (the session's committed companies). Under Daphne
(`manage.py runserver`, what `make run` served before) a 16 KB URL or a 100 KB header dropped the
connection without an answer and a multipart body without a boundary got a bare 400 with no body;
production's gunicorn answers 414 and 431, and Django answers the multipart body with the JSON
error envelope.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from apps.catalog.models import Product
from apps.users.tokens import token_pair_issue
from tests.factories.http import json_call

pytestmark = pytest.mark.slow  # starts make run's server

ROOT = Path(settings.BASE_DIR)
COMMAND = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn_dev.conf.py"]
START_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _test_database_url() -> str:
    # DATABASE_URL is set (by the run, or by mipos.database for the embedded server)
    url = urlparse(os.environ["DATABASE_URL"])
    return urlunparse(url._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.fixture(scope="module")
def server(worlds, django_db_blocker, tmp_path_factory):
    """(port, process) of `make run`'s server; stopped with Ctrl-C's signal at the end."""
    with django_db_blocker.unblock():
        database = _test_database_url()
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mipos.settings.dev",
        "DATABASE_URL": database,
        "PORT": str(port),
        "DEV_RELOAD": "0",  # other files of the checkout may change during the run
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path_factory.mktemp("dev-server") / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        COMMAND, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail(f"no answer within {START_SECONDS} s:\n{log_path.read_text()}")
            time.sleep(0.2)
    yield port, process, log_path
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends `request` as is; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            if _ and len(body) >= int(_headers(head).get("content-length", "-1")) >= 0:
                break
    if not answer:
        return 0, {}, b""  # the connection closed without an answer (Daphne, before)
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), _headers(head), body


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def _token(user) -> str:
    # An access token is checked by signature and the user's row (committed by the session's
    # fixtures); the refresh token's row, written in this test's transaction, is not needed.
    # (The companies' passwords are hashed with the test settings' MD5 hasher, which the
    # development settings do not accept: no login through the server.)
    return token_pair_issue(user=user).access


def _websocket(port: int, path: str) -> tuple[socket.socket, int, bytes]:
    """Opens a websocket handshake; (socket, HTTP status, bytes read past the headers)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode()
    )  # fmt: skip
    answer = b""
    while b"\r\n\r\n" not in answer and (chunk := sock.recv(4096)):
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    return sock, int(head.split(b" ", 2)[1]), rest


def _frame(sock: socket.socket, buffered: bytes) -> tuple[int, bytes]:
    """One unmasked frame from the server: (opcode, payload)."""

    def take(n: int) -> bytes:
        nonlocal buffered
        while len(buffered) < n:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection"
            buffered += chunk
        taken, buffered = buffered[:n], buffered[n:]
        return taken

    first, second = take(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", take(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", take(8))[0]
    return first & 0x0F, take(length)


def test_the_makefile_runs_this_command():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "PORT=$(PORT) $(PY) -m gunicorn -c deploy/gunicorn_dev.conf.py\n" in recipe + "\n"
    assert "manage.py runserver" not in recipe


def test_a_normal_request_is_served_by_gunicorn(server):
    port, _, _ = server
    status, headers, body = _raw(port, b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["server"] == "gunicorn/asgi"


def test_a_16_kb_url_is_answered_414(server):
    port, _, _ = server
    url = "/health/live?q=" + "a" * 16 * 1024
    status, headers, _ = _raw(port, f"GET {url} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    assert status == 414
    assert headers["connection"] == "close"


def test_a_100_kb_header_is_answered_431(server):
    port, _, _ = server
    request = f"GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: {'a' * 100 * 1024}\r\n\r\n"
    status, headers, _ = _raw(port, request.encode())
    assert status == 431
    assert headers["connection"] == "close"


@pytest.mark.django_db
def test_a_multipart_body_without_boundary_gets_the_json_error_envelope(server, world_a):
    port, _, _ = server
    token = _token(world_a.admin)
    with tenant_context(world_a.tenant):
        products_before = Product.objects.count()
    body = b"not a multipart body"
    status, headers, answer = _raw(
        port,
        b"POST /api/v1/products/bulk-import HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\n"
        b"Content-Type: multipart/form-data\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )
    assert status == 400
    assert headers["content-type"] == "application/json"
    error = json.loads(answer)
    assert error["success"] is False
    assert error["error"]["code"] == "VALIDATION_ERROR"
    assert "Multipart form parse error" in error["error"]["message"]
    with tenant_context(world_a.tenant):
        assert Product.objects.count() == products_before


def test_a_websocket_without_token_is_refused(server):
    port, _, _ = server
    sock, status, _ = _websocket(port, "/ws/events")
    sock.close()
    assert status == 403  # the consumer closes before accepting: the handshake is refused


@pytest.mark.django_db
def test_a_websocket_with_a_token_receives_the_events_of_http_requests(server, world_a):
    """HTTP and websockets in the one worker: a settings change made over HTTP reaches the socket
    (the in-process channel layer without REDIS_URL, as `make run`)."""
    port, _, _ = server
    token = _token(world_a.admin)
    base, settings_path = f"http://127.0.0.1:{port}", "/api/v1/tenants/me/settings"
    _, current = json_call(base, "GET", settings_path, token=token)
    threshold = current["data"]["defaultLowStockThreshold"]
    sock, status, buffered = _websocket(port, f"/ws/events?token={token}")
    try:
        assert status == 101
        changed, _ = json_call(
            base, "PATCH", settings_path, {"defaultLowStockThreshold": threshold + 1}, token
        )
        assert changed == 200
        opcode, payload = _frame(sock, buffered)
    finally:
        sock.close()
        json_call(base, "PATCH", settings_path, {"defaultLowStockThreshold": threshold}, token)
    message = json.loads(payload)
    assert opcode == 0x1
    assert (message["event"], message["data"]) == (
        "tenant.settings.updated",
        {"defaultLowStockThreshold": threshold + 1},
    )


def test_ctrl_c_stops_the_server(server):
    """Last in the module: SIGINT to the process group (a terminal's Ctrl-C) ends it cleanly."""
    _, process, log_path = server
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=15) == 0
    log = log_path.read_text()
    assert "Traceback" not in log
    assert "Shutting down: Master" in log
