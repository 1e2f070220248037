"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_* below, or gunicorn's own
GUNICORN_CMD_ARGS). Graceful restart: `kill -HUP <master>` reloads the workers one
generation at a time, finishing requests in flight (up to graceful_timeout); `kill -TERM`
stops gracefully. See docs/production.md.
"""
import multiprocessing
import os
import tempfile

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Processes: 2 per core (+1), capped; threads per process for requests that wait on the
# database or Stripe. Each worker process holds its own database pool (pool_size 5).
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 9)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))           # a stuck worker is restarted
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))         # behind a proxy that keeps connections
# Recycle workers now and then (memory). Not every few seconds: a new worker imports the app
# (~4 s of CPU on the 2-core VM), and at a peak of ~700 req/s a limit of 5,000 recycled one
# of two workers every ~7 s (bench/load: stalls of 2 s+ and timeouts; docs/BENCHMARKS.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "10000"))
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None          # the app logs requests itself
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "quy-web"

# Prometheus across worker processes: one folder of metric files per server start.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="quy-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
