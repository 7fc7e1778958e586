"""A worker notices its own faults: when one of its background duties dies it stops, says why,
and gives its tasks back, instead of running agents whose leases silently expire."""
from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.helpers.workers import Workers, processes_with, task_row, wait_for, wait_status
from tests.worker.conftest import add


def test_a_heartbeat_loop_that_dies_stops_the_worker_with_a_message_and_releases_its_task(
        workers: Workers, db: psycopg.Connection, worker_login: str) -> None:
    marker = f"beating-{uuid.uuid4().hex[:8]}"
    task_id = add(db, f"sleep 300; echo {marker}", max_attempts=1)
    worker = workers.start("--dsn", worker_login, lease_seconds=3)
    wait_status(workers.dsn, task_id, "running", workers=workers)
    wait_for(lambda: processes_with(marker), 10, "the agent")
    db.execute("revoke execute on function swarm.heartbeat(text, bigint[], int, uuid[]) from swarm_worker")
    assert worker.process.wait(30) == 1, "a worker that cannot renew its leases must stop"
    output = worker.output()
    last = output.strip().splitlines()[-1]
    assert last.startswith("pgswarm: error: worker w1 stopped: the heartbeat loop failed"), output[-3000:]
    assert "permission denied for function heartbeat" in last
    assert "Traceback" not in last
    row = task_row(workers.dsn, task_id)
    assert (row["status"], row["attempts"]) == ("pending", 0), "the task is given back without spending its attempt"
    assert not processes_with(marker), "the agent is stopped with the worker"


def test_a_worker_refuses_a_database_older_than_its_schema_with_exit_4(workers: Workers,
                                                                         db: psycopg.Connection) -> None:
    # The database loses its newest migration's record: it is now older than the worker's code.
    newest = db.execute("delete from swarm.schema_migrations where version = (select max(version) "
                        "from swarm.schema_migrations) returning version").fetchone()[0]
    worker = workers.start()
    assert worker.process.wait(60) == 4
    assert f"this pgswarm needs {newest}" in worker.output() and "pgswarm migrate" in worker.output()
