"""MCP over streamable HTTP at /mcp of a real `pgswarm web` process, with the SDK's own client."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import psycopg
import pytest

mcp = pytest.importorskip("mcp", reason="the [mcp] extra is not installed")  # scripts/test.sh installs it
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client  # noqa: E402

from tests.web.conftest import WebServer  # noqa: E402


def with_session(web: WebServer, scope: str, scenario: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        client = create_mcp_http_client(headers={"Authorization": f"Bearer {web.tokens[scope]}"})
        async with client, streamable_http_client(f"{web.url}/mcp", http_client=client) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                return await scenario(session)
    return asyncio.run(asyncio.wait_for(run(), 60))


async def tool_names(session: ClientSession) -> set[str]:
    return {tool.name for tool in (await session.list_tools()).tools}


def test_an_enqueue_token_enqueues_and_reads_through_mcp_over_http(web: WebServer, db: psycopg.Connection) -> None:
    async def scenario(session: ClientSession) -> tuple[set[str], Any, Any]:
        names = await tool_names(session)
        made = await session.call_tool("enqueue_task", {"prompt": "echo over http", "agent": "shell"})
        assert not made.is_error, made.content
        listed = await session.call_tool("list_tasks", {})
        return names, made.structured_content, listed.structured_content

    names, made, listed = with_session(web, "enqueue", scenario)
    assert {"enqueue_task", "cancel_task", "get_task", "wait_for_task"} <= names
    task_id = made.get("result", made)["id"]
    assert db.execute("select prompt from swarm.agent_tasks where id = %s", (task_id,)).fetchone()[0] == "echo over http"
    assert task_id in [t["id"] for t in listed.get("result", listed)]


def test_a_read_token_gets_only_the_read_tools_and_changes_nothing(web: WebServer, db: psycopg.Connection) -> None:
    async def scenario(session: ClientSession) -> tuple[set[str], bool]:
        refused = await session.call_tool("enqueue_task", {"prompt": "echo no"})
        return await tool_names(session), refused.is_error

    names, refused = with_session(web, "read", scenario)
    assert names == {"get_task", "list_tasks", "wait_for_task", "queue_stats"} and refused
    assert db.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_mcp_over_http_needs_a_bearer_token(web: WebServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(f"{web.url}/mcp", json=body, headers=headers).status_code == 401
    bad = httpx.post(f"{web.url}/mcp", json=body, headers={**headers, "Authorization": "Bearer pgsw_nope"})
    assert bad.status_code == 401 and "unknown" in bad.json()["error"]
