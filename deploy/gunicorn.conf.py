# gunicorn settings for the REST API (WSGI), shared by the Dockerfile and bench/serving.py.
# Command-line flags override them (e.g. `--bind 127.0.0.1:8123`).
#
# Sync workers, one thread each: every worker keeps ONE persistent PostgreSQL connection
# (production settings: DB_CONN_MAX_AGE=600 with health checks), so PostgreSQL sees
# workers x replicas connections. On 2 cores, 2 workers beat 4 (measured; docs/benchmarks.md:
# 3 did not help the checkout).
import logging
import os
import sys
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
threads = 1
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
# Restart a worker now and then (jittered so they do not restart together): bounds slow leaks;
# the worker's connection is closed with it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# gunicorn writes its access line (the request line with its query string, the referer) and its
# error log with its own handlers, not Django's: they pass the same scrubber as every other log
# line (apps.core.logging: `?signature=…`, `token=…`, JWTs … → [REDACTED]). A filter on the two
# loggers (gunicorn's setup keeps filters; forked workers inherit them), added once per process.
if str(Path(__file__).resolve().parents[1]) not in sys.path:  # the `gunicorn` script's path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from apps.core.logging import redacting_filter  # noqa: E402

for _name in ("gunicorn.access", "gunicorn.error"):
    logging.getLogger(_name).addFilter(redacting_filter)
# Request limits, gunicorn's defaults written out because `make run` serves with this same file's
# values (deploy/gunicorn_dev.conf.py): a request line (method, URL, version) over 4094 bytes is
# answered 414, more than 100 header fields or one longer than 8190 bytes 431, before Django.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# gunicorn's control socket (gunicornc) defaults to ONE path per host user
# ($XDG_RUNTIME_DIR/gunicorn.ctl): every instance on the host (replicas, bench/serving.py) would
# bind the same socket and a command would reach whichever took it last. Off unless
# GUNICORN_CONTROL_SOCKET names this instance's own path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


# /metrics across workers: with PROMETHEUS_MULTIPROC_DIR set, each worker writes its figures
# there and a scrape adds them up; the directory is emptied at start and a worker's live gauges
# are dropped when it exits.
def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# Events a worker queued but has not sent yet (apps.core.events: its sender runs beside the
# requests) go out before it exits: a recycle at max_requests, a reload, a stop.
def worker_exit(server, worker):
    from apps.core.events import events_flush

    try:
        events_flush()
    except Exception:  # a Redis that does not answer: the worker still exits
        server.log.warning("events not sent before the worker exited")
