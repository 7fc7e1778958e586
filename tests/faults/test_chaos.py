"""The scenarios of hardbyte's Postgres-queue chaos suite that tests/faults/test_worker_faults.py
does not already run, CI-sized: a burst of tasks in one statement, the archive moving finished
tasks while workers drain, many sessions idle in a transaction, PostgreSQL crashed again and
again. Real `pgswarm worker` processes run real shell tasks that record each run in a file.
Each test prints the suite's figures (completed, lost, recorded twice, agents run twice, dead
tuples) and asserts lost = 0, recorded twice = 0 and, where no worker is killed, agents run
twice = 0. The long versions (100,000-task burst, a 30-minute soak) are bench/chaos.py.
Mapping to the suite: crash_recovery and chaos_repeated_kills are test_kill_9_of_random_workers,
chaos_pg_backend_kill is test_pg_terminate_backend, chaos_postgres_restart is
test_postgresql_restart_mid_run (here: repeatedly), chaos_pool_exhaustion is
test_max_connections_exhausted, idle_in_tx_saturation is here and test_a_held_repeatable_read.
"""
from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from tests.faults.checks import (all_finished, chaos_report, connect, enqueue_shell, recording_command,
                                 status_counts)
from tests.faults.conftest import FaultWorkers
from tests.helpers.workers import wait_for

pytestmark = pytest.mark.slow


def _finished(dsn: str) -> int:
    counts = status_counts(dsn)
    return sum(counts.get(s, 0) for s in ("completed", "failed", "cancelled"))


def _diagnostics(dsn: str, workers: FaultWorkers):
    return lambda: f"status counts: {status_counts(dsn)}\n{workers.logs()}"


def test_event_burst_in_one_statement_against_4_workers(fault_dsn: str, workers: FaultWorkers,
                                                         tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    for i in range(4):
        workers.start(name=f"w{i}", concurrency=8)
    started = time.monotonic()
    ids = enqueue_shell(fault_dsn, 3_000, command=recording_command(runs))
    enqueued = time.monotonic() - started
    wait_for(lambda: all_finished(fault_dsn, len(ids)), 180, "the burst to drain", interval=0.5,
             diagnostics=_diagnostics(fault_dsn, workers))
    report = chaos_report(fault_dsn, ids, runs)
    print(f"event_burst: 3,000 tasks enqueued in {enqueued:.2f} s, drained in {time.monotonic() - started:.1f} s: "
          f"{report}")
    assert report["lost"] == 0 and report["recorded_twice"] == 0 and report["agents_run_twice"] == 0
    assert report["completed"] == len(ids)


def test_archive_in_batches_during_load_moves_every_task_once(fault_dsn: str, workers: FaultWorkers,
                                                                tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    ids = enqueue_shell(fault_dsn, 3_000, command=recording_command(runs))
    for i in range(2):
        workers.start(name=f"w{i}", concurrency=8)
    moved = 0
    calls = 0
    with connect(fault_dsn) as archiver:
        deadline = time.monotonic() + 180
        while moved < len(ids) and time.monotonic() < deadline:
            moved += archiver.execute("call swarm.archive_in_batches('0 seconds', 200, null)").fetchone()[0]
            calls += 1
            time.sleep(0.2)  # the archive's pace, not a wait for an event
    report = chaos_report(fault_dsn, ids, runs)
    print(f"archive during load: {calls} archive calls moved {moved} tasks: {report}")
    assert calls >= 5 and moved == len(ids), f"moved {moved} of {len(ids)} in {calls} calls"
    assert report["lost"] == 0 and report["recorded_twice"] == 0 and report["agents_run_twice"] == 0
    assert report["completed"] == len(ids)


def test_idle_in_transaction_saturation_does_not_stop_the_queue(fault_dsn: str, workers: FaultWorkers,
                                                                  tmp_path: Path) -> None:
    """30 sessions each sit in an open transaction that read the queue (snapshots held, as a leaky
    connection pool would) while 2,000 tasks are enqueued and drained."""
    runs = str(tmp_path / "runs")
    idle = [psycopg.connect(fault_dsn) for _ in range(30)]
    try:
        for conn in idle:
            conn.execute("set idle_in_transaction_session_timeout = 0")
            conn.execute("select count(*) from swarm.agent_tasks")  # a transaction left open
        for i in range(2):
            workers.start(name=f"w{i}", concurrency=8)
        started = time.monotonic()
        ids = enqueue_shell(fault_dsn, 2_000, command=recording_command(runs))
        wait_for(lambda: all_finished(fault_dsn, len(ids)), 180, "the queue to drain past the idle transactions",
                 interval=0.5, diagnostics=_diagnostics(fault_dsn, workers))
        report = chaos_report(fault_dsn, ids, runs)
        print(f"idle_in_tx_saturation: 30 idle transactions, 2,000 tasks in {time.monotonic() - started:.1f} s: "
              f"{report}")
    finally:
        for conn in idle:
            conn.close()
    assert report["lost"] == 0 and report["recorded_twice"] == 0 and report["agents_run_twice"] == 0
    assert report["completed"] == len(ids)


def test_postgresql_crashed_three_times_loses_none(fault_server, fault_dsn: str, workers: FaultWorkers,
                                                     tmp_path: Path) -> None:
    """Three immediate stops (a crash: WAL recovery) a few seconds apart during a 3,000-task run;
    an attempt whose claim or report a crash lost may run again (at-least-once), never record twice."""
    runs = str(tmp_path / "runs")
    ids = enqueue_shell(fault_dsn, 3_000, command=recording_command(runs, "sleep 0.02"))
    for i in range(2):
        workers.start(name=f"w{i}", concurrency=8)
    recoveries = []
    for crash in range(3):
        target = 300 * (crash + 1)
        wait_for(lambda: _finished(fault_dsn) >= target, 120, f"{target} completions before crash {crash + 1}",
                 interval=0.2, diagnostics=_diagnostics(fault_dsn, workers))
        before = _finished(fault_dsn)
        fault_server.stop("immediate")
        fault_server.start()
        down_until = time.monotonic()
        wait_for(lambda: _finished(fault_dsn) > before + 20, 90, f"completions after crash {crash + 1}",
                 interval=0.1, diagnostics=_diagnostics(fault_dsn, workers))
        recoveries.append(time.monotonic() - down_until)
    wait_for(lambda: all_finished(fault_dsn, len(ids)), 180, "all tasks after three crashes", interval=0.5,
             diagnostics=_diagnostics(fault_dsn, workers))
    report = chaos_report(fault_dsn, ids, runs)
    print(f"postgres crashed 3 times: back to completing in {', '.join(f'{r:.1f}' for r in recoveries)} s: {report}")
    assert report["lost"] == 0 and report["recorded_twice"] == 0
    assert report["completed"] == len(ids)
    assert all(w.alive() for w in workers.started), "a worker exited instead of reconnecting"
