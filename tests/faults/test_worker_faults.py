"""Workers die, freeze and lose their connections; every committed task still completes exactly once.

Each test runs real `pgswarm worker --allow-shell` processes on shell tasks (`true`, or
`sleep 0.05` where attempts must be in flight when the fault strikes) against a server of its own (tests/faults/conftest.py), injects one kind of fault while they
work, and ends with assert_each_completed_once: all tasks completed, one outcome event each,
no attempt handed out twice, nothing left running or pending.
"""
from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.faults.checks import (all_finished, assert_each_completed_once, connect, enqueue_shell, event_count,
                                 status_counts)
from tests.faults.conftest import LEASE_SECONDS, FaultWorkers
from tests.helpers.workers import wait_for

pytestmark = pytest.mark.slow


def _diagnostics(dsn: str, workers: FaultWorkers) -> Callable[[], str]:
    return lambda: f"status counts: {status_counts(dsn)}\n{workers.logs()}"


def test_kill_9_of_random_workers_during_10000_tasks_loses_none(fault_dsn: str, workers: FaultWorkers) -> None:
    ids = enqueue_shell(fault_dsn, 10_000)
    fleet = {f"w{i}": workers.start(name=f"w{i}", concurrency=8) for i in range(4)}
    rng = random.Random(5)
    kills = 0
    deadline = time.monotonic() + 150
    # Kill a random worker every 0.5-1.5 s and start a new one in its place (as systemd would),
    # until the run is nearly done; the last tasks are then finished by the survivors.
    while time.monotonic() < deadline:
        counts = status_counts(fault_dsn)
        if counts.get("completed", 0) >= 9_000:
            break
        time.sleep(rng.uniform(0.5, 1.5))
        victim_name = rng.choice(sorted(fleet))
        workers.kill9(fleet[victim_name])
        kills += 1
        fleet[victim_name] = workers.start(name=f"{victim_name}-{kills}", concurrency=8)
    assert kills >= 6, f"the run finished after {kills} kills, before the workers could be killed repeatedly"
    print(f"{kills} kills -9 before 9,000 completions")
    wait_for(lambda: all_finished(fault_dsn, len(ids)), 120, "all 10,000 tasks to finish",
             interval=0.5, diagnostics=_diagnostics(fault_dsn, workers))
    assert_each_completed_once(fault_dsn, ids)
    assert event_count(fault_dsn, "lease_expired") > 0, \
        "killed workers held running tasks, which should have come back through lease expiry"


# Tasks that take a moment (`sleep 0.05`), so that attempts are in flight whenever a fault strikes
# and their reports have to be held across it.
BRIEF_TASK = "sleep 0.05"


def _worker_backends(admin: psycopg.Connection, role: str | None = None) -> list[int]:
    """Backend pids of the pgswarm workers (they set application_name 'pgswarm-worker NAME')."""
    return [pid for (pid,) in admin.execute(
        "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() "
        "and application_name like 'pgswarm-worker %%' and (%s::text is null or usename = %s)",
        (role, role)).fetchall()]


