"""Nonsense the engine used to accept (issue 16, defect 8): each refused with SW005 naming the column,
changing nothing."""
from __future__ import annotations

import psycopg
import pytest


def refused(conn: psycopg.Connection, sql: str, *fragments: str, sqlstate: str = "SW005",
            params: object = None) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    assert info.value.sqlstate == sqlstate, (info.value.sqlstate, str(info.value))
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    return info.value


@pytest.mark.parametrize(("columns", "values", "named"), [
    ("run_after", "'infinity'", "run_after"),
    ("max_attempts", "2147483647", "max_attempts"),
    ("timeout_seconds", "2147483647", "timeout_seconds"),
    ("key", "repeat('k', 10000)", "key is 10000 bytes"),
    ("concurrency_key", "repeat('k', 10000)", "concurrency_key is 10000 bytes"),
])
def test_nonsensical_task_columns_are_refused_by_name(conn, columns: str, values: str, named: str) -> None:
    refused(conn, f"insert into swarm.agent_tasks (prompt, {columns}) values ('x', {values})", named)
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_sane_bounds_still_accepted(swarm) -> None:
    task_id = swarm.make_task("x", max_attempts=1000, timeout_seconds=7 * 86400, key="k" * 1000)
    assert swarm.status(task_id) == "pending"


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_an_empty_prompt_is_refused(conn, prompt: str) -> None:
    refused(conn, "insert into swarm.agent_tasks (prompt) values (%s)", "prompt is empty", params=(prompt,))


def test_claim_lease_is_capped_and_unknown_agents_named(conn, swarm) -> None:
    swarm.make_task("x")
    refused(conn, "select * from swarm.claim_task('w', lease_seconds => 2147483647)", "lease_seconds 2147483647")
    refused(conn, "select * from swarm.claim_task('w', agents => '{shell,nosuch}')", "unknown agent 'nosuch'",
            sqlstate="SW001")
    [claimed] = swarm.claim("w", lease_seconds=86400)
    refused(conn, "select * from swarm.heartbeat('w', %s, 2147483647)", "lease_seconds", params=([claimed["id"]],))


def test_register_worker_refuses_a_concurrency_below_one(conn) -> None:
    refused(conn, "select swarm.register_worker('w', 'h', 1, null, null, -3)", "concurrency -3")
    assert conn.execute("select count(*) from swarm.workers").fetchone()[0] == 0


def test_deleting_a_task_others_wait_for_is_refused(conn, swarm) -> None:
    first = swarm.make_task("x")
    second = swarm.make_task("y", depends_on=[first])
    error = refused(conn, "delete from swarm.agent_tasks where id = %s", f"task {first} cannot be deleted",
                    f"task {second} waits", sqlstate="SW004", params=(first,))
    assert "cancel" in (error.diag.message_hint or "")
    assert swarm.status(first) == "pending" and swarm.status(second) == "waiting"
    swarm.cancel(first)  # the way out: its dependents follow their policy, and then it may go
    assert swarm.status(second) == "cancelled"
    conn.execute("delete from swarm.agent_tasks where id = %s", (first,))
