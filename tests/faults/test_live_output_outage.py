"""Live output across a database outage: the agent never waits for the database, and what it
printed while the server was down reaches swarm.task_output once it is back."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.faults.conftest import FaultWorkers
from tests.helpers.workers import wait_for

pytestmark = pytest.mark.slow


def shipped(dsn: str, task_id: int) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("select coalesce(string_agg(chunk, '' order by seq), '') from swarm.task_output "
                            "where task_id = %s", (task_id,)).fetchone()[0]


def test_an_agent_prints_on_while_the_database_is_down_and_its_output_arrives_after(
        fault_server, fault_dsn: str, workers: FaultWorkers, tmp_path: Path) -> None:
    gate, printed, last = tmp_path / "gate", tmp_path / "printed", tmp_path / "last"
    prompt = (f"echo before; while [ ! -e {gate} ]; do sleep 0.05; done; "
              f"echo during 1; echo during 2; touch {printed}; "
              f"while [ ! -e {last} ]; do sleep 0.05; done; echo after")
    with psycopg.connect(fault_dsn, autocommit=True) as conn:
        task = conn.execute("insert into swarm.agent_tasks (agent, prompt) values ('shell', %s) returning id",
                            (prompt,)).fetchone()[0]
    workers.start(name="w1", concurrency=1)
    wait_for(lambda: shipped(fault_dsn, task) == "before\n", 60, "the first line in the database",
             diagnostics=workers.logs)
    fault_server.stop("fast")
    try:
        gate.touch()
        wait_for(printed.exists, 10, "the agent to print on with the database down", diagnostics=workers.logs)
    finally:
        fault_server.start()
    last.touch()

    def status() -> str:
        with psycopg.connect(fault_dsn, autocommit=True) as conn:
            return conn.execute("select status from swarm.agent_tasks where id = %s", (task,)).fetchone()[0]

    wait_for(lambda: status() == "completed", 120, "the task to complete after the outage", interval=0.2,
             diagnostics=workers.logs)
    assert shipped(fault_dsn, task) == "before\nduring 1\nduring 2\nafter\n"
