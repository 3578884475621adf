"""`make walkthrough`: the curl walk-through (docs/walkthrough.md), run top to bottom against a
live server.

The script is the walk-through's own text: every fenced ```bash block of its "curl walk-through"
section (the file's `# curl walk-through`, or a `## curl walk-through` section up to the next
`## ` heading), in order, run by bash with `set -euo pipefail` (no second copy to drift). Every
curl call in those blocks ends its (logical) line with the status it answers, `# → 201`; the calls
are checked in order against them, and the first call that answers anything else stops the run.

Against a fresh database (created on the server of DATABASE_URL, or on the embedded one, and
dropped afterwards), migrated and seeded with `seed_demo` exactly as `make run` does, with the
development server (gunicorn with deploy/gunicorn_dev.conf.py, as `make run`) on a free port:
`BASE` points at it. Needs bash, curl and jq (as the walk-through says).

    python tests/walkthrough.py            # or: make walkthrough
    python tests/walkthrough.py --list     # the calls and the statuses the walk-through documents
    python tests/walkthrough.py --file PATH     # another copy of it (while editing it);
                                                # --readme PATH: the same option's older name
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent
WALKTHROUGH = BASE_DIR / "docs" / "walkthrough.md"
SECTION = re.compile(r"^#{1,2} curl walk-through[ \t]*$", re.MULTILINE)
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
CALL = re.compile(r"(?<![\w.-])curl\s")
STATUS = re.compile(r"#\s*→\s*(\d{3})\b")
SCRIPT_SECONDS = 300
SERVER_START_SECONDS = 60

# Every curl call goes through this function: its status is written to stderr by curl itself
# (-w %{stderr}), so the body reaches the walk-through's pipes and variables untouched; the n-th
# call must answer the n-th documented status.
PRELUDE = r"""set -euo pipefail
curl() {
  local status expected n
  command curl -w '%{stderr}%{http_code}\n' "$@" 2>"$WALK_DIR/stderr" || true
  status=$(tail -n 1 "$WALK_DIR/stderr")
  echo "$status" >> "$WALK_DIR/statuses"
  n=$(wc -l < "$WALK_DIR/statuses")
  expected=$(sed -n "${n}p" "$WALK_DIR/expected")
  if [ "$status" != "$expected" ]; then
    echo "walk-through: call $n answered $status, the walk-through documents $expected" >&2
    return 1
  fi
}
"""


def walkthrough_blocks(text: str) -> list[str]:
    """The bash blocks of the walk-through section, in order."""
    found = SECTION.search(text)
    if found is None:
        raise ValueError("no `# curl walk-through` (or `## curl walk-through`) heading")
    start = found.end()
    end = text.find("\n## ", start)
    return BLOCK.findall(text[start : end if end != -1 else len(text)])


def logical_lines(block: str) -> list[str]:
    """The block's commands, one per line: backslash continuations and quoted strings that span
    lines joined (a status comment can only end the command's last line)."""
    lines, current, quote = [], "", ""
    for line in block.splitlines():
        quote = _open_quote(line, quote)
        if quote:
            current += line + " "
        elif line.endswith("\\"):
            current += line[:-1] + " "
        else:
            lines.append(current + line)
            current = ""
    if current:
        lines.append(current)
    return lines


def _open_quote(line: str, quote: str) -> str:
    """The quote (' or ") still open at the end of `line`, given the one open at its start."""
    escaped = False
    for n, char in enumerate(line):
        if escaped:
            escaped = False
        elif quote == "'":
            quote = "" if char == "'" else quote
        elif char == "\\":
            escaped = True
        elif quote == '"':
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (n == 0 or line[n - 1].isspace()):
            break  # a comment
    return quote


def documented_calls(blocks: list[str]) -> list[tuple[int, str]]:
    """(documented status, the command) of every curl call, in order. Each line holding a call
    holds exactly one and documents its status; no other line documents one (nor says `curl `
    in a comment)."""
    calls, problems = [], []
    for line in (line for block in blocks for line in logical_lines(block)):
        count, status = len(CALL.findall(line)), STATUS.search(line)
        if count == 1 and status:
            calls.append((int(status.group(1)), " ".join(line.split())))
        elif count or status:
            problems.append(line.strip())
    if problems:
        raise SystemExit(
            "walk-through: every curl call needs its own line ending with `# → <status>`:\n"
            + "\n".join(f"  {line}" for line in problems)
        )
    return calls


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


def run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"walk-through: {what} failed ({done.returncode})")


