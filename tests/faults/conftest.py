"""Fixtures of the fault tests: a PostgreSQL server of this module's own (these tests kill
connections and restart the server, so they never touch the session server), a fresh migrated
database per test on it, and real `pgswarm worker` processes (tests/helpers/workers.py) that
run shell tasks with short leases, so a dead or frozen worker's tasks come back in seconds.
"""
from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.workers import WorkerProcess, Workers
from tests.pgserver import PgServer, start_server

LEASE_SECONDS = 4


class FaultWorkers(Workers):
    """Workers that run only shell tasks, with LEASE_SECONDS leases, and can be killed with -9."""

    def start(self, *options: str, name: str | None = None, concurrency: int = 4,  # type: ignore[override]
              lease_seconds: int = LEASE_SECONDS, **kwargs) -> WorkerProcess:
        return super().start("--agents", "shell", *options, name=name, concurrency=concurrency,
                             lease_seconds=lease_seconds, **kwargs)

    def kill9(self, worker: WorkerProcess) -> None:
        """kill -9 of the worker process only: its agents (own process groups) live on."""
        worker.signal(signal.SIGKILL)
        worker.process.wait()


@pytest.fixture(scope="module")
def fault_server() -> Iterator[PgServer]:
    server = start_server(prefix="pgswarm-faults-")
    yield server
    server.destroy()


@pytest.fixture
def fault_dsn(fault_server: PgServer, request: pytest.FixtureRequest) -> Iterator[str]:
    from pgswarm.client.migrate import migrate

    name = "f_" + request.node.name.lower().replace("[", "_").replace("]", "")[:50]
    with psycopg.connect(fault_server.dsn(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    migrate(fault_server.dsn(name))
    yield fault_server.dsn(name)
    if fault_server.process is not None:
        with psycopg.connect(fault_server.dsn(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def workers(fault_dsn: str, tmp_path: Path) -> Iterator[FaultWorkers]:
    group = FaultWorkers(fault_dsn, tmp_path)
    yield group
    group.stop_all()
