"""Wake-ups: one swarm_ready per statement and agent, never per row; none for future work."""
from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


@pytest.fixture
def listener(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("listen swarm_ready")
        yield conn


def drain(listener: psycopg.Connection) -> list[str]:
    return [n.payload for n in listener.notifies(timeout=0.5)]


def test_one_wake_up_for_a_1000_row_insert(conn, listener) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 1000)")
    assert drain(listener) == ["shell"]


def test_one_wake_up_per_agent_in_a_mixed_insert(conn, listener) -> None:
    conn.execute("insert into swarm.agent_tasks (agent, prompt) "
                 "select case when g % 2 = 0 then 'claude' else 'codex' end, 'x' from generate_series(1, 100) as g")
    assert sorted(drain(listener)) == ["claude", "codex"]


def test_no_wake_up_for_future_run_after_or_waiting_tasks(conn, swarm: SwarmClient, listener) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt, run_after) values ('x', now() + interval '1 hour')")
    assert drain(listener) == []


def test_one_wake_up_for_an_unblock(swarm: SwarmClient, dsn: str) -> None:
    a = swarm.make_task("a")
    swarm.conn.execute("insert into swarm.agent_tasks (agent, prompt, depends_on) "
                       "select 'claude', 'x', array[%s::bigint] from generate_series(1, 50)", (a,))
    [t] = swarm.claim("w1")
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen swarm_ready")
        swarm.complete(a, "w1", 1)
        assert drain(listener) == ["claude"]


def test_wake_up_on_resume_and_immediate_retry(swarm: SwarmClient, listener) -> None:
    swarm.pause("codex")
    swarm.resume("codex")
    assert drain(listener) == ["codex"]
    task_id = swarm.make_task("x")
    drain(listener)
    swarm.claim("w1")
    swarm.fail(task_id, "w1", 1, retry_in_seconds=0)
    assert drain(listener) == ["shell"]


def test_enqueue_in_an_open_transaction_wakes_only_at_commit(dsn: str, listener) -> None:
    with psycopg.connect(dsn) as producer:
        producer.execute("insert into swarm.agent_tasks (prompt) values ('x')")
        assert drain(listener) == []
        producer.commit()
    assert drain(listener) == ["shell"]
