"""The client's typed values: what goes in (TaskSpec) and what comes back (Task, Enqueued, stats).

Results are frozen dataclasses built from rows by column name. A column this version does not
know (a newer schema) lands in `extra` instead of breaking the read.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from ..worker.errors import InvalidArgument

TERMINAL = frozenset({"completed", "failed", "cancelled"})
ACTIVE = frozenset({"waiting", "pending", "running"})
PRIORITIES = {"critical": 100, "high": 50, "medium": 0, "low": -50}  # documentation; swarm.priority() decides

T = TypeVar("T")


def _empty() -> Any:
    """A field defaulting to an empty read-only mapping."""
    return field(default_factory=lambda: MappingProxyType({}))


def from_row(cls: type[T], row: Mapping[str, Any], **more: Any) -> T:
    """An instance of a result dataclass from a row: known columns by name, the rest in `extra`."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    known = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items() if k in names and k != "extra"}
    extra = {k: v for k, v in row.items() if k not in names}
    return cls(**known, **more, extra=MappingProxyType(extra))  # type: ignore[call-arg]  # every result class has `extra`


@dataclass(frozen=True)
class TaskSpec:
    """A task to enqueue. None (and an empty sequence) leave a column to the database's default.

    depends_on holds task ids (int) and names (str): the `ref` or `key` of an earlier task of
    the same enqueue_many batch, else the key of an existing task. priority is a number
    (-1000..1000, higher first) or a name: critical (100), high (50), medium (0), low (-50).
    delay (seconds or a timedelta) counts from the database's clock; run_after is a time.
    """

    prompt: str
    agent: str | None = None
    args: Mapping[str, Any] | None = None
    depends_on: Sequence[int | str] = ()
    key: str | None = None
    ref: str | None = None
    priority: int | str | None = None
    delay: timedelta | float | None = None
    run_after: datetime | None = None
    queue: str | None = None
    parent: int | None = None
    tags: Sequence[str] = ()
    metadata: Mapping[str, Any] | None = None
    max_attempts: int | None = None
    timeout: timedelta | float | None = None
    concurrency_key: str | None = None
    on_dependency_failure: str | None = None

    @classmethod
    def coerce(cls, value: TaskSpec | Mapping[str, Any]) -> TaskSpec:
        """A TaskSpec, or a mapping with the same field names."""
        if isinstance(value, TaskSpec):
            return value
        if not isinstance(value, Mapping):
            raise InvalidArgument(f"a task is a TaskSpec or a mapping, not {type(value).__name__}")
        unknown = sorted(set(value) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise InvalidArgument(f"unknown task field {unknown[0]!r}",
                                  hint=f"fields: {', '.join(f.name for f in dataclasses.fields(cls))}")
        if "prompt" not in value:
            raise InvalidArgument("a task needs a prompt")
        return cls(**value)

    def to_json(self) -> dict[str, Any]:
        """The task as an object of swarm.enqueue_many's array (only the fields that are set)."""
        if isinstance(self.depends_on, (str, bytes)) or isinstance(self.tags, (str, bytes)):
            raise InvalidArgument("depends_on and tags are sequences (a single name needs brackets)")
        out: dict[str, Any] = {
            "prompt": self.prompt, "agent": self.agent, "queue": self.queue, "key": self.key, "ref": self.ref,
            "priority": self.priority, "concurrency_key": self.concurrency_key, "parent_id": self.parent,
            "max_attempts": self.max_attempts, "on_dependency_failure": self.on_dependency_failure,
            "args": dict(self.args) if self.args is not None else None,
            "metadata": dict(self.metadata) if self.metadata is not None else None,
            "depends_on": list(self.depends_on) or None, "tags": list(self.tags) or None,
        }
        if self.delay is not None:
            out["delay_seconds"] = _seconds(self.delay)
        if self.run_after is not None:
            when = self.run_after if self.run_after.tzinfo else self.run_after.astimezone()  # naive: local time
            out["run_after"] = when.isoformat()
        if self.timeout is not None:
            out["timeout_seconds"] = int(_seconds(self.timeout))
        return {k: v for k, v in out.items() if v is not None}


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(frozen=True)
class Enqueued:
    """One task of an enqueue: its id, and whether it was created (False: its key was taken)."""

    ordinal: int
    id: int
    key: str | None
    agent: str
    status: str
    created: bool
    extra: Mapping[str, Any] = _empty()


@dataclass(frozen=True)
class Attempt:
    """One attempt of a task (swarm.task_attempts, where the engine keeps that ledger)."""

    attempt: int
    worker: str | None = None
    hostname: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: str | None = None
    exit_code: int | None = None
    error: str | None = None
    cost_usd: Decimal | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    session_id: str | None = None
    log_path: str | None = None
    extra: Mapping[str, Any] = _empty()

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Attempt:
        row = dict(value)
        for name in ("started_at", "finished_at"):
            if isinstance(row.get(name), str):
                row[name] = datetime.fromisoformat(row[name])
        if row.get("cost_usd") is not None:
            row["cost_usd"] = Decimal(str(row["cost_usd"]))
        row.pop("task_id", None)
        return from_row(cls, row)


@dataclass(frozen=True)
class Task:
    """A task, every column of swarm.agent_tasks, plus why it is not running and its attempts.

    why_pending: the engine's reasons for a waiting or pending task (None where the engine
    cannot tell, or the task is past that); ledger: one Attempt per attempt (empty where the
    engine keeps no ledger); archived: read from swarm.agent_tasks_archive.
    """

    id: int
    status: str
    prompt: str | None
    agent: str
    queue: str = "default"
    key: str | None = None
    args: Mapping[str, Any] = _empty()
    priority: int = 0
    depends_on: tuple[int, ...] = ()
    unmet_dependencies: int = 0
    on_dependency_failure: str = "cancel"
    parent_id: int | None = None
    concurrency_key: str | None = None
    run_after: datetime | None = None
    attempts: int = 0
    max_attempts: int = 3
    timeout_seconds: int | None = None  # None: the agent profile's, else 30 minutes
    lease_expires_at: datetime | None = None
    worker: str | None = None
    pid: int | None = None
    hostname: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    exit_code: int | None = None
    result: Any = None
    error: str | None = None
    output_tail: str | None = None
    log_path: str | None = None
    cost_usd: Decimal | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = _empty()
    cancel_requested_at: datetime | None = None
    cancel_reason: str | None = None
    cancelled_by_dependency: int | None = None
    free_releases: int = 0
    watched: bool = False
    progress: Mapping[str, Any] | None = None  # the latest attempt's: turns, tokens, cost, tool, message
    created_by: str | None = None  # the login that inserted the task (set by the database)
    archived: bool = False
    archived_at: datetime | None = None
    why_pending: tuple[str, ...] | None = None
    ledger: tuple[Attempt, ...] = ()
    extra: Mapping[str, Any] = _empty()

    @property
    def finished(self) -> bool:
        """Completed, failed or cancelled: nothing more will happen unless someone retries it."""
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "completed"

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready with a default=str encoder); extra columns merged in."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("extra", "ledger")}
        out["ledger"] = [{**{f.name: getattr(a, f.name) for f in dataclasses.fields(a) if f.name != "extra"},
                          **a.extra} for a in self.ledger]
        for name in ("args", "metadata"):
            out[name] = dict(out[name])
        return {**out, **self.extra}


