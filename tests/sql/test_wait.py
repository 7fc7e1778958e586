"""swarm.watch_task and NOTIFY swarm_finished: a watched task says when it finishes; no other does."""
from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


@pytest.fixture
def listener(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("listen swarm_finished")
        conn.execute("listen swarm_ready")
        yield conn


def heard(listener: psycopg.Connection) -> list[tuple[str, str]]:
    return [(n.channel, n.payload) for n in listener.notifies(timeout=0.5)]


def test_only_a_watched_task_notifies_when_it_finishes(swarm: SwarmClient, listener: psycopg.Connection) -> None:
    watched, other = swarm.make_task("echo a"), swarm.make_task("echo b")
    heard(listener)
    assert swarm.scalar("select swarm.watch_task(%s)", (watched,)) == "pending"
    assert heard(listener) == [("swarm_ready", "shell")]  # a claim that skipped the locked row is woken again
    assert swarm.scalar("select swarm.watch_task(%s)", (watched,)) == "pending"  # already watched: no write
    assert heard(listener) == []
    for claimed in swarm.claim("w1", max_tasks=2):
        swarm.complete(claimed["id"], "w1", claimed["attempts"])
    assert heard(listener) == [("swarm_finished", str(watched))]
    assert swarm.scalar("select swarm.watch_task(%s)", (other,)) == "completed"


def test_a_retry_is_not_a_finish_and_a_cancel_is(swarm: SwarmClient, listener: psycopg.Connection) -> None:
    task_id = swarm.make_task("echo a", max_attempts=2)
    [claimed] = swarm.claim("w1")
    assert swarm.scalar("select swarm.watch_task(%s)", (task_id,)) == "running"
    assert swarm.fail(task_id, "w1", claimed["attempts"], retry_in_seconds=0).status == "pending"
    assert "swarm_finished" not in [c for c, _ in heard(listener)]
    assert swarm.cancel(task_id) == "cancelled"
    assert heard(listener) == [("swarm_finished", str(task_id))]


def test_watching_an_unknown_task_is_refused(conn: psycopg.Connection) -> None:
    with pytest.raises(psycopg.Error) as raised:
        conn.execute("select swarm.watch_task(424242)")
    assert raised.value.sqlstate == "SW002"
