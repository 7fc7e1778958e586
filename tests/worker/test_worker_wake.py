"""An idle worker is woken on its own channel, one worker per task; a hint that goes astray
still loses no work (the fallback poll asks, and claims)."""
from __future__ import annotations

import time

import psycopg

from tests.helpers.workers import Workers, wait_for, wait_status
from tests.worker.conftest import add


def idle_workers(db: psycopg.Connection) -> set[str]:
    return {name for (name,) in db.execute("select worker from swarm.idle_workers")}


def test_an_idle_worker_is_woken_on_its_own_channel_without_waking_every_worker(workers: Workers, db: psycopg.Connection,
                                                                        dsn: str) -> None:
    """With a 60 s poll only the wake-up can start the task in time; swarm_wake (every worker) stays quiet."""
    workers.start("--poll-interval", "60", concurrency=1)
    wait_for(lambda: idle_workers(db) == {"w1"}, 30, "the worker to wait among the idle workers",
             diagnostics=workers.logs)
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen swarm_wake")
        started = time.monotonic()
        task_id = add(db, "echo woken")
        row = wait_status(dsn, task_id, "completed", timeout=20, workers=workers)
        assert time.monotonic() - started < 10
        assert [n.channel for n in listener.notifies(timeout=0.2)] == []
    assert row["worker"] == "w1"


def test_a_hint_sent_to_a_dead_worker_loses_no_work(workers: Workers, db: psycopg.Connection, dsn: str) -> None:
    """A worker that registered, went idle and died (its heartbeat still fresh) is first in line:
    the insert wakes it alone. The live worker's poll (every second) finds the task and runs it."""
    db.execute("select swarm.register_worker('ghost', 'host', 1, '{shell}', null, 1)")
    db.execute("select swarm.claim_or_wait('ghost', '{shell}')")
    workers.start(concurrency=1)  # --poll-interval 1
    wait_for(lambda: idle_workers(db) == {"ghost", "w1"}, 30, "both workers to wait", diagnostics=workers.logs)
    with psycopg.connect(dsn, autocommit=True) as listener:
        ghost_channel = listener.execute("select swarm.wake_channel('ghost')").fetchone()[0]
        listener.execute(f'listen "{ghost_channel}"')
        listener.execute("listen swarm_wake")
        started = time.monotonic()
        task_id = add(db, "echo still done")
        row = wait_status(dsn, task_id, "completed", timeout=30, workers=workers)
        assert [n.channel for n in listener.notifies(timeout=0.2)] == [ghost_channel]  # the hint went astray
    assert row["worker"] == "w1" and row["attempts"] == 1
    assert time.monotonic() - started < 10  # within a few poll intervals on a loaded machine