def reasons(rows: Sequence[Any]) -> tuple[str, ...]:
    """why_pending's rows as sentences, whatever shape the engine gives them."""
    out = []
    for row in rows:
        if isinstance(row, Mapping):
            text = row.get("reason") or row.get("why_pending") or (next(iter(row.values())) if len(row) == 1 else None)
            out.append(str(text) if text is not None else json.dumps(row, default=str))
        else:
            out.append(str(row))
    return tuple(out)


@dataclass(frozen=True)
class QueueStat:
    """A row of swarm.queue_stats: tasks of one queue, agent and status."""

    queue: str
    agent: str
    status: str
    tasks: int
    claimable: int = 0
    oldest_created_at: datetime | None = None
    oldest_pending_age: timedelta | None = None
    extra: Mapping[str, Any] = _empty()


@dataclass(frozen=True)
class AgentStat:
    """A row of swarm.agent_stats: running against the cap, pause, 24 h success and cost."""

    agent: str
    running: int = 0
    max_concurrent: int | None = None
    pending: int = 0
    waiting: int = 0
    max_starts_per_minute: int | None = None
    paused: bool | None = None
    paused_until: datetime | None = None
    pause_reason: str | None = None
    consecutive_failures: int | None = None
    breaker_threshold: int | None = None
    completed_24h: int = 0
    failed_24h: int = 0
    success_rate_24h: Decimal | None = None
    cost_usd_24h: Decimal | None = None
    cost_usd_today: Decimal | None = None
    daily_budget_usd: Decimal | None = None
    extra: Mapping[str, Any] = _empty()


@dataclass(frozen=True)
class WorkerStat:
    """A row of swarm.worker_stats: a worker, whether it looks alive, what it runs."""

    worker: str
    hostname: str | None = None
    pid: int | None = None
    agents: tuple[str, ...] | None = None
    queues: tuple[str, ...] | None = None
    concurrency: int | None = None
    running: int = 0
    task_ids: tuple[int, ...] | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    heartbeat_age: timedelta | None = None
    alive: bool = False
    stopped_at: datetime | None = None
    extra: Mapping[str, Any] = _empty()


@dataclass(frozen=True)
class WindowStats:
    """swarm.stats(since): throughput and latency (seconds) over a recent window."""

    window_start: datetime
    window_end: datetime
    created: int = 0
    claimed: int = 0
    completed: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    completed_per_minute: Decimal | None = None
    wait_p50: Decimal | None = None
    wait_p95: Decimal | None = None
    wait_p99: Decimal | None = None
    run_p50: Decimal | None = None
    run_p95: Decimal | None = None
    run_p99: Decimal | None = None
    cost_usd: Decimal | None = None
    extra: Mapping[str, Any] = _empty()


@dataclass(frozen=True)
class Stats:
    """What `pgswarm stats` shows: the window's figures, queues, agents and live workers."""

    window: WindowStats
    queues: tuple[QueueStat, ...] = ()
    agents: tuple[AgentStat, ...] = ()
    workers: tuple[WorkerStat, ...] = ()


@dataclass(frozen=True)
class TaskOutput:
    """What a task printed, as far as the database has it: the live output of its latest attempt
    (swarm.task_output, its last MiB) while or after it runs, else the tail stored with its report."""

    task_id: int
    status: str
    text: str
    log_path: str | None = None
    complete: bool = False  # True when `text` is the whole output, not a tail
    attempt: int = 0
    cursor: int = 0  # the last chunk's seq in `text` (OutputChunk.seq): follow from there
    progress: Mapping[str, Any] | None = None  # parsed progress of the latest attempt


@dataclass(frozen=True)
class OutputChunk:
    """A piece of a running attempt's output, in order (seq 1, 2, ... per attempt)."""

    attempt: int
    seq: int
    text: str


@dataclass(frozen=True)
class Changed:
    """The status of one task after cancel or retry."""

    task_id: int
    status: str

