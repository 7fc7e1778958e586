"""Targeted wake-ups: an insert wakes as many idle workers as it made tasks, each on its own
channel, in turn; swarm_wake (every worker) goes out only when the idle workers cannot take
every task. swarm_ready, for other listeners, goes out as before (tests/sql/test_notify.py)."""
from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


@pytest.fixture
def listener(dsn: str) -> Iterator[psycopg.Connection]:
    """One session listening on swarm_wake and on the wake channels of w1..w4."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("listen swarm_wake")
        for name in ("w1", "w2", "w3", "w4"):
            channel = conn.execute("select swarm.wake_channel(%s)", (name,)).fetchone()[0]
            conn.execute(f'listen "{channel}"')
        yield conn


def heard(conn: psycopg.Connection) -> list[str]:
    """The workers woken (by name) and 'swarm_wake' for a broadcast, in order of arrival."""
    names = {conn.execute("select swarm.wake_channel(%s)", (n,)).fetchone()[0]: n for n in ("w1", "w2", "w3", "w4")}
    return [names.get(n.channel, n.channel) for n in conn.notifies(timeout=0.5)]


def idle(swarm: SwarmClient, worker: str, agents: list[str] | None = None, slots: int = 1) -> list[dict]:
    """Register a worker and make it claim (finding nothing), as a starting worker does."""
    swarm.conn.execute("select swarm.register_worker(%s, 'host', 1, %s, null, %s)",
                       (worker, agents or ["shell"], slots))
    return swarm.conn.execute("select id from swarm.claim_or_wait(%s, %s, max_tasks => %s)",
                              (worker, agents or ["shell"], slots)).fetchall()


def test_one_insert_wakes_one_idle_worker_and_nobody_else(swarm: SwarmClient, listener) -> None:
    for name in ("w1", "w2", "w3"):
        idle(swarm, name)
    heard(listener)
    swarm.make_task("x")
    assert heard(listener) == ["w1"]


def test_swarm_ready_still_goes_out_once_per_statement_and_agent(swarm: SwarmClient, dsn: str) -> None:
    idle(swarm, "w1")
    with psycopg.connect(dsn, autocommit=True) as others:
        others.execute("listen swarm_ready")
        swarm.conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 3)")
        assert [n.payload for n in others.notifies(timeout=0.5)] == ["shell"]


def test_single_inserts_wake_the_idle_workers_in_turn(swarm: SwarmClient, listener) -> None:
    for name in ("w1", "w2", "w3"):
        idle(swarm, name)
    heard(listener)
    woken = []
    for _ in range(4):
        swarm.make_task("x")
        woken += heard(listener)
    assert woken == ["w1", "w2", "w3", "w1"]


def test_a_woken_worker_that_claims_nothing_goes_to_the_back(swarm: SwarmClient, listener) -> None:
    for name in ("w1", "w2", "w3"):
        idle(swarm, name)
    heard(listener)
    task = swarm.make_task("x")
    assert heard(listener) == ["w1"]
    swarm.conn.execute("select swarm.claim_or_wait('w2', '{shell}')")  # w2 takes it first
    swarm.conn.execute("select swarm.claim_or_wait('w1', '{shell}')")  # w1 finds nothing: back of the line
    assert swarm.status(task) == "running"
    swarm.make_task("y")
    swarm.make_task("z")
    assert heard(listener) == ["w3", "w1"]


def test_more_tasks_than_idle_slots_wake_every_idle_worker_and_broadcast(swarm: SwarmClient, listener) -> None:
    idle(swarm, "w1")
    idle(swarm, "w2", slots=2)
    heard(listener)
    swarm.conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 5)")
    assert sorted(heard(listener)) == ["swarm_wake", "w1", "w2"]


def test_slots_count_a_worker_with_free_slots_takes_several_tasks(swarm: SwarmClient, listener) -> None:
    idle(swarm, "w1", slots=4)
    idle(swarm, "w2", slots=4)
    heard(listener)
    swarm.conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 3)")
    assert heard(listener) == ["w1"]


def test_only_workers_of_the_agent_and_queue_are_woken(swarm: SwarmClient, listener) -> None:
    idle(swarm, "w1", agents=["claude"])
    swarm.conn.execute("select swarm.register_worker('w2', 'host', 1, '{shell}', '{nightly}', 1)")
    swarm.conn.execute("select swarm.claim_or_wait('w2', '{shell}', '{nightly}')")
    idle(swarm, "w3")
    heard(listener)
    swarm.make_task("x")
    assert heard(listener) == ["w3"]
    swarm.make_task("x", queue="nightly")
    assert heard(listener) == ["w2"]


def test_busy_stopped_and_silent_workers_are_not_woken(swarm: SwarmClient, listener) -> None:
    first = swarm.make_task("x")
    idle(swarm, "w1")  # claims the task: busy, not idle
    assert swarm.status(first) == "running"
    idle(swarm, "w2")
    swarm.conn.execute("select swarm.stop_worker('w2')")
    idle(swarm, "w3")
    swarm.conn.execute("update swarm.workers set heartbeat_at = now() - interval '3 minutes' where name = 'w3'")
    heard(listener)
    swarm.make_task("x")
    assert heard(listener) == ["swarm_wake"]  # no live idle worker: every worker hears it


def test_an_open_enqueue_transaction_does_not_hold_up_a_claim(swarm: SwarmClient, dsn: str) -> None:
    idle(swarm, "w1")
    with psycopg.connect(dsn) as producer:
        producer.execute("insert into swarm.agent_tasks (prompt) values ('x')")  # picks w1, uncommitted
        with psycopg.connect(dsn, autocommit=True) as worker:
            worker.execute("set statement_timeout = '2s'")
            assert worker.execute("select count(*) from swarm.claim_or_wait('w1', '{shell}')").fetchone()[0] == 0
        producer.rollback()


def test_idle_check(swarm: SwarmClient) -> None:
    check = "select swarm.idle_check(%s, null)"
    for _ in range(2):  # the second claim looks below the floor (the first raises it from 0): not due
        swarm.conn.execute("select swarm.claim_task('w0')")
    assert swarm.scalar(check, (["shell"],)) is None
    later = swarm.scalar("insert into swarm.agent_tasks (prompt, run_after) values ('x', now() + interval '1 hour') "
                         "returning id")
    assert 3500 < swarm.scalar(check, (["shell"],)) <= 3600
    swarm.make_task("y")
    # Claimable for less than a second: its hint went to a worker; a poll asks again after it.
    assert 0 < swarm.scalar(check, (["shell"],)) <= 1.0
    swarm.set_now(str(swarm.scalar("select now() + interval '1.5 seconds'")))
    assert swarm.scalar(check, (["shell"],)) == 0  # a hint should have been taken by now: poll claims
    assert swarm.scalar(check, (["claude"],)) is None
    assert swarm.status(later) == "pending"


def test_idle_check_claims_nothing(swarm: SwarmClient) -> None:
    task = swarm.make_task("y")
    swarm.set_now(str(swarm.scalar("select now() + interval '2 seconds'")))
    assert swarm.scalar("select swarm.idle_check(null, null)") == 0
    assert swarm.status(task) == "pending" and swarm.events(task) == ["created"]


def test_idle_check_finds_a_task_below_a_wrong_floor_and_puts_the_floor_right(swarm: SwarmClient) -> None:
    task = swarm.make_task("y")
    swarm.conn.execute("select setval('swarm.claim_floor', 9223372036854775806)")  # a wrong floor, above it
    swarm.conn.execute("select setval('swarm.claim_floor_checked_at', 0)")  # the look below it is due
    swarm.set_now(str(swarm.scalar("select now() + interval '2 seconds'")))
    assert swarm.scalar("select swarm.idle_check(null, null)") == 0
    assert [t["id"] for t in swarm.claim("w1")] == [task]
