"""swarm.set_priority and the web tokens (swarm.create_web_token, revoke_web_token, web_token_scope)."""
from __future__ import annotations

import hashlib

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def sqlstate_of(conn: psycopg.Connection, sql: str, params: object = None) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(sql, params)
    return caught.value


def test_raising_the_priority_of_a_pending_task_makes_it_the_next_claim(swarm: SwarmClient) -> None:
    first = swarm.make_task("first")
    later = swarm.make_task("later")
    swarm.claim("w0")  # the floor moves above `first`'s rank as claims walk on
    assert swarm.scalar("select swarm.set_priority(%s, 100)", (later,)) == "pending"
    other = swarm.make_task("other")
    claimed = swarm.claim("w1")
    assert [t["id"] for t in claimed] == [later], (first, other)
    assert swarm.task(later)["priority"] == 100


def test_set_priority_refuses_bad_input_and_changes_nothing(swarm: SwarmClient, conn: psycopg.Connection) -> None:
    task = swarm.make_task()
    assert sqlstate_of(conn, "select swarm.set_priority(424242, 1)").sqlstate == "SW002"
    out_of_range = sqlstate_of(conn, "select swarm.set_priority(%s, 1001)", (task,))
    assert out_of_range.sqlstate == "SW005" and "priority 1001 is out of range" in str(out_of_range)
    assert sqlstate_of(conn, "select swarm.set_priority(%s, null)", (task,)).sqlstate == "SW005"
    swarm.cancel(task)
    finished = sqlstate_of(conn, "select swarm.set_priority(%s, 5)", (task,))
    assert finished.sqlstate == "SW003" and "already cancelled" in str(finished)
    assert finished.diag.message_hint == f"retry it first: select swarm.retry_task({task})"
    assert swarm.task(task)["priority"] == 0


def test_a_token_is_stored_only_as_its_hash_and_grants_its_scope(conn: psycopg.Connection) -> None:
    token = conn.execute("select swarm.create_web_token('grafana', 'read')").fetchone()[0]
    assert token.startswith("pgsw_") and len(token) == 69
    stored = conn.execute("select token_sha256 from swarm.web_tokens where name = 'grafana'").fetchone()[0]
    assert bytes(stored) == hashlib.sha256(token.encode()).digest()
    assert conn.execute("select * from swarm.web_token_scope(%s)", (token,)).fetchall() == [("grafana", "read")]
    assert conn.execute("select * from swarm.web_token_scope('pgsw_guess')").fetchall() == []
    used = conn.execute("select last_used_at from swarm.web_tokens").fetchone()[0]
    conn.execute("select * from swarm.web_token_scope(%s)", (token,))
    assert conn.execute("select last_used_at from swarm.web_tokens").fetchone()[0] == used, "one write a minute"
    conn.execute("select swarm.revoke_web_token('grafana')")
    assert conn.execute("select * from swarm.web_token_scope(%s)", (token,)).fetchall() == []
    second = conn.execute("select swarm.create_web_token('other', 'admin')").fetchone()[0]
    assert second != token


@pytest.mark.parametrize(("call", "fragment"), [
    ("select swarm.create_web_token('x', 'root')", "unknown token scope 'root'"),
    ("select swarm.create_web_token('has space', 'read')", "is not a simple name"),
    ("select swarm.create_web_token(null, 'read')", "is not a simple name"),
    ("select swarm.create_web_token('old', 'read', now() - interval '1 day')", "is not in the future"),
    ("select swarm.revoke_web_token('nobody')", "no web token named 'nobody'"),
])
def test_bad_token_requests_are_refused_by_name(conn: psycopg.Connection, call: str, fragment: str) -> None:
    error = sqlstate_of(conn, call)
    assert error.sqlstate == "SW005" and fragment in str(error)
    assert conn.execute("select count(*) from swarm.web_tokens").fetchone()[0] == 0


def test_a_token_name_is_used_once(conn: psycopg.Connection) -> None:
    conn.execute("select swarm.create_web_token('ci', 'read')")
    assert "exists already" in str(sqlstate_of(conn, "select swarm.create_web_token('ci', 'admin')"))
