"""The task queue: Huey, on SQLite by default (no extra service for `make run`), on Redis in
production, or in-process ("immediate") for tests and scripts.

`QUEUE_URL` picks the storage:

- `sqlite:///path/to/queue.db` (default `instance/queue.db`): a file the web processes and
  the worker share; one machine only.
- `redis://host:6379/0`: workers on as many machines as needed.
- `immediate`: no worker; a task runs inside `enqueue`, right away (tests).

Tasks are registered by name (`register`) and queued by name (`enqueue`), so a service can
queue work without importing the module that does it. The queue carries only small
arguments (ids); what a job is and how far it got lives in the database (app/models/job.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab


def make_huey(url: str, name: str = "quy") -> Any:
    if url == "immediate":
        return MemoryHuey(name, immediate=True, results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, timeout=30)
    raise ValueError(f"QUEUE_URL not understood: {url!r} (sqlite:///…, redis://… or immediate)")


class TaskQueue:
    """A Huey instance plus the app's tasks by name."""

    def __init__(self, url: str, name: str = "quy"):
        self.url = url
        self.huey = make_huey(url, name)
        self.tasks: dict[str, Any] = {}

    @property
    def immediate(self) -> bool:
        return bool(self.huey.immediate)

    def register(self, name: str, fn: Callable, *, retries: int = 0, retry_delay: int = 0) -> None:
        self.tasks[name] = self.huey.task(name=name, retries=retries, retry_delay=retry_delay)(fn)

    def periodic(self, name: str, fn: Callable, *, minute: str = "*") -> None:
        self.tasks[name] = self.huey.periodic_task(crontab(minute=minute), name=name)(fn)

    def enqueue(self, name: str, *args) -> None:
        self.tasks[name](*args)

    def pending_count(self) -> int:
        return 0 if self.immediate else self.huey.pending_count()

    def ping(self) -> None:
        """Raise if the queue's storage cannot be reached (readiness check)."""
        if self.immediate:
            return
        self.huey.pending_count()

    def run_pending(self, limit: int = 1000) -> int:
        """Take tasks off the queue and run them here, until it is empty (tests, scripts):
        the same storage round trip a worker does, without a consumer process."""
        count = 0
        while count < limit:
            task = self.huey.dequeue()
            if task is None:
                return count
            self.huey.execute(task)
            count += 1
        return count

    def consumer(self, workers: int = 2):
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                         check_worker_health=True)
