"""swarm.enqueue_many and swarm.priority: batches for programs, as any SQL client calls them."""
from __future__ import annotations

import json

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def enqueue_many(conn: psycopg.Connection, tasks: list) -> list[tuple]:
    return conn.execute("select ordinal, id, key, agent, status, created from swarm.enqueue_many(%s::jsonb)",
                        (json.dumps(tasks),)).fetchall()


@pytest.mark.parametrize("name, number", [("critical", 100), ("high", 50), ("medium", 0), ("low", -50),
                                          (" HIGH ", 50), ("7", 7), ("-1000", -1000), ("+3", 3)])
def test_priority_names_and_numbers(conn: psycopg.Connection, name: str, number: int) -> None:
    assert conn.execute("select swarm.priority(%s)", (name,)).fetchone()[0] == number


@pytest.mark.parametrize("name, fragment", [("urgent", "unknown priority 'urgent'"), ("1001", "out of range"),
                                            ("1.5", "unknown priority '1.5'")])
def test_priority_refuses_what_it_does_not_know(conn: psycopg.Connection, name: str, fragment: str) -> None:
    with pytest.raises(psycopg.Error) as raised:
        conn.execute("select swarm.priority(%s)", (name,))
    assert raised.value.sqlstate == "SW005" and fragment in raised.value.diag.message_primary


def test_a_batch_with_dependencies_by_ref_and_key_defaults_and_a_wake_up_per_agent(
        conn: psycopg.Connection, dsn: str, swarm: SwarmClient) -> None:
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen swarm_ready")
        rows = enqueue_many(conn, [
            {"prompt": "research", "agent": "claude", "key": "r", "priority": "high"},
            {"prompt": "fix", "agent": "claude", "ref": "fix", "depends_on": ["r"]},
            {"prompt": "lint", "tags": ["ci"], "args": {"cwd": "/srv/app"}},
            {"prompt": "ship", "depends_on": ["fix", "r"], "delay_seconds": 30, "on_dependency_failure": "run"},
        ])
        assert sorted(n.payload for n in listener.notifies(timeout=1)) == ["claude", "shell"]
    (_, research, *_), (_, fix, *_), (_, lint, *_), (_, ship, *_) = rows
    assert [r[4] for r in rows] == ["pending", "waiting", "pending", "waiting"] and all(r[5] for r in rows)
    assert swarm.task(fix)["depends_on"] == [research]
    assert swarm.task(ship)["depends_on"] == [research, fix]
    lint_row = swarm.task(lint)
    assert (lint_row["agent"], lint_row["queue"], lint_row["max_attempts"], lint_row["tags"], lint_row["args"]) == \
        ("shell", "default", 3, ["ci"], {"cwd": "/srv/app"})
    assert swarm.task(research)["priority"] == 50


def test_a_taken_key_returns_the_existing_task(conn: psycopg.Connection) -> None:
    [(_, first, _, _, _, created)] = enqueue_many(conn, [{"prompt": "once", "key": "k"}])
    assert created
    rows = enqueue_many(conn, [{"prompt": "once", "key": "k"}, {"prompt": "after", "depends_on": ["k"]}])
    assert rows[0][1:] == (first, "k", "shell", "pending", False)
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 2


@pytest.mark.parametrize("tasks, sqlstate, fragment", [
    ({"prompt": "x"}, "SW005", "tasks must be a JSON array"),
    ([{"prompt": "a"}, {"prompt": "b", "priorty": 3}], "SW005", "task 2 of 2: unknown field 'priorty'"),
    ([{"prompt": "a", "max_attempts": 2.5}], "SW005", "max_attempts must be an integer"),
    ([{"prompt": "a", "tags": "x"}], "SW005", "tags must be an array of strings"),
    ([{"prompt": "a", "args": [1]}], "SW005", "args must be a JSON object"),
    ([{"prompt": "a", "ref": "a"}, {"prompt": "b", "ref": "a"}], "SW005", "ref 'a' names two tasks"),
    ([{"prompt": "a"}, {"prompt": "b", "ref": "b", "depends_on": ["missing"]}], "SW004",
     "task 2 of 2 (b): unknown dependency 'missing'"),
    ([{"prompt": "a", "agent": "nope"}], "SW001", "unknown agent 'nope'"),
    (["not an object"], "SW005", "a task must be a JSON object"),
])
def test_a_bad_batch_inserts_nothing_and_names_the_task(conn: psycopg.Connection, tasks: object, sqlstate: str,
                                                        fragment: str) -> None:
    with pytest.raises(psycopg.Error) as raised:
        enqueue_many(conn, tasks)  # type: ignore[arg-type]
    assert raised.value.sqlstate == sqlstate
    assert fragment in raised.value.diag.message_primary
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_enqueue_many_runs_with_the_callers_rights(conn: psycopg.Connection, dsn: str) -> None:
    conn.execute("create role batch_monitor login in role swarm_monitor")
    try:
        with psycopg.connect(dsn.replace("postgres@", "batch_monitor@"), autocommit=True) as monitor:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                enqueue_many(monitor, [{"prompt": "x"}])
    finally:
        conn.execute("drop role batch_monitor")
