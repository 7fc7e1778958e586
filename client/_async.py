"""`AsyncClient`: the pgswarm API over one async psycopg connection (its own, or the caller's).

The same statements and results as `Client` (both run the queries of _queries.py); only the
waiting differs."""
from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from . import _queries as q
from ._base import (FOLLOW_IN_TRANSACTION, WAIT_IN_TRANSACTION, ClientBase, deadline_after, nap_before,
                    needs_autocommit, seconds)
from ._models import TERMINAL, Changed, Enqueued, OutputChunk, Stats, Task, TaskOutput, TaskSpec
from .connection import mapped_errors, open_async_connection
from .dsn import resolve_dsn
from ..worker.errors import UnknownTask, WaitTimeout

T = TypeVar("T")


class AsyncClient(ClientBase[psycopg.AsyncConnection]):
    """Enqueue, read, wait for, cancel and retry tasks over an async psycopg connection (see
    ClientBase: AsyncClient(), AsyncClient(dsn) or AsyncClient(conn=async_connection))."""

    # -- connection ---------------------------------------------------------------------------------
    async def connection(self) -> psycopg.AsyncConnection:
        """The connection in use (opened on first use when the client owns it)."""
        if self._conn is None or (self._owned and self._conn.closed):
            # Resolving may start the embedded server: off the event loop.
            dsn = await asyncio.to_thread(resolve_dsn, self._dsn)
            self._conn = await open_async_connection(dsn)
        return self._conn

    async def aclose(self) -> None:
        """Close the client's own connection (a caller's connection is left open)."""
        if self._owned and self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @asynccontextmanager
    async def _listening(self, listen: str, unlisten: str, refusal: str) -> AsyncIterator[psycopg.AsyncConnection]:
        """The connection, listening on a channel and in autocommit (so it sees other sessions'
        commits) until the block ends; then as it was."""
        conn = await self.connection()
        switch = needs_autocommit(conn, refusal)
        if switch:
            await conn.set_autocommit(True)
        try:
            await conn.execute(listen)
            yield conn
        finally:
            if not conn.closed:
                await conn.execute(unlisten)
                if switch:
                    await conn.set_autocommit(False)

    async def _run(self, query: q.Query[T]) -> T:
        conn = await self.connection()
        with mapped_errors():
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(query.text, query.params)  # type: ignore[arg-type]
                rows = await cur.fetchall() if cur.description else []
        return query.parse(rows)

    # -- enqueue ------------------------------------------------------------------------------------
    async def enqueue(self, prompt: str, *, agent: str | None = None, args: Mapping[str, Any] | None = None,
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
        return (await self.enqueue_many([spec]))[0].id

    async def enqueue_many(self, tasks: Iterable[TaskSpec | Mapping[str, Any]]) -> list[Enqueued]:
        """Enqueue a batch in one round trip, all or nothing; one Enqueued per task, in order.

        A task's depends_on may name the `ref` or `key` of an earlier task of the batch. With a
        capability, every task becomes a child of the capability's task (swarm.agent_enqueue).
        """
        if self.capability is not None:
            return await self._run(q.agent_enqueue(self.capability, tasks))
        return await self._run(q.enqueue_many(tasks))

    # -- inside an agent (a capability) -------------------------------------------------------------
    async def dependency_results(self) -> list[dict[str, Any]]:
        """The results of the capability task's dependencies (id, key, agent, status, result, error)."""
        return await self._run(q.agent_dependency_results(self._capability()))

    async def children(self) -> list[dict[str, Any]]:
        """The capability task's children so far, oldest first (id, key, agent, status, result, error)."""
        return await self._run(q.agent_children(self._capability()))

    async def report_progress(self, progress: Mapping[str, Any]) -> None:
        """Set the capability task's progress (a JSON object of at most 16 KiB; the last one wins)."""
        await self._run(q.agent_report_progress(self._capability(), progress))

    # -- read ---------------------------------------------------------------------------------------
    async def _caps(self) -> Mapping[str, bool]:
        if self._capabilities is None:
            self._capabilities = await self._run(q.CAPABILITIES)
        return self._capabilities

    async def get(self, task_id: int) -> Task:
        """Every field of a task, why it is not running yet, its attempts; UnknownTask if none."""
        task = await self._run(q.get_task(task_id, await self._caps()))
        if task is None:
            task = await self._run(q.get_task(task_id, await self._caps(), archive=True))
        if task is None:
            raise UnknownTask(f"unknown task {task_id}", sqlstate="SW002")
        return task

    async def list(self, *, status: str | Sequence[str] | None = None, agent: str | None = None,
                   queue: str | None = None, tag: str | None = None, parent: int | None = None,
                   worker: str | None = None,
             priority: int | str | None = None, key: str | None = None, since: timedelta | None = None,
             limit: int = 50) -> list[Task]:
        """Tasks matching every filter given, newest first, at most `limit`."""
        return await self._run(q.list_tasks(await self._caps(), status=status, agent=agent, queue=queue, tag=tag,
                                            parent=parent, worker=worker, priority=priority, key=key, since=since,
                                            limit=limit))

    async def output(self, task_id: int) -> TaskOutput:
        """What the task printed, as far as the database holds it: the latest attempt's live output
        (its last MiB), else the tail stored with its report."""
        found = await self._run(q.task_output(task_id))
        if found is None:
            raise UnknownTask(f"unknown task {task_id}", sqlstate="SW002")
        return found

    async def follow(self, task_id: int, *, poll: float = 1.0) -> AsyncIterator[OutputChunk]:
        """The task's output as it comes, until it is completed, failed or cancelled (see
        Client.follow). Needs the connection outside a transaction."""
        async with self._listening(q.LISTEN_OUTPUT, q.UNLISTEN_OUTPUT, FOLLOW_IN_TRANSACTION) as conn:
            attempt, cursor = -1, 0
            while True:
                state = await self._run(q.output_state(task_id))
                if state is None:
                    raise UnknownTask(f"unknown task {task_id}", sqlstate="SW002")
                if state["attempts"] != attempt:
                    attempt, cursor = state["attempts"], 0
                for chunk in await self._run(q.output_chunks(task_id, attempt, cursor)):
                    cursor = chunk.seq
                    yield chunk
                if state["status"] in TERMINAL:
                    if cursor == 0 and state["output_tail"]:
                        yield OutputChunk(attempt, 0, state["output_tail"])
                    return
                async for _ in conn.notifies(timeout=poll, stop_after=1):
                    pass

    async def stats(self, since: timedelta = timedelta(hours=1)) -> Stats:
        """Throughput and latency over `since`, tasks by queue, agents, live workers."""
        return q.stats(await self._run(q.window_stats(since)), await self._run(q.QUEUE_STATS),
                       await self._run(q.AGENT_STATS), await self._run(q.WORKER_STATS))

    # -- wait ---------------------------------------------------------------------------------------
    async def wait(self, task_id: int, timeout: float | timedelta | None = None) -> Task:
        """Block until the task is completed, failed or cancelled, and return it.

        Woken by LISTEN swarm_finished (the notification only prompts a re-read of the task).
        Raises WaitTimeout (a TimeoutError, carrying the task as last read) after `timeout`
        seconds, UnknownTask for an unknown id. Needs the connection outside a transaction.
        """
        limit = seconds(timeout)
        deadline = deadline_after(limit)
        async with self._listening(q.LISTEN_FINISHED, q.UNLISTEN_FINISHED, WAIT_IN_TRANSACTION) as conn:
            status = await self._run(q.watch_task(task_id))
            while status not in TERMINAL:
                nap = nap_before(deadline)
                if nap is None:
                    raise WaitTimeout(task_id, limit or 0.0, await self.get(task_id))
                async for _ in conn.notifies(timeout=nap, stop_after=1):
                    pass
                status = await self._run(q.task_status(task_id))
            return await self.get(task_id)

    # -- change -------------------------------------------------------------------------------------
    async def cancel(self, task_id: int, reason: str | None = None) -> str:
        """Cancel a task; its status after the call ('running' while its worker stops it)."""
        return await self._run(q.cancel(task_id, reason))

    async def retry(self, task_id: int) -> str:
        """Run a failed or cancelled task again; its new status (pending or waiting)."""
        return await self._run(q.retry(task_id))

    async def cancel_many(self, task_ids: Sequence[int], reason: str | None = None) -> builtins.list[Changed]:
        """Cancel those of these tasks still waiting, pending or running, in one statement."""
        return await self._run(q.cancel_many(task_ids, reason))

    async def retry_many(self, task_ids: Sequence[int]) -> builtins.list[Changed]:
        """Retry those of these tasks still failed or cancelled, in one statement."""
        return await self._run(q.retry_many(task_ids))

    async def pause_agent(self, name: str, until: datetime | None = None, reason: str | None = None) -> None:
        """Pause an agent cluster-wide (until None: until resumed)."""
        await self._run(q.pause_agent(name, until, reason))

    async def resume_agent(self, name: str) -> None:
        await self._run(q.resume_agent(name))
