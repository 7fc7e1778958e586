"""The client inside an agent: Client(capability=...) enqueues children of its task, reads its
dependencies' results and children, reports progress, with a login holding only swarm_agent."""
from __future__ import annotations

import asyncio
import psycopg
import pytest

from pgswarm import AsyncClient, Client, NotAllowed, TaskCapability, UsageError
from pgswarm.worker.capability import new_agent_key, task_token
from tests.helpers.logins import Logins


@pytest.fixture
def agent_dsn(logins: Logins) -> str:
    return logins.dsn("swarm_agent", "client_agent_login")


@pytest.fixture
def capability(swarm, conn) -> TaskCapability:
    """A running claude task's capability, as its worker hands it over."""
    key = new_agent_key()
    conn.execute("select swarm.register_agent_key('w1', %s)", (key,))
    dep = swarm.make_task("dependency", agent="claude")
    [claimed] = swarm.claim("w1")
    assert swarm.complete(dep, "w1", claimed["attempts"], result={"found": "the bug"}).accepted
    task_id = swarm.make_task("parent", agent="claude", depends_on=[dep])
    [claimed] = swarm.claim("w1")
    return TaskCapability(task_id, task_token(key, task_id, claimed["attempts"], claimed["started_at"]))


def test_the_environment_gives_the_capability_and_never_shows_the_token() -> None:
    found = TaskCapability.from_environment({"PGSWARM_TASK_ID": "7", "PGSWARM_TASK_TOKEN": "ab" * 32})
    assert found == TaskCapability(7, "ab" * 32) and "abab" not in repr(found)
    assert TaskCapability.from_environment({"PGSWARM_TASK_ID": "7"}) is None
    with pytest.raises(UsageError, match="PGSWARM_TASK_ID"):
        TaskCapability.from_environment({"PGSWARM_TASK_TOKEN": "x"})


def test_an_agent_client_enqueues_children_reads_and_reports(swarm, agent_dsn: str,
                                                             capability: TaskCapability) -> None:
    with Client(agent_dsn, capability=capability) as client:
        child = client.enqueue("write the test", agent="codex", key="child-1")
        follow_up = client.enqueue("merge it", agent="claude", depends_on=[child])
        assert [r["result"] for r in client.dependency_results()] == [{"found": "the bug"}]
        assert [(c["id"], c["status"]) for c in client.children()] == [(child, "pending"), (follow_up, "waiting")]
        client.report_progress({"message": "two children queued"})
        with pytest.raises(NotAllowed, match="children of its own task"):
            client.enqueue("elsewhere", agent="codex", parent=capability.task_id + 1000)
    assert swarm.task(follow_up)["parent_id"] == capability.task_id
    assert swarm.task(capability.task_id)["progress"] == {"agent": {"message": "two children queued"}}
    with Client(agent_dsn, capability=TaskCapability(capability.task_id, "f" * 64)) as forged:
        with pytest.raises(NotAllowed, match="not valid"):
            forged.children()


def test_the_async_client_does_the_same(agent_dsn: str, capability: TaskCapability) -> None:
    async def main() -> tuple[int, list, list]:
        async with AsyncClient(agent_dsn, capability=capability) as client:
            child = await client.enqueue("write the test", agent="codex")
            await client.report_progress({"percent": 50})
            return child, await client.dependency_results(), await client.children()

    child, deps, children = asyncio.run(main())
    assert deps[0]["status"] == "completed" and [c["id"] for c in children] == [child]


def test_agent_calls_without_a_capability_say_so(dsn: str) -> None:
    with Client(dsn) as client, pytest.raises(UsageError, match="PGSWARM_TASK_TOKEN"):
        client.children()
