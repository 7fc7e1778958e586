"""Worker tests: real `pgswarm worker` processes running real agent executables against the
session's PostgreSQL, one fresh database per test."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers.logins import Logins
from tests.helpers.workers import AGENTS, Workers


@pytest.fixture
def workers(dsn: str, tmp_path: Path) -> Iterator[Workers]:
    group = Workers(dsn, tmp_path)
    yield group
    group.stop_all()


def agent(name: str) -> str:
    """The command line (as one shell word list) running a fake agent from tests/agents."""
    return f"{sys.executable} {AGENTS / name}"


def add(db: psycopg.Connection, prompt: str, **columns: object) -> int:
    """Enqueue with a plain INSERT, as any service would."""
    columns = {"prompt": prompt, **columns}
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    return db.execute(f"insert into swarm.agent_tasks ({names}) values ({marks}) returning id",
                      list(columns.values())).fetchone()[0]


@pytest.fixture
def agent_dsn(logins: Logins, db: psycopg.Connection) -> str:
    """A login holding only swarm_agent, for `pgswarm worker --agent-dsn`."""
    return logins.dsn("swarm_agent", f"agent_{db.info.dbname}"[:63])


@pytest.fixture
def worker_login(logins: Logins) -> str:
    """The DSN of a login holding only swarm_worker."""
    return logins.dsn("swarm_worker")