def wait_until_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"walk-through: the server exited ({server.returncode})")
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"walk-through: the server did not answer within {SERVER_START_SECONDS} s")


def main() -> int:
    option = next((o for o in ("--file", "--readme") if o in sys.argv), None)
    path = Path(sys.argv[sys.argv.index(option) + 1]) if option else WALKTHROUGH
    blocks = walkthrough_blocks(path.read_text())
    calls = documented_calls(blocks)
    if "--list" in sys.argv:
        for status, line in calls:
            print(f"{status}  {line[:150]}")
        return 0
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"walk-through: needs {', '.join(missing)} (e.g. apt-get install jq)")

    import psycopg

    sys.path.insert(0, str(BASE_DIR))
    from mipos.database import database_url

    started = time.monotonic()
    server_url = database_url(BASE_DIR)  # DATABASE_URL, or the embedded server (started)
    name = f"mipos_walkthrough_{os.getpid()}"
    admin_url = with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": with_database(server_url, name),
        "DJANGO_SETTINGS_MODULE": "mipos.settings.dev",
        "PORT": str(port),
        "PUBLIC_URL": base,
        "BASE": base,
        "PYTHONUNBUFFERED": "1",
    }
    work = Path(tempfile.mkdtemp(prefix="mipos-walkthrough-"))
    server = None
    try:
        python = sys.executable
        run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env, "migrate")
        run([python, "manage.py", "seed_demo"], env, "seed_demo")
        log = (work / "server.log").open("w")
        server = subprocess.Popen(
            [python, "-m", "gunicorn", "-c", "deploy/gunicorn_dev.conf.py",
             "--bind", f"127.0.0.1:{port}"],
            cwd=BASE_DIR, env={**env, "DEV_RELOAD": "0"}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until_ready(base, server)
        ready = time.monotonic()

        script = work / "walkthrough.sh"
        script.write_text(PRELUDE + "\n".join(blocks))
        (work / "expected").write_text("".join(f"{status}\n" for status, _ in calls))
        (work / "statuses").write_text("")
        done = subprocess.run(
            ["bash", str(script)], cwd=work, env={**env, "WALK_DIR": str(work)},
            capture_output=True, text=True, timeout=SCRIPT_SECONDS,
        )  # fmt: skip
        answered = (work / "statuses").read_text().split()
        agree = answered == [str(status) for status, _ in calls]
        if done.returncode != 0 or not agree:
            n = next(
                (i for i, (got, (want, _)) in enumerate(zip(answered, calls, strict=False))
                 if got != str(want)),
                len(answered),
            )  # fmt: skip
            print(done.stdout[-1500:])
            print(done.stderr[-1500:], file=sys.stderr)
            if n < len(calls):
                print(f"\nwalk-through: call {n + 1} of {len(calls)}, documented {calls[n][0]}, "
                      f"answered {answered[n] if n < len(answered) else 'nothing'}:\n"
                      f"  {calls[n][1]}", file=sys.stderr)  # fmt: skip
            print("\nserver log (tail):\n" + (work / "server.log").read_text()[-1500:])
            return 1
        print(
            f"walk-through: {len(calls)} calls, each answered its documented status "
            f"({time.monotonic() - ready:.1f} s; {time.monotonic() - started:.0f} s with the "
            f"database and the server)"
        )
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
