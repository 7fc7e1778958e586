"""Stopping attempts: timeout, cancel, graceful and immediate shutdown; nothing left running."""
from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import psycopg

from tests.helpers.workers import Workers, processes_with, task_row, wait_for, wait_status
from tests.worker.conftest import add, agent


def test_timeout_stops_the_whole_tree_including_setsid_escapers(workers: Workers, db: psycopg.Connection) -> None:
    marker = f"stubborn-{uuid.uuid4().hex[:8]}"
    task_id = add(db, f"{agent('stubborn.py')} {marker}", timeout_seconds=2, max_attempts=1)
    workers.start("--kill-grace", "1")
    wait_for(lambda: len(processes_with(marker)) >= 3, 30, "the agent, its child and its escaper",
             diagnostics=workers.logs)
    row = wait_status(workers.dsn, task_id, "failed", timeout=30, workers=workers)
    assert "timed out after 2s" in row["error"]
    wait_for(lambda: not processes_with(marker), 10, "every process of the attempt to be gone",
             diagnostics=lambda: "\n".join(processes_with(marker)))


def test_a_daemon_left_behind_by_a_finished_attempt_is_killed(workers: Workers, db: psycopg.Connection,
                                                               tmp_path: Path) -> None:
    """An agent that succeeds but leaves processes running outside its group (setsid, as claude's
    Bash tool does) does not keep them: the worker's sweep finds them by their run token."""
    marker = f"daemon-{uuid.uuid4().hex[:8]}"
    nap = f"300.{uuid.uuid4().int % 10**9:09d}"  # the daemon's child: a sleep nobody else runs
    started = tmp_path / "daemon-started"
    task_id = add(db, f"setsid sh -c 'touch {started}; sleep {nap}; echo {marker}' >/dev/null 2>&1 &")
    workers.start()
    assert wait_status(workers.dsn, task_id, "completed", workers=workers)["exit_code"] == 0
    wait_for(started.exists, 10, "the daemon to start")
    wait_for(lambda: not processes_with(marker) and not processes_with(f"sleep {nap}"), 15,
             "the daemon the attempt left behind, and its child, to be killed",
             diagnostics=lambda: "\n".join(processes_with(marker) + processes_with(f"sleep {nap}")))


def test_cancel_of_a_running_task_stops_it_and_records_cancelled(workers: Workers, db: psycopg.Connection) -> None:
    marker = f"cancel-me-{uuid.uuid4().hex[:8]}"
    task_id = add(db, f"sleep 300; echo {marker}")
    workers.start()
    wait_status(workers.dsn, task_id, "running", workers=workers)
    wait_for(lambda: processes_with(marker), 10, "the agent process")
    started = time.monotonic()
    assert db.execute("select swarm.cancel_task(%s, 'not needed')", (task_id,)).fetchone()[0] == "running"
    row = wait_status(workers.dsn, task_id, "cancelled", timeout=30, workers=workers)
    assert time.monotonic() - started < 15, "the cancel notification should stop it promptly"
    assert row["attempts"] == 1
    wait_for(lambda: not processes_with(marker), 10, "the cancelled process to be gone")



def test_a_cancel_that_comes_after_the_agent_finished_records_its_outcome(workers: Workers, db: psycopg.Connection,
                                                                           tmp_path: Path) -> None:
    """The worker is suspended while its agent finishes, then the task is cancelled: on resuming
    it learns both at once. The agent was not stopped, so what it did is recorded, not a cancel."""
    started, go = tmp_path / "started", tmp_path / "go"
    task_id = add(db, f"touch {started}; while [ ! -e {go} ]; do sleep 0.05; done; echo finished-the-work")
    worker = workers.start()
    wait_for(started.exists, 30, "the agent to start", diagnostics=workers.logs)
    worker.signal(signal.SIGSTOP)
    try:
        go.touch()
        wait_for(lambda: not processes_with(str(go)), 10, "the agent to finish while its worker is suspended")
        assert db.execute("select swarm.cancel_task(%s, 'too late')", (task_id,)).fetchone()[0] == "running"
    finally:
        worker.signal(signal.SIGCONT)
    row = wait_status(workers.dsn, task_id, "completed", timeout=30, workers=workers)
    assert "finished-the-work" in row["output_tail"] and row["exit_code"] == 0
    events = db.execute("select event from swarm.task_events where task_id = %s and event in "
                        "('completed', 'failed', 'cancelled', 'stale_report')", (task_id,)).fetchall()
    assert events == [("completed",)]

def test_graceful_shutdown_lets_short_attempts_finish(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "sleep 2; echo finished")
    worker = workers.start("--shutdown-grace", "30")
    wait_status(workers.dsn, task_id, "running", workers=workers)
    worker.signal(signal.SIGTERM)
    assert worker.process.wait(60) == 0
    row = task_row(workers.dsn, task_id)
    assert row["status"] == "completed" and "finished" in row["output_tail"]


def test_shutdown_past_grace_releases_without_spending_an_attempt(workers: Workers, db: psycopg.Connection) -> None:
    marker = f"long-{uuid.uuid4().hex[:8]}"
    task_id = add(db, f"sleep 300; echo {marker}", max_attempts=1)
    worker = workers.start("--shutdown-grace", "1", "--kill-grace", "1")
    wait_status(workers.dsn, task_id, "running", workers=workers)
    worker.signal(signal.SIGTERM)
    assert worker.process.wait(60) == 0
    row = task_row(workers.dsn, task_id)
    assert row["status"] == "pending" and row["attempts"] == 0, "a released attempt is not spent"
    assert not processes_with(marker)
    # max_attempts is 1: had the release spent the attempt, the next worker could not run it.
    workers.start(name="w2")
    wait_for(lambda: task_row(workers.dsn, task_id)["worker"] == "w2", 30, "a second worker to run it",
             diagnostics=workers.logs)


def test_second_signal_stops_at_once_and_still_releases(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "sleep 300")
    worker = workers.start("--shutdown-grace", "120")
    wait_status(workers.dsn, task_id, "running", workers=workers)
    worker.signal(signal.SIGTERM)
    wait_for(lambda: "no new claims" in worker.output(), 10, "the first signal to be handled", diagnostics=workers.logs)
    started = time.monotonic()
    worker.signal(signal.SIGINT)
    assert worker.process.wait(30) == 0
    assert time.monotonic() - started < 10
    assert task_row(workers.dsn, task_id)["status"] == "pending"


def test_exit_75_releases_without_spending_attempts_a_bounded_number_of_times(
        workers: Workers, db: psycopg.Connection) -> None:
    db.execute("update swarm.agents set retry_backoff_base_seconds = 1, retry_backoff_max_seconds = 1 "
               "where name = 'shell'")
    task_id = add(db, "exit 75", max_attempts=2)
    workers.start()
    row = wait_status(workers.dsn, task_id, "failed", timeout=90, workers=workers)
    events = db.execute("select event, attempt from swarm.task_events where task_id = %s order by id",
                        (task_id,)).fetchall()
    releases = [e for e in events if e[0] == "released"]
    assert row["free_releases"] == 10, "the bound: ten releases give the attempt back"
    assert len(releases) == 11 and events[-1][0] == "failed" and row["attempts"] == 2, events[-4:]
    assert "75" in row["error"] or "TEMPFAIL" in row["error"]
