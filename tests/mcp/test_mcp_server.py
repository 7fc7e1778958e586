"""pgswarm mcp: the SDK's own client over stdio against a real `pgswarm mcp` process and real
PostgreSQL: every tool, the transcript resource, refusals as MCP errors, a scoped server."""
from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

mcp = pytest.importorskip("mcp", reason="the [mcp] extra is not installed")  # scripts/test.sh installs it
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from tests.helpers.swarm import SwarmClient  # noqa: E402
from tests.helpers.workers import Workers  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def with_server(dsn: str, scenario: Callable[[ClientSession], Awaitable[None]], *args: str) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "pgswarm.cli.main", "mcp", *args],
                                   env={"PGSWARM_DSN": dsn, "PATH": os.environ.get("PATH", "")}, cwd=str(REPO))

    async def run() -> None:
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                await scenario(session)
    asyncio.run(asyncio.wait_for(run(), 120))


async def call(session: ClientSession, tool: str, **arguments: Any) -> Any:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    content = result.structured_content
    return content.get("result", content) if isinstance(content, dict) and set(content) == {"result"} else content


async def refused(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    return " ".join(getattr(block, "text", "") for block in result.content)


def test_every_tool_against_the_queue(dsn: str, swarm: SwarmClient, conn: psycopg.Connection) -> None:
    existing = swarm.make_task("echo earlier", key="nightly")

    async def scenario(session: ClientSession) -> None:
        tools = {t.name for t in (await session.list_tools()).tools}
        assert tools == {"enqueue_task", "get_task", "list_tasks", "wait_for_task", "cancel_task", "queue_stats"}
        first = await call(session, "enqueue_task", prompt="Plan the release", agent="claude", priority="high",
                            key="plan", args={"model": "sonnet"})
        assert first["agent"] == "claude" and first["status"] == "pending" and first["created"]
        second = await call(session, "enqueue_task", prompt="Write the changelog", depends_on=["plan", existing],
                            delay_seconds=30, tags=["release"])
        assert second["status"] == "waiting" and second["agent"] == "shell"
        again = await call(session, "enqueue_task", prompt="Plan the release", key="plan")
        assert again["id"] == first["id"] and again["created"] is False
        task = await call(session, "get_task", task_id=second["id"])
        assert task["depends_on"] == sorted([first["id"], existing]) and task["finished"] is False
        assert task["tags"] == ["release"] and task["status"] == "waiting"
        listed = await call(session, "list_tasks", status=["pending"], agent="claude")
        assert [t["id"] for t in listed] == [first["id"]]
        waited = await call(session, "wait_for_task", task_id=first["id"], timeout_seconds=0.5)
        assert waited["finished"] is False and waited["status"] == "pending"
        stats = await call(session, "queue_stats")
        assert stats["window"]["created"] == 3 and any(q["agent"] == "claude" for q in stats["queues"])
        cancelled = await call(session, "cancel_task", task_id=first["id"], reason="not this week")
        assert cancelled["status"] == "cancelled"
        assert (await call(session, "get_task", task_id=second["id"]))["status"] == "cancelled"
        finished = await call(session, "wait_for_task", task_id=first["id"], timeout_seconds=5)
        assert finished["finished"] is True and finished["cancel_reason"] == "not this week"
    with_server(dsn, scenario)
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 3


REFUSALS = [
    ("enqueue_task", {"prompt": "x", "agent": "claud"}, "unknown agent 'claud'"),
    ("enqueue_task", {"prompt": "x", "priority": "urgent"}, "unknown priority 'urgent'"),
    ("enqueue_task", {"prompt": "x", "depends_on": ["no-such-key"]}, "unknown dependency 'no-such-key'"),
    ("enqueue_task", {"prompt": "x", "max_attempts": 0}, "max_attempts 0 must be at least 1"),
    ("enqueue_task", {"prompt": 42}, "prompt"),
    ("get_task", {"task_id": 424242}, "unknown task 424242"),
    ("cancel_task", {"task_id": 424242}, "unknown task 424242"),
    ("wait_for_task", {"task_id": 1, "timeout_seconds": 99999}, "between 0 and 3600"),
    ("list_tasks", {"limit": 0}, "between 1 and 500"),
]


def test_bad_arguments_are_mcp_errors_with_the_engines_message(dsn: str, conn: psycopg.Connection) -> None:
    async def scenario(session: ClientSession) -> None:
        for tool, arguments, fragment in REFUSALS:
            message = await refused(session, tool, **arguments)
            assert fragment in message, (tool, arguments, message)
        # The server is still there after the refusals.
        assert (await call(session, "list_tasks")) == []
    with_server(dsn, scenario)
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_wait_for_task_returns_what_a_real_worker_ran_and_the_transcript_holds_its_output(
        dsn: str, workers: Workers) -> None:
    workers.start()

    async def scenario(session: ClientSession) -> None:
        task = await call(session, "enqueue_task", prompt="sleep 1; echo deployed to staging", agent="shell")
        done = await call(session, "wait_for_task", task_id=task["id"], timeout_seconds=60)
        assert done["finished"] is True and done["status"] == "completed" and done["exit_code"] == 0
        assert "deployed to staging" in done["output_tail"]
        transcript = await session.read_resource(f"pgswarm://tasks/{task['id']}/transcript")
        assert "deployed to staging" in transcript.contents[0].text
        with pytest.raises(Exception, match="unknown task 424242"):
            await session.read_resource("pgswarm://tasks/424242/transcript")
    with_server(dsn, scenario)


def test_a_scoped_server_offers_its_tools_and_forces_the_parent(dsn: str, swarm: SwarmClient) -> None:
    parent = swarm.make_task("the running task")
    other = swarm.make_task("someone else's task")

    async def scenario(session: ClientSession) -> None:
        tools = {t.name for t in (await session.list_tools()).tools}
        assert tools == {"enqueue_task", "get_task"}
        child = await call(session, "enqueue_task", prompt="a subtask")
        also = await call(session, "enqueue_task", prompt="another", parent_id=parent)
        assert child["parent_id"] == parent and also["parent_id"] == parent
        assert f"children of task {parent}" in await refused(session, "enqueue_task", prompt="x", parent_id=other)
        assert "cancel_task" in await refused(session, "cancel_task", task_id=other)
    with_server(dsn, scenario, "--tools", "enqueue_task,get_task", "--parent", str(parent))
    assert swarm.scalar("select array_agg(parent_id order by id) from swarm.agent_tasks where id > %s",
                        (other,)) == [parent, parent]