def test_pg_terminate_backend_of_worker_connections_loses_none(fault_dsn: str, workers: FaultWorkers) -> None:
    ids = enqueue_shell(fault_dsn, 2_000, command=BRIEF_TASK)
    for i in range(2):
        workers.start(name=f"w{i}", concurrency=8)
    terminated = rounds = 0
    with connect(fault_dsn) as admin:
        wait_for(lambda: len(_worker_backends(admin)) == 2, 30, "both workers to connect",
                 diagnostics=_diagnostics(fault_dsn, workers))
        deadline = time.monotonic() + 90
        while not all_finished(fault_dsn, len(ids)) and time.monotonic() < deadline:
            # the workers' sessions (claims, reports, heartbeats and LISTEN all share one)
            terminated += admin.execute("select count(*) filter (where pg_terminate_backend(pid)) "
                                        "from unnest(%s::int[]) as pid", (_worker_backends(admin),)).fetchone()[0]
            rounds += 1
            time.sleep(0.5)
    assert rounds >= 8 and terminated >= 10, f"only {terminated} terminations in {rounds} rounds: the run was too short"
    wait_for(lambda: all_finished(fault_dsn, len(ids)), 90, "all tasks to finish after the terminations",
             interval=0.5, diagnostics=_diagnostics(fault_dsn, workers))
    assert_each_completed_once(fault_dsn, ids)
    assert all(w.alive() for w in workers.started), "a worker exited instead of reconnecting"


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgresql_restart_mid_run_loses_none(fault_server, fault_dsn: str, workers: FaultWorkers, mode: str) -> None:
    ids = enqueue_shell(fault_dsn, 2_000, command=BRIEF_TASK)
    for i in range(2):
        workers.start(name=f"w{i}", concurrency=8)
    wait_for(lambda: status_counts(fault_dsn).get("completed", 0) >= 200, 60, "the first completions",
             diagnostics=_diagnostics(fault_dsn, workers))
    counts = status_counts(fault_dsn)
    assert counts.get("running", 0) > 0 and counts.get("pending", 0) > 0, f"not mid-run: {counts}"
    fault_server.stop(mode)  # 'immediate' is a crash: recovery from WAL on start
    time.sleep(2.0)  # down for a while: workers see refused connections, not just a reset
    fault_server.start()
    wait_for(lambda: all_finished(fault_dsn, len(ids)), 120, f"all tasks to finish after a {mode} restart",
             interval=0.5, diagnostics=_diagnostics(fault_dsn, workers))
    assert_each_completed_once(fault_dsn, ids)
    assert all(w.alive() for w in workers.started), "a worker exited instead of reconnecting"
    assert workers.logged("holding the report"), "no attempt was in flight when the server went away"


def test_a_held_repeatable_read_snapshot_does_not_stop_the_queue(fault_dsn: str, workers: FaultWorkers) -> None:
    first = enqueue_shell(fault_dsn, 500)
    with connect(fault_dsn) as holder:
        holder.execute("begin isolation level repeatable read")
        seen = holder.execute("select count(*) from swarm.agent_tasks").fetchone()[0]
        assert seen == 500
        second = enqueue_shell(fault_dsn, 3_500)  # committed after the snapshot was taken
        for i in range(2):
            workers.start(name=f"w{i}", concurrency=8)
        wait_for(lambda: all_finished(fault_dsn, 4_000), 120, "all tasks to finish while the snapshot is held",
                 interval=0.5, diagnostics=_diagnostics(fault_dsn, workers))
        # the snapshot is still held and still sees its world: 500 tasks, all pending
        assert holder.execute("select count(*) filter (where status = 'pending'), count(*) "
                              "from swarm.agent_tasks").fetchone() == (500, 500)
        holder.execute("rollback")
    assert_each_completed_once(fault_dsn, first + second)


def _fill_connection_slots(dsn: str, hogs: list[psycopg.Connection]) -> None:
    """Open superuser sessions until the server answers "too many clients" twice, 0.2 s apart: a
    worker's refused login holds a slot for a moment, and a fill that stopped then would leave that
    slot free once the worker's backend exits."""
    refusals = 0
    while refusals < 2:
        try:
            hogs.append(psycopg.connect(dsn, connect_timeout=5))
            refusals = 0
        except psycopg.OperationalError as error:
            assert "too many clients" in str(error), error
            refusals += 1
            time.sleep(0.2)
        assert len(hogs) < 2000, "max_connections never ran out"


