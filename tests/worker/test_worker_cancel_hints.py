"""A swarm_cancel notification is a hint: any login that can connect may send one, so the worker
stops an agent only when the database says its attempt was cancelled (issue 16, defect 1)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.workers import Workers, processes_with, task_row, wait_for, wait_status
from tests.worker.conftest import add


@pytest.fixture
def stranger(db: psycopg.Connection, dsn: str) -> Iterator[psycopg.Connection]:
    """A login with no pgswarm grant at all: it can connect (PUBLIC may) and NOTIFY, nothing else."""
    login = f"stranger_{uuid.uuid4().hex[:8]}"
    db.execute(f"create role {login} login")
    with psycopg.connect(dsn.replace("postgres@", f"{login}@"), autocommit=True) as conn:
        yield conn
    db.execute(f"drop role {login}")


def test_a_spoofed_cancel_notification_does_not_stop_the_agent(workers: Workers, db: psycopg.Connection,
                                                                 stranger: psycopg.Connection,
                                                                 tmp_path: Path) -> None:
    marker = f"keep-running-{uuid.uuid4().hex[:8]}"
    go = tmp_path / "go"
    task_id = add(db, f"while [ ! -e {go} ]; do sleep 0.05; done; echo {marker}", max_attempts=1)
    worker = workers.start()
    wait_status(workers.dsn, task_id, "running", workers=workers)
    wait_for(lambda: processes_with(marker), 10, "the agent process")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        stranger.execute("select swarm.cancel_task(%s)", (task_id,))
    for _ in range(3):
        stranger.execute(f"notify swarm_cancel, '{task_id}'")
    asked = f"task {task_id}: swarm_cancel notification, but the database has no cancel"
    wait_for(lambda: asked in worker.output() or task_row(workers.dsn, task_id)["status"] != "running", 20,
             "the worker to ask the database about the notification", diagnostics=workers.logs)
    assert task_row(workers.dsn, task_id)["status"] == "running" and processes_with(marker), \
        f"the agent was stopped by a notification the database did not back:\n{workers.logs()}"
    go.touch()
    row = wait_status(workers.dsn, task_id, "completed", timeout=30, workers=workers)
    assert row["attempts"] == 1 and row["exit_code"] == 0 and marker in (row["output_tail"] or "")
    events = [e for (e,) in db.execute("select event from swarm.task_events where task_id = %s order by id",
                                       (task_id,))]
    assert events == ["created", "claimed", "completed"]


def test_a_real_cancel_still_stops_the_agent_promptly(workers: Workers, db: psycopg.Connection) -> None:
    """The heartbeat is 20 s away (lease 60 s): the notification makes the worker ask at once."""
    marker = f"cancel-me-{uuid.uuid4().hex[:8]}"
    task_id = add(db, f"sleep 300; echo {marker}")
    workers.start(lease_seconds=60)
    wait_status(workers.dsn, task_id, "running", workers=workers)
    wait_for(lambda: processes_with(marker), 10, "the agent process")
    assert db.execute("select swarm.cancel_task(%s, 'not needed')", (task_id,)).fetchone()[0] == "running"
    row = wait_status(workers.dsn, task_id, "cancelled", timeout=15, workers=workers)
    assert row["attempts"] == 1 and row["error"] is not None
    wait_for(lambda: not processes_with(marker), 10, "the cancelled process to be gone")
