"""Every SQL statement of the client (its one query module), without I/O.

Each function returns a Query: the text, its parameters and how to turn the rows into the
result. `Client` runs it on a psycopg connection, `AsyncClient` on an async one, so the two
share every statement and every parse and differ only in how they wait. State changes go
through the engine's functions (docs/sql-api.md); enqueueing through swarm.enqueue_many.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from psycopg.types.json import Jsonb

from ._models import (AgentStat, Attempt, Changed, Enqueued, OutputChunk, QueueStat, Stats, Task, TaskOutput, TaskSpec,
                      WindowStats, WorkerStat, from_row, reasons)
from .capability import TaskCapability

T = TypeVar("T")
Row = dict[str, Any]

LISTEN_FINISHED = "listen swarm_finished"
UNLISTEN_FINISHED = "unlisten swarm_finished"


@dataclass(frozen=True)
class Query(Generic[T]):
    text: str
    params: Mapping[str, Any] | Sequence[Any] | None
    parse: Callable[[list[Row]], T]


def _first(column: str) -> Callable[[list[Row]], Any]:
    return lambda rows: rows[0][column] if rows else None


# -- enqueue -----------------------------------------------------------------------------------------
def enqueue_many(tasks: Iterable[TaskSpec | Mapping[str, Any]]) -> Query[list[Enqueued]]:
    """All tasks in one statement (one transaction unless the caller's is open), in order."""
    payload = [TaskSpec.coerce(task).to_json() for task in tasks]
    return Query("select * from swarm.enqueue_many(tasks => %(tasks)s) order by ordinal", {"tasks": Jsonb(payload)},
                 lambda rows: [from_row(Enqueued, row) for row in rows])


def agent_enqueue(capability: TaskCapability, tasks: Iterable[TaskSpec | Mapping[str, Any]]) -> Query[list[Enqueued]]:
    """Children of the capability's running task, through the agent's functions (parent forced)."""
    payload = [TaskSpec.coerce(task).to_json() for task in tasks]
    return Query("select * from swarm.agent_enqueue(task_id => %(task_id)s, token => %(token)s, tasks => %(tasks)s) "
                 "order by ordinal", {"task_id": capability.task_id, "token": capability.token, "tasks": Jsonb(payload)},
                 lambda rows: [from_row(Enqueued, row) for row in rows])


def agent_dependency_results(capability: TaskCapability) -> Query[list[dict[str, Any]]]:
    return Query("select swarm.agent_dependency_results(task_id => %(task_id)s, token => %(token)s) as results",
                 {"task_id": capability.task_id, "token": capability.token}, lambda rows: rows[0]["results"])


def agent_children(capability: TaskCapability) -> Query[list[dict[str, Any]]]:
    return Query("select swarm.agent_children(task_id => %(task_id)s, token => %(token)s) as children",
                 {"task_id": capability.task_id, "token": capability.token}, lambda rows: rows[0]["children"])


def agent_report_progress(capability: TaskCapability, progress: Mapping[str, Any]) -> Query[None]:
    return Query("select swarm.agent_report_progress(task_id => %(task_id)s, token => %(token)s, "
                 "progress => %(progress)s)",
                 {"task_id": capability.task_id, "token": capability.token, "progress": Jsonb(dict(progress))},
                 lambda rows: None)


# -- reading -----------------------------------------------------------------------------------------
CAPABILITIES = Query(
    """select to_regclass('swarm.task_attempts') is not null as ledger,
              to_regprocedure('swarm.why_pending(bigint)') is not null as why_pending""",
    None, lambda rows: rows[0])


def _task_select(table: str, capabilities: Mapping[str, bool]) -> str:
    # Rows in the order the attempts ran (a release that spends no attempt gives its number back).
    attempts = "swarm.task_attempts_archive" if table.endswith("_archive") else "swarm.task_attempts"
    ledger = (f"(select coalesce(jsonb_agg(to_jsonb(a) order by a.id), '[]') from {attempts} as a "
              "where a.task_id = task.id)" if capabilities.get("ledger") else "'[]'::jsonb")
    why = ("case when task.status in ('waiting', 'pending') then (select coalesce(jsonb_agg(to_jsonb(w)), '[]') "
           "from swarm.why_pending(task.id) as w) end" if capabilities.get("why_pending") else "null::jsonb")
    archived = "true" if table.endswith("_archive") else "false"
    return (f"select task.*, {archived} as archived, {ledger} as _ledger, {why} as _why_pending "
            f"from {table} as task")


def _tasks(rows: list[Row]) -> list[Task]:
    out = []
    for row in rows:
        ledger = tuple(Attempt.from_json(a) for a in row.pop("_ledger") or ())
        why = row.pop("_why_pending")
        out.append(from_row(Task, row, ledger=ledger, why_pending=None if why is None else reasons(why)))
    return out


def get_task(task_id: int, capabilities: Mapping[str, bool], *, archive: bool = False) -> Query[Task | None]:
    """A task by id from the live table (or, with archive=True, from the archive)."""
    table = "swarm.agent_tasks_archive" if archive else "swarm.agent_tasks"
    return Query(_task_select(table, capabilities) + " where task.id = %(id)s", {"id": task_id},
                 lambda rows: next(iter(_tasks(rows)), None))


def list_tasks(capabilities: Mapping[str, bool], *, status: str | Sequence[str] | None = None,
               agent: str | None = None, queue: str | None = None, tag: str | None = None,
               parent: int | None = None, worker: str | None = None, priority: int | str | None = None,
               key: str | None = None, since: timedelta | None = None, limit: int = 50) -> Query[list[Task]]:
    """Tasks matching every filter given, newest first (live table)."""
    statuses = [status] if isinstance(status, str) else list(status or [])
    return Query(_task_select("swarm.agent_tasks", capabilities) + """
         where (cardinality(%(statuses)s::text[]) = 0 or task.status = any(%(statuses)s::text[]))
           and (%(agent)s::text is null or task.agent = %(agent)s)
           and (%(queue)s::text is null or task.queue = %(queue)s)
           and (%(tag)s::text is null or %(tag)s = any(task.tags))
           and (%(parent)s::bigint is null or task.parent_id = %(parent)s)
           and (%(worker)s::text is null or task.worker = %(worker)s)
           and (%(priority)s::text is null or task.priority = swarm.priority(%(priority)s))
           and (%(key)s::text is null or task.key = %(key)s)
           and (%(since)s::interval is null or task.created_at > swarm.now() - %(since)s::interval)
         order by task.id desc
         limit %(limit)s""",
        {"statuses": statuses, "agent": agent, "queue": queue, "tag": tag, "parent": parent, "worker": worker,
         "priority": None if priority is None else str(priority), "key": key, "since": since, "limit": limit},
        _tasks)


def task_status(task_id: int) -> Query[str | None]:
    """The status now (live table, else the archive); None for an unknown id."""
    return Query("""
        select coalesce((select task.status from swarm.agent_tasks as task where task.id = %(id)s),
                        (select task.status from swarm.agent_tasks_archive as task where task.id = %(id)s)) as status
        """, {"id": task_id}, _first("status"))


def watch_task(task_id: int) -> Query[str]:
    """Mark the task so that its finish sends NOTIFY swarm_finished; its status now."""
    return Query("select swarm.watch_task(task_id => %(id)s) as status", {"id": task_id}, _first("status"))


def _task_output(rows: list[Row]) -> TaskOutput | None:
    if not rows:
        return None
    row = rows[0]
    live = row["live"] is not None
    return TaskOutput(row["id"], row["status"], (row["live"] if live else row["output_tail"]) or "", row["log_path"],
                      complete=live and row["first_seq"] == 1, attempt=row["attempts"], cursor=row["last_seq"] or 0,
                      progress=row["progress"])


def task_output(task_id: int) -> Query[TaskOutput | None]:
    """What the database holds of a task's output (the one place to read it from): the latest
    attempt's live output where it has any, else the tail stored with the report."""
    return Query("""
        select task.id, task.status, task.output_tail, task.log_path, task.attempts, task.progress,
               live.text as live, live.first_seq, live.last_seq
          from swarm.agent_tasks as task
          left join lateral (
            select string_agg(o.chunk, '' order by o.seq) as text, min(o.seq) as first_seq, max(o.seq) as last_seq
              from swarm.task_output as o where o.task_id = task.id and o.attempt = task.attempts
            having count(*) > 0) as live on true
         where task.id = %(id)s
        union all
        select task.id, task.status, task.output_tail, task.log_path, task.attempts, task.progress,
               null, null, null
          from swarm.agent_tasks_archive as task
         where task.id = %(id)s
        limit 1
        """, {"id": task_id}, _task_output)


LISTEN_OUTPUT = "listen swarm_output"
UNLISTEN_OUTPUT = "unlisten swarm_output"


def output_state(task_id: int) -> Query[Row | None]:
    """Status, attempt number and stored tail of a task (live table, else the archive)."""
    return Query("""
        select task.status, task.attempts, task.output_tail from swarm.agent_tasks as task where task.id = %(id)s
        union all
        select task.status, task.attempts, task.output_tail from swarm.agent_tasks_archive as task
         where task.id = %(id)s
        limit 1
        """, {"id": task_id}, lambda rows: rows[0] if rows else None)


def output_chunks(task_id: int, attempt: int, after_seq: int) -> Query[list[OutputChunk]]:
    """The chunks of an attempt after `after_seq`, in order."""
    return Query("""
        select o.attempt, o.seq, o.chunk as text from swarm.task_output as o
         where o.task_id = %(id)s and o.attempt = %(attempt)s and o.seq > %(after)s
         order by o.seq
        """, {"id": task_id, "attempt": attempt, "after": after_seq},
        lambda rows: [OutputChunk(row["attempt"], row["seq"], row["text"]) for row in rows])


# -- changes (the engine's functions) ----------------------------------------------------------------
def cancel(task_id: int, reason: str | None) -> Query[str]:
    return Query("select swarm.cancel_task(task_id => %(id)s, reason => %(reason)s) as status",
                 {"id": task_id, "reason": reason}, _first("status"))


def retry(task_id: int) -> Query[str]:
    return Query("select swarm.retry_task(task_id => %(id)s) as status", {"id": task_id}, _first("status"))


def cancel_many(task_ids: Sequence[int], reason: str | None) -> Query[list[Changed]]:
    """swarm.cancel_tasks: the given tasks still waiting, pending or running, in id order."""
    return Query("select * from swarm.cancel_tasks(task_ids => %(ids)s::bigint[], reason => %(reason)s)",
                 {"ids": list(task_ids), "reason": reason},
                 lambda rows: [Changed(r["task_id"], r["status"]) for r in rows])


def retry_many(task_ids: Sequence[int]) -> Query[list[Changed]]:
    """swarm.retry_tasks: the given tasks still failed or cancelled, in id order."""
    return Query("select * from swarm.retry_tasks(task_ids => %(ids)s::bigint[])", {"ids": list(task_ids)},
                 lambda rows: [Changed(r["task_id"], r["status"]) for r in rows])


def pause_agent(name: str, until: datetime | None, reason: str | None) -> Query[None]:
    return Query('select swarm.pause_agent(name => %(name)s, "until" => %(until)s, reason => %(reason)s)',
                 {"name": name, "until": until, "reason": reason}, lambda rows: None)


def resume_agent(name: str) -> Query[None]:
    return Query("select swarm.resume_agent(name => %(name)s)", {"name": name}, lambda rows: None)


# -- stats ---------------------------------------------------------------------------------------------
def window_stats(since: timedelta) -> Query[WindowStats]:
    return Query("select * from swarm.stats(since => %(since)s)", {"since": since},
                 lambda rows: from_row(WindowStats, rows[0]))


QUEUE_STATS = Query("select * from swarm.queue_stats order by queue, agent, status", None,
                    lambda rows: tuple(from_row(QueueStat, r) for r in rows))
AGENT_STATS = Query("select * from swarm.agent_stats order by agent", None,
                    lambda rows: tuple(from_row(AgentStat, r) for r in rows))
WORKER_STATS = Query("""
    select * from swarm.worker_stats
     where stopped_at is null or stopped_at > swarm.now() - interval '10 minutes'
     order by worker""", None, lambda rows: tuple(from_row(WorkerStat, r) for r in rows))


def stats(window: WindowStats, queues: tuple[QueueStat, ...], agents: tuple[AgentStat, ...],
          workers: tuple[WorkerStat, ...]) -> Stats:
    return Stats(window, queues, agents, workers)