def test_max_connections_exhausted_then_freed_loses_none(fault_dsn: str, workers: FaultWorkers) -> None:
    """Workers log in as an ordinary role, as in production (never as a superuser). The test takes
    every connection slot with superuser sessions and cuts the workers off: they cannot come back,
    since the slots their sessions leave are the superusers' reserve (superuser_reserved_connections)
    and the test takes those too. After a few lease lengths half the slots come back."""
    # Enough work that the lock-out falls mid-run: 1,000 brief tasks were all done before the slots
    # were filled once (CI, 2026-12-03), leaving nothing for the lock-out to hold up.
    ids = enqueue_shell(fault_dsn, 5_000, command=BRIEF_TASK)
    with connect(fault_dsn) as admin:
        admin.execute("""do $$ begin
            if not exists (select from pg_roles where rolname = 'fault_worker') then
              create role fault_worker login in role swarm_worker;
            end if; end $$""")
        assert admin.execute("show superuser_reserved_connections").fetchone()[0] != "0"
        workers.dsn = fault_dsn.replace("postgres@", "fault_worker@", 1)
        for i in range(2):
            workers.start(name=f"w{i}", concurrency=4)
        wait_for(lambda: status_counts(fault_dsn).get("completed", 0) >= 100, 60, "the first completions",
                 diagnostics=_diagnostics(fault_dsn, workers))
        hogs: list[psycopg.Connection] = []
        try:
            _fill_connection_slots(fault_dsn, hogs)
            cut = admin.execute("select count(*) filter (where pg_terminate_backend(pid)) from unnest(%s::int[]) as pid",
                                (_worker_backends(admin, "fault_worker"),)).fetchone()[0]
            assert cut == 2, f"expected both workers' sessions, terminated {cut}"
            wait_for(lambda: not _worker_backends(admin, "fault_worker"), 10, "the terminated sessions to end")
            _fill_connection_slots(fault_dsn, hogs)  # the two freed slots too: now nobody gets in
            time.sleep(2 * LEASE_SECONDS)  # the workers spend two lease lengths locked out
            assert not _worker_backends(admin, "fault_worker"), "a worker got a connection slot"
            locked_out = admin.execute("select count(*) from swarm.agent_tasks where status <> 'completed'").fetchone()[0]
            assert locked_out > 0, "the run finished before the lock-out"
            for hog in hogs[: len(hogs) // 2]:  # room again, but not for everyone
                hog.close()
            wait_for(lambda: all_finished(fault_dsn, len(ids)), 120, "all tasks to finish once slots came back",
                     interval=0.5, diagnostics=_diagnostics(fault_dsn, workers))
        finally:
            for hog in hogs:
                hog.close()
    assert_each_completed_once(fault_dsn, ids)
    assert all(w.alive() for w in workers.started), "a worker exited instead of reconnecting"
    assert workers.logged("too many clients"), f"the workers never met a full server:\n{workers.logs()}"


def test_a_worker_frozen_past_its_lease_has_its_late_report_refused(fault_dsn: str, workers: FaultWorkers,
                                                                    tmp_path: Path) -> None:
    # The task runs a little while, so the worker can be frozen between its agent's start and its
    # report (frozen before the start, it would start the agent on resuming, learn at its next
    # heartbeat that the task is no longer its own, and stop it unreported).
    started = tmp_path / "started"
    [task_id] = enqueue_shell(fault_dsn, 1, command=f"echo $PGSWARM_WORKER >> {started}; sleep 1")
    frozen = workers.start(name="frozen", concurrency=1)
    with connect(fault_dsn) as conn:
        wait_for(lambda: started.exists(), 30, "the frozen-to-be worker to start the task's agent",
                 diagnostics=_diagnostics(fault_dsn, workers))
        os.kill(frozen.process.pid, signal.SIGSTOP)
        try:
            # Its lease runs out; a healthy worker reaps it, runs attempt 2 and completes it.
            rescuer = workers.start(name="rescuer", concurrency=1)
            wait_for(lambda: conn.execute("select status from swarm.agent_tasks where id = %s",
                                          (task_id,)).fetchone()[0] == "completed",
                     60, "the rescuer to complete attempt 2", diagnostics=_diagnostics(fault_dsn, workers))
            winner = conn.execute("select worker, attempts, finished_at from swarm.agent_tasks where id = %s",
                                  (task_id,)).fetchone()
            assert winner[:2] == ("rescuer", 2)
        finally:
            os.kill(frozen.process.pid, signal.SIGCONT)
        # Resumed, the frozen worker reports attempt 1: refused, logged, outcome unchanged.
        wait_for(lambda: conn.execute("select count(*) from swarm.task_events where task_id = %s "
                                      "and event = 'stale_report'", (task_id,)).fetchone()[0] >= 1,
                 60, "the frozen worker's late report to be refused as stale",
                 diagnostics=_diagnostics(fault_dsn, workers))
        stale = conn.execute("select worker, attempt from swarm.task_events where task_id = %s "
                             "and event = 'stale_report'", (task_id,)).fetchall()
        assert stale == [("frozen", 1)]
        assert conn.execute("select worker, attempts, finished_at from swarm.agent_tasks where id = %s",
                            (task_id,)).fetchone() == winner
        assert rescuer.alive() and frozen.alive()
    assert started.read_text().split() == ["frozen", "rescuer"]
    assert_each_completed_once(fault_dsn, [task_id])
