"""Roles: each can do its job and nothing else."""
from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.helpers.logins import Logins


@pytest.fixture
def as_role(logins: Logins) -> Callable[[str], psycopg.Connection]:
    """as_role(role) -> an autocommit connection of a new login granted only that role."""
    return logins.connect


def refused(c: psycopg.Connection, sql: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        c.execute(sql)


def test_enqueue_role_inserts_cancels_and_reads_only(conn, as_role) -> None:
    with as_role("swarm_enqueue") as c:
        a = c.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
        b = c.execute("insert into swarm.agent_tasks (prompt, depends_on) values ('y', %s) returning id",
                      ([a],)).fetchone()[0]
        assert c.execute("select swarm.enqueue('z', agent => 'claude')").fetchone()[0] > b
        assert c.execute("select swarm.cancel_task(%s)", (b,)).fetchone()[0] == "cancelled"
        assert c.execute("select count(*) from swarm.task_events").fetchone()[0] >= 3
        refused(c, "select * from swarm.claim_task('w')")
        refused(c, f"update swarm.agent_tasks set priority = 5 where id = {a}")
        refused(c, f"delete from swarm.agent_tasks where id = {a}")
        refused(c, "select swarm.pause_agent('claude')")
        refused(c, "insert into swarm.agent_tasks (prompt, status) values ('x', 'completed')")


def test_worker_role_runs_the_worker_functions_only(conn, as_role) -> None:
    task_id = conn.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
    with as_role("swarm_worker") as c:
        c.execute("select swarm.register_worker('w', 'h', 1, null, null, 1)")
        [claimed] = c.execute("select id, attempts, lease_token from swarm.claim_task('w')").fetchall()
        assert claimed[:2] == (task_id, 1)
        assert c.execute("select owned from swarm.heartbeat('w', %s, 60, %s::uuid[])",
                         ([task_id], [claimed[2]])).fetchone()[0]
        assert c.execute("select accepted from swarm.complete_task(%s, 'w', 1, lease_token => %s)",
                         (task_id, claimed[2])).fetchone()[0]
        c.execute("select swarm.reap_expired()")
        c.execute("select swarm.pause_agent('claude', now() + interval '1 minute', 'usage limit')")
        c.execute("insert into swarm.agent_tasks (prompt, parent_id) values ('follow-up', %s)", (task_id,))
        refused(c, f"select swarm.cancel_task({task_id})")
        refused(c, "update swarm.agents set max_concurrent = 1")
        refused(c, "delete from swarm.task_events")


@pytest.mark.parametrize("role", ["swarm_enqueue", "swarm_worker", "swarm_monitor"])
def test_no_role_opens_an_attempt_past_the_claims_rules(conn, as_role, role: str) -> None:
    """swarm._open_attempts runs a chosen task under a lease with no check of its own (claim_task
    chose and locked it): a login calling it directly would take any task, paused, capped or
    another queue's. Only the claim, running as the owner, may call it."""
    task_id = conn.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
    with as_role(role) as c:
        refused(c, f"select * from swarm._open_attempts('w', array[{task_id}]::bigint[], null, 60, now(), null, null)")
    assert conn.execute("select status, attempts from swarm.agent_tasks where id = %s", (task_id,)).fetchone() \
        == ("pending", 0)


def test_monitor_role_reads_and_changes_nothing(conn, as_role) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) values ('x')")
    with as_role("swarm_monitor") as c:
        assert c.execute("select sum(tasks) from swarm.queue_stats").fetchone()[0] == 1
        c.execute("select * from swarm.agent_stats")
        c.execute("select * from swarm.worker_stats")
        c.execute("select * from swarm.stats()")
        assert c.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 1  # pgswarm ls, show, top
        refused(c, "update swarm.agent_tasks set priority = 5")
        refused(c, "insert into swarm.agent_tasks (prompt) values ('x')")
        refused(c, "select * from swarm.claim_task('w')")


def test_web_tokens_are_made_by_the_owner_and_checked_by_any_role(conn, as_role) -> None:
    token = conn.execute("select swarm.create_web_token('dash', 'read')").fetchone()[0]
    task_id = conn.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
    for role in ("swarm_monitor", "swarm_enqueue"):
        with as_role(role) as c:
            assert c.execute("select scope from swarm.web_token_scope(%s)", (token,)).fetchone()[0] == "read"
            refused(c, "select swarm.create_web_token('mine', 'admin')")
            refused(c, "select swarm.revoke_web_token('dash')")
            refused(c, "select * from swarm.web_tokens")
            refused(c, f"select swarm.set_priority({task_id}, 5)")
