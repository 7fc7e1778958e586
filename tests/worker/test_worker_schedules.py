"""Real workers fire cron schedules: on time, woken by the earliest next_fire_at, each slot once."""
from __future__ import annotations

import re
from datetime import timedelta, timezone

import psycopg
import pytest

from tests.helpers.workers import Workers, wait_for, wait_status
from tests.worker.conftest import add


def scheduled(db: psycopg.Connection, name: str) -> list[tuple]:
    return db.execute("""
        select metadata->>'slot', key, status, attempts, created_at, (metadata->>'slot')::timestamptz
          from swarm.agent_tasks where metadata->>'schedule' = %s order by id""", (name,)).fetchall()


def test_a_worker_wakes_for_the_earliest_next_fire_at_not_its_poll(db: psycopg.Connection, workers: Workers) -> None:
    db.execute("insert into swarm.schedules (name, cron, prompt, agent) values ('soon', '@yearly', 'echo soon', 'shell')")
    # The schema owner moves the next slot to 10 s from now; the worker polls only every 120 s.
    slot = db.execute("update swarm.schedules set next_fire_at = date_trunc('second', now()) + interval '10 seconds' "
                      "returning next_fire_at").fetchone()[0]
    workers.start("--poll-interval", "120", name="w1")
    wait_for(lambda: [row for row in scheduled(db, "soon") if row[2] == "completed"], 60, "the slot's task to run",
             diagnostics=workers.logs)
    [(_, key, _, _, created_at, _)] = scheduled(db, "soon")
    assert key == f"schedule:soon:{slot.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
    assert slot <= created_at < slot + timedelta(seconds=3), (slot, created_at, workers.logs())


def test_a_worker_refused_fire_schedules_says_so_and_goes_on_running_tasks(
        db: psycopg.Connection, workers: Workers, worker_login: str) -> None:
    """Firing is a job any worker or pg_cron can do: a refusal is no reason to stop running tasks."""
    db.execute("revoke execute on function swarm.fire_schedules() from swarm_worker")
    worker = workers.start("--dsn", worker_login)
    wait_for(lambda: workers.logged("cannot fire cron schedules"), 30, "the refusal in the log",
             diagnostics=workers.logs)
    assert "permission denied for function fire_schedules" in worker.output()
    task_id = add(db, "echo still working")
    wait_status(workers.dsn, task_id, "completed", workers=workers)
    assert worker.alive()


@pytest.mark.slow
def test_two_workers_fire_a_minutely_schedule_once_per_minute_boundary(db: psycopg.Connection,
                                                                        workers: Workers) -> None:
    """Real time, no test clock, about two minutes: one task per minute boundary, none twice."""
    workers.start(name="w1")
    workers.start(name="w2")
    db.execute("insert into swarm.schedules (name, cron, prompt, agent) values ('tick', '* * * * *', 'echo tick', 'shell')")
    first = db.execute("select next_fire_at from swarm.schedules where name = 'tick'").fetchone()[0]
    second = first + timedelta(minutes=1)
    wait_for(lambda: sum(1 for row in scheduled(db, "tick") if row[2] == "completed") >= 2, 150,
             "two minute boundaries to be fired and run", diagnostics=workers.logs)
    # A few polls of both workers after the second boundary, so a second enqueue of it would show.
    wait_for(lambda: db.execute("select now() > %s + interval '5 seconds'", (second,)).fetchone()[0], 30,
             "5 s past the second boundary")
    now = db.execute("select now()").fetchone()[0]
    rows = scheduled(db, "tick")
    slots = [row[5] for row in rows]
    boundaries = []
    boundary = first
    while boundary <= now - timedelta(seconds=3):  # allow the third, if it came, its moment to be fired
        boundaries.append(boundary)
        boundary += timedelta(minutes=1)
    assert slots[:len(boundaries)] == boundaries and len(slots) in (len(boundaries), len(boundaries) + 1), rows
    assert len(set(row[1] for row in rows)) == len(rows)  # no key twice
    for slot_text, key, status, attempts, created_at, slot in rows:
        assert key == f"schedule:tick:{slot_text}"
        assert slot <= created_at < slot + timedelta(seconds=3), (slot, created_at)  # fired on time
    assert all(row[3] <= 1 for row in rows)  # each ran once
    # Each worker logs what it enqueued: together, one per slot.
    logged = sum(int(n) for w in workers.started for n in re.findall(r"enqueued (\d+) scheduled task", w.output()))
    assert logged == len(rows), workers.logs()
