"""AsyncClient: every method, the same statements as Client, over an async psycopg connection."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

import pgswarm.client._base as client_base
from pgswarm import AsyncClient, InvalidDependency, TaskSpec, UnknownAgent, UnknownTask, UsageError, WaitTimeout
from tests.helpers.swarm import SwarmClient
from tests.helpers.workers import Workers


def count(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]


def test_every_method_of_the_async_client(dsn: str, swarm: SwarmClient, conn: psycopg.Connection) -> None:
    async def scenario() -> None:
        async with AsyncClient(dsn) as client:
            first = await client.enqueue("echo a", queue="q1", tags=["x"], priority="high", key="a")
            batch = await client.enqueue_many([
                TaskSpec("echo b", agent="claude", ref="b", depends_on=["a"]),
                {"prompt": "echo c", "depends_on": ["b", first], "metadata": {"step": "c"}}])
            b, c = (t.id for t in batch)
            assert [t.status for t in batch] == ["waiting", "waiting"]
            task = await client.get(c)
            assert task.depends_on == (first, b) and task.metadata == {"step": "c"}
            assert [t.id for t in await client.list()] == [c, b, first]
            assert [t.id for t in await client.list(status=["waiting"], agent="claude")] == [b]
            assert [t.id for t in await client.list(priority="high")] == [first]
            with pytest.raises(UnknownAgent, match="unknown agent 'claud'"):
                await client.enqueue("x", agent="claud")
            with pytest.raises(InvalidDependency):
                await client.enqueue_many([TaskSpec("x", depends_on=["nope"])])
            with pytest.raises(UnknownTask):
                await client.get(999)
            with pytest.raises(WaitTimeout):
                await client.wait(first, timeout=0.3)
            [claimed] = swarm.claim("w1")
            swarm.complete(first, "w1", claimed["attempts"], output_tail="done\n")
            assert (await client.wait(first, timeout=5)).status == "completed"
            assert (await client.output(first)).text == "done\n"
            assert [t.id for t in await client.list(worker="w1")] == [first]
            assert await client.cancel(b) == "cancelled"
            assert (await client.get(c)).status == "cancelled"  # its dependency was cancelled
            assert await client.retry(b) == "pending"
            assert [(x.task_id, x.status) for x in await client.cancel_many([first, b, c])] == [(b, "cancelled")]
            assert [(x.task_id, x.status) for x in await client.retry_many([b, c])] == [(b, "pending")]
            await client.pause_agent("claude", datetime.now(timezone.utc) + timedelta(minutes=5), "maintenance")
            stats = await client.stats(timedelta(minutes=30))
            assert next(a for a in stats.agents if a.agent == "claude").paused
            assert stats.window.completed == 1
            await client.resume_agent("claude")
            assert not next(a for a in (await client.stats()).agents if a.agent == "claude").paused
    asyncio.run(scenario())
    assert count(conn) == 3


def test_async_enqueue_joins_the_callers_transaction(dsn: str, conn: psycopg.Connection) -> None:
    async def scenario() -> None:
        async with await psycopg.AsyncConnection.connect(dsn) as app:
            client = AsyncClient(conn=app)
            await client.enqueue("rolled back")
            await app.rollback()
            task_id = await client.enqueue("committed")
            with pytest.raises(UsageError, match="inside an open transaction"):
                await client.wait(task_id, timeout=1)
            await app.commit()
            with pytest.raises(WaitTimeout):
                await client.wait(task_id, timeout=0.2)
            assert app.autocommit is False
    asyncio.run(scenario())
    assert conn.execute("select prompt from swarm.agent_tasks").fetchall() == [("committed",)]


def test_async_wait_returns_what_a_real_worker_ran(dsn: str, workers: Workers,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_base, "FALLBACK_SECONDS", 60.0)
    workers.start()

    async def scenario() -> None:
        async with AsyncClient(dsn) as client:
            ids = [t.id for t in await client.enqueue_many([TaskSpec(f"sleep 1; echo part {n}") for n in range(3)])]
            # Fan-out and wait: three waits at once, each on a connection of its own.
            waiters = [AsyncClient(dsn) for _ in ids]
            try:
                done = await asyncio.gather(*(w.wait(i, timeout=60) for w, i in zip(waiters, ids)))
            finally:
                for w in waiters:
                    await w.aclose()
            assert [t.status for t in done] == ["completed"] * 3
            assert [t.output_tail.strip() for t in done] == ["part 0", "part 1", "part 2"]
    asyncio.run(scenario())


def test_async_follow_yields_the_chunks_then_ends(dsn: str, swarm: SwarmClient) -> None:
    task = swarm.make_task("echo")
    swarm.claim("w1")
    swarm.conn.execute("select swarm.ship_output('w1', %s::jsonb)",
                       (f'[{{"task_id": {task}, "attempt": 1, "offset": 0, "chunk": "hello\\n"}}]',))

    async def scenario() -> list[str]:
        async with AsyncClient(dsn) as client:
            seen = []
            async for chunk in client.follow(task):
                seen.append(chunk.text)
                swarm.complete(task, "w1", 1)
            return seen

    assert asyncio.run(scenario()) == ["hello\n"]
