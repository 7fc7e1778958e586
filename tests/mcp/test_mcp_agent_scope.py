"""pgswarm mcp --agent-scope: the server an agent with args.swarm_tools starts, driven by the SDK's
client over stdio: its attempt's capability and the agents' login, four tools, nothing else."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

mcp = pytest.importorskip("mcp", reason="the [mcp] extra is not installed")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

from pgswarm.worker.capability import new_agent_key, task_token  # noqa: E402
from tests.helpers.logins import Logins  # noqa: E402
from tests.helpers.swarm import SwarmClient  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def agent_dsn(logins: Logins) -> str:
    return logins.dsn("swarm_agent", "mcp_agent_login")


def test_the_agent_scoped_server_acts_as_its_task_only(swarm: SwarmClient, conn: psycopg.Connection,
                                                       agent_dsn: str) -> None:
    key = new_agent_key()
    conn.execute("select swarm.register_agent_key('w1', %s)", (key,))
    task_id = swarm.make_task("the running task", agent="claude")
    [claimed] = swarm.claim("w1")
    other = swarm.make_task("someone else's", agent="claude")
    env = {"PGSWARM_DSN": agent_dsn, "PGSWARM_TASK_ID": str(task_id), "PATH": os.environ.get("PATH", ""),
           "PGSWARM_TASK_TOKEN": task_token(key, task_id, claimed["attempts"], claimed["started_at"])}
    params = StdioServerParameters(command=sys.executable, args=["-m", "pgswarm.cli.main", "mcp", "--agent-scope"],
                                   env=env, cwd=str(REPO))
    seen: dict = {}

    async def run() -> None:
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                seen["tools"] = {t.name for t in (await session.list_tools()).tools}
                made = await session.call_tool("enqueue_task", {"prompt": "sub", "agent": "codex"})
                seen["child"] = made.structured_content
                after = await session.call_tool("enqueue_task", {"prompt": "after me", "agent": "claude",
                                                                 "depends_on": [task_id, made.structured_content["id"]]})
                seen["after"] = after.structured_content
                foreign = await session.call_tool("enqueue_task", {"prompt": "x", "agent": "codex",
                                                                   "depends_on": [other]})
                seen["foreign"] = (foreign.is_error, " ".join(getattr(b, "text", "") for b in foreign.content))
                seen["resources"] = (await session.list_resource_templates()).resource_templates
    asyncio.run(asyncio.wait_for(run(), 120))
    assert seen["tools"] == {"enqueue_task", "get_dependency_results", "list_children", "report_progress"}
    assert seen["child"]["parent_id"] == task_id and seen["after"]["status"] == "waiting"
    assert seen["foreign"][0] and f"not task {task_id} or one of its children" in seen["foreign"][1]
    assert seen["resources"] == []
    assert swarm.task(seen["after"]["id"])["parent_id"] == task_id


def test_agent_scope_outside_an_agent_says_so(dsn: str) -> None:
    env = {"PGSWARM_DSN": dsn, "PATH": os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", "mcp", "--agent-scope"], env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "PGSWARM_TASK_TOKEN" in result.stderr
    result = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", "mcp", "--agent-scope"],
                            env={"PGSWARM_TASK_TOKEN": "x", "PGSWARM_TASK_ID": "1", "PATH": os.environ["PATH"],
                                 "PGSWARM_HOME": "/nonexistent"},
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "--agent-dsn" in result.stderr
