# gunicorn settings for the REST API (WSGI), shared by the Dockerfile and bench/serving.py.
# Command-line flags override them (e.g. `--bind 127.0.0.1:8123`).
#
# Sync workers, one thread each: every worker keeps ONE persistent PostgreSQL connection
# (production settings: DB_CONN_MAX_AGE=600 with health checks), so PostgreSQL sees
# workers x replicas connections. On 2 cores, 2 workers beat 4 (measured, see README).
import os

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
