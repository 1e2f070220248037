"""Background jobs: long work (imports, annual statements, reports) run by the worker.

The queue (Huey, app/adapters/queue.py) only carries "run job N"; the truth about a job is
this row: what to do (`kind`, `params`), where it is (`state`, `done`/`total`, `checkpoint`)
and how it ended (`result`, `result_key`, `error`). A worker claims a queued job with one
conditional UPDATE, so two workers never run the same row; `active_key` is unique and set
only while the job is queued or running, so the same work (the same file, the same year's
statements) is never queued twice at once. A worker that dies leaves the row `running` with
an old heartbeat; the reaper puts it back in the queue and the job resumes from its
checkpoint.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.i18n import _l
from app.models.base import Base, utcnow


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """In the language being used now."""
        return str(JOB_STATE_LABELS[self.value])


JOB_STATE_LABELS = {"queued": _l("Đang chờ"), "running": _l("Đang chạy"), "done": _l("Hoàn thành"),
                    "failed": _l("Lỗi")}

ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_state_heartbeat", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(20), default=JobState.QUEUED.value)
    # The same work's key while queued/running (e.g. "annual_statements:2025"); NULL after.
    active_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int | None] = mapped_column(sa.BigInteger)
    phase: Mapped[str | None] = mapped_column(sa.String(40))
    checkpoint: Mapped[dict | None] = mapped_column(sa.JSON)
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    result_key: Mapped[str | None] = mapped_column(sa.String(300))  # file in app storage
    result_name: Mapped[str | None] = mapped_column(sa.String(200))  # download file name
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def state_label(self) -> str:
        return JobState(self.state).label

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES
