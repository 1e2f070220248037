"""Prometheus metrics (prometheus_client), served at /metrics (app/blueprints/ops.py).

Counters and histograms live in each process. Under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does) so /metrics adds up every process of the
machine, the worker (`flask --app wsgi worker`) included when it shares the folder. Job and
queue figures that must be right across machines (jobs by state, queue length) are read from
the database and the queue at scrape time.
"""
from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

REQUESTS = Counter("quy_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("quy_http_request_duration_seconds", "HTTP request latency", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
WEBHOOKS = Counter("quy_webhook_events_total", "Payment webhook outcomes", ["provider", "outcome"])
JOBS_FINISHED = Counter("quy_jobs_finished_total", "Jobs finished by this process", ["kind", "state"])
JOB_SECONDS = Histogram("quy_job_duration_seconds", "Job run time (one attempt)", ["kind"],
                        buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600))
CACHE = Counter("quy_page_cache_total", "Public page cache lookups", ["result"])


def webhook(provider: str, outcome: str) -> None:
    WEBHOOKS.labels(provider, outcome).inc()


def job_finished(kind: str, state: str, seconds: float) -> None:
    JOBS_FINISHED.labels(kind, state).inc()
    JOB_SECONDS.labels(kind).observe(seconds)


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, endpoint, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)


class StateCollector:
    """Jobs by kind and state, and the queue's length, read when Prometheus scrapes."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        jobs = GaugeMetricFamily("quy_jobs", "Jobs by kind and state", labels=["kind", "state"])
        pending = GaugeMetricFamily("quy_queue_pending", "Tasks waiting in the queue")
        try:
            for (kind, state), count in job_counts().items():
                jobs.add_metric([kind, state], count)
        except Exception:  # noqa: BLE001 - a scrape never fails for one figure
            pass
        try:
            pending.add_metric([], self.app.extensions["queue"].pending_count())
        except Exception:  # noqa: BLE001
            pass
        yield jobs
        yield pending


def job_counts() -> dict[tuple[str, str], int]:
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Job

    rows = db.session.execute(sa.select(Job.kind, Job.state, sa.func.count()).group_by(Job.kind, Job.state))
    result = {(kind, state): count for kind, state, count in rows}
    db.session.commit()
    return result


def exposition(app) -> tuple[bytes, str]:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        for collector in (REQUESTS, LATENCY, WEBHOOKS, JOBS_FINISHED, JOB_SECONDS, CACHE):
            registry.register(_Proxy(collector))
        del REGISTRY
    registry.register(StateCollector(app))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Proxy:
    """Lets one process-wide metric appear in a per-scrape registry."""

    def __init__(self, metric):
        self.metric = metric

    def collect(self):
        return self.metric.collect()


def now() -> float:
    return time.perf_counter()
