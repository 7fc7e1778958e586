"""`Client`: the pgswarm API over one psycopg connection (its own, or the caller's)."""
from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from . import _queries as q
from ._base import (FOLLOW_IN_TRANSACTION, WAIT_IN_TRANSACTION, ClientBase, deadline_after, nap_before,
                    needs_autocommit, seconds)
from ._models import TERMINAL, Changed, Enqueued, OutputChunk, Stats, Task, TaskOutput, TaskSpec
from .connection import mapped_errors, open_connection
from .dsn import resolve_dsn
from ..worker.errors import UnknownTask, WaitTimeout

T = TypeVar("T")


class Client(ClientBase[psycopg.Connection]):
    """Enqueue, read, wait for, cancel and retry tasks over a psycopg connection (see ClientBase:
    Client(), Client(dsn) or Client(conn=connection))."""

    # -- connection ---------------------------------------------------------------------------------
    @property
    def connection(self) -> psycopg.Connection:
        """The connection in use (opened on first use when the client owns it)."""
        if self._conn is None or (self._owned and self._conn.closed):
            self._conn = open_connection(resolve_dsn(self._dsn))
        return self._conn

    def close(self) -> None:
        """Close the client's own connection (a caller's connection is left open)."""
        if self._owned and self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _listening(self, listen: str, unlisten: str, refusal: str) -> Iterator[psycopg.Connection]:
        """The connection, listening on a channel and in autocommit (so it sees other sessions'
        commits) until the block ends; then as it was."""
        conn = self.connection
        switch = needs_autocommit(conn, refusal)
        if switch:
            conn.autocommit = True
        try:
            conn.execute(listen)
            yield conn
        finally:
            if not conn.closed:
                conn.execute(unlisten)
                if switch:
                    conn.autocommit = False

    def _run(self, query: q.Query[T]) -> T:
        with mapped_errors(), self.connection.cursor(row_factory=dict_row) as cur:
            cur.execute(query.text, query.params)  # type: ignore[arg-type]
            rows = cur.fetchall() if cur.description else []
        return query.parse(rows)

    # -- enqueue ------------------------------------------------------------------------------------
    def enqueue(self, prompt: str, *, agent: str | None = None, args: Mapping[str, Any] | None = None,
                depends_on: Sequence[int | str] = (), key: str | None = None, priority: int | str | None = None,
                delay: timedelta | float | None = None, run_after: datetime | None = None, queue: str | None = None,
                parent: int | None = None, tags: Sequence[str] = (), metadata: Mapping[str, Any] | None = None,
                max_attempts: int | None = None, timeout: timedelta | float | None = None,
                concurrency_key: str | None = None, on_dependency_failure: str | None = None) -> int:
        """Enqueue one task and return its id (the existing task's id when `key` is taken).

        Unset arguments take the database's defaults (agent: swarm.settings.default_agent).
        depends_on: task ids, or keys of existing tasks. See TaskSpec for each field.
        """
        spec = TaskSpec(prompt, agent=agent, args=args, depends_on=depends_on, key=key, priority=priority,
                        delay=delay, run_after=run_after, queue=queue, parent=parent, tags=tags, metadata=metadata,
                        max_attempts=max_attempts, timeout=timeout, concurrency_key=concurrency_key,
                        on_dependency_failure=on_dependency_failure)
        return self.enqueue_many([spec])[0].id

    def enqueue_many(self, tasks: Iterable[TaskSpec | Mapping[str, Any]]) -> list[Enqueued]:
        """Enqueue a batch in one round trip, all or nothing; one Enqueued per task, in order.

        A task's depends_on may name the `ref` or `key` of an earlier task of the batch. With a
        capability, every task becomes a child of the capability's task (swarm.agent_enqueue).
        """
        if self.capability is not None:
            return self._run(q.agent_enqueue(self.capability, tasks))
        return self._run(q.enqueue_many(tasks))

    # -- inside an agent (a capability) -------------------------------------------------------------
    def dependency_results(self) -> list[dict[str, Any]]:
        """The results of the capability task's dependencies (id, key, agent, status, result, error)."""
        return self._run(q.agent_dependency_results(self._capability()))

    def children(self) -> list[dict[str, Any]]:
        """The capability task's children so far, oldest first (id, key, agent, status, result, error)."""
        return self._run(q.agent_children(self._capability()))

    def report_progress(self, progress: Mapping[str, Any]) -> None:
        """Set the capability task's progress (a JSON object of at most 16 KiB; the last one wins)."""
        self._run(q.agent_report_progress(self._capability(), progress))

    # -- read ---------------------------------------------------------------------------------------
    def _caps(self) -> Mapping[str, bool]:
        if self._capabilities is None:
            self._capabilities = self._run(q.CAPABILITIES)
        return self._capabilities

    def get(self, task_id: int) -> Task:
        """Every field of a task, why it is not running yet, its attempts; UnknownTask if none."""
        task = self._run(q.get_task(task_id, self._caps()))
        if task is None:
            task = self._run(q.get_task(task_id, self._caps(), archive=True))
        if task is None:
            raise UnknownTask(f"unknown task {task_id}", sqlstate="SW002")
        return task

    def list(self, *, status: str | Sequence[str] | None = None, agent: str | None = None, queue: str | None = None,
             tag: str | None = None, parent: int | None = None, worker: str | None = None,
             priority: int | str | None = None, key: str | None = None, since: timedelta | None = None,
             limit: int = 50) -> list[Task]:
        """Tasks matching every filter given, newest first, at most `limit`."""
        return self._run(q.list_tasks(self._caps(), status=status, agent=agent, queue=queue, tag=tag, parent=parent,
                                      worker=worker, priority=priority, key=key, since=since, limit=limit))

    def output(self, task_id: int) -> TaskOutput:
        """What the task printed, as far as the database holds it: the latest attempt's live output
        (its last MiB), else the tail stored with its report."""
        found = self._run(q.task_output(task_id))
        if found is None:
            raise UnknownTask(f"unknown task {task_id}", sqlstate="SW002")
        return found

    def follow(self, task_id: int, *, poll: float = 1.0) -> Iterator[OutputChunk]:
        """The task's output as it comes, from any machine, until the task is completed, failed
        or cancelled: the latest attempt's chunks from the first one kept (a new attempt starts
        over at its seq 1), woken by LISTEN swarm_output (a hint: the chunks are re-read) or every
        `poll` seconds. An attempt that shipped nothing gives its stored tail at the end.
        UnknownTask for an unknown id. Needs the connection outside a transaction."""
        with self._listening(q.LISTEN_OUTPUT, q.UNLISTEN_OUTPUT, FOLLOW_IN_TRANSACTION) as conn:
            attempt, cursor = -1, 0
            while True:
                state = self._run(q.output_state(task_id))
                if state is None:
                    raise UnknownTask(f"unknown task {task_id}", sqlstate="SW002")
                if state["attempts"] != attempt:
                    attempt, cursor = state["attempts"], 0
                for chunk in self._run(q.output_chunks(task_id, attempt, cursor)):
                    cursor = chunk.seq
                    yield chunk
                if state["status"] in TERMINAL:
                    if cursor == 0 and state["output_tail"]:
                        yield OutputChunk(attempt, 0, state["output_tail"])
                    return
                for _ in conn.notifies(timeout=poll, stop_after=1):
                    pass

    def stats(self, since: timedelta = timedelta(hours=1)) -> Stats:
        """Throughput and latency over `since`, tasks by queue, agents, live workers."""
        return q.stats(self._run(q.window_stats(since)), self._run(q.QUEUE_STATS), self._run(q.AGENT_STATS),
                       self._run(q.WORKER_STATS))

    # -- wait ---------------------------------------------------------------------------------------
    def wait(self, task_id: int, timeout: float | timedelta | None = None) -> Task:
        """Block until the task is completed, failed or cancelled, and return it.

        Woken by LISTEN swarm_finished (the notification only prompts a re-read of the task).
        Raises WaitTimeout (a TimeoutError, carrying the task as last read) after `timeout`
        seconds, UnknownTask for an unknown id. Needs the connection outside a transaction.
        """
        limit = seconds(timeout)
        deadline = deadline_after(limit)
        with self._listening(q.LISTEN_FINISHED, q.UNLISTEN_FINISHED, WAIT_IN_TRANSACTION) as conn:
            status = self._run(q.watch_task(task_id))
            while status not in TERMINAL:
                nap = nap_before(deadline)
                if nap is None:
                    raise WaitTimeout(task_id, limit or 0.0, self.get(task_id))
                for _ in conn.notifies(timeout=nap, stop_after=1):
                    pass
                status = self._run(q.task_status(task_id))
            return self.get(task_id)

    # -- change -------------------------------------------------------------------------------------
    def cancel(self, task_id: int, reason: str | None = None) -> str:
        """Cancel a task; its status after the call ('running' while its worker stops it)."""
        return self._run(q.cancel(task_id, reason))

    def retry(self, task_id: int) -> str:
        """Run a failed or cancelled task again; its new status (pending or waiting)."""
        return self._run(q.retry(task_id))

    def cancel_many(self, task_ids: Sequence[int], reason: str | None = None) -> builtins.list[Changed]:
        """Cancel those of these tasks still waiting, pending or running, in one statement."""
        return self._run(q.cancel_many(task_ids, reason))

    def retry_many(self, task_ids: Sequence[int]) -> builtins.list[Changed]:
        """Retry those of these tasks still failed or cancelled, in one statement."""
        return self._run(q.retry_many(task_ids))

    def pause_agent(self, name: str, until: datetime | None = None, reason: str | None = None) -> None:
        """Pause an agent cluster-wide (until None: until resumed)."""
        self._run(q.pause_agent(name, until, reason))

    def resume_agent(self, name: str) -> None:
        self._run(q.resume_agent(name))
