"""Logins holding one pgswarm role each (never the superuser the rest of the suite runs as)."""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest

_numbers = itertools.count()
Login = Callable[..., str]


@pytest.fixture
def login(conn: psycopg.Connection, dsn: str) -> Iterator[Login]:
    """login('swarm_enqueue') -> the DSN of a new login holding that role (None: no pgswarm grant).
    Roles are cluster-wide, so each name is unique to this process; all are dropped at the end."""
    created: list[str] = []

    def make(role: str | None, name: str | None = None) -> str:
        name = name or f"{(role or 'nogrant').removeprefix('swarm_')}_{os.getpid()}_{next(_numbers)}"
        conn.execute(f"create role {name} login" + (f" in role {role}" if role else ""))
        created.append(name)
        return dsn.replace("postgres@", f"{name}@")

    yield make
    for name in created:
        conn.execute(f"drop owned by {name}")
        conn.execute(f"drop role {name}")


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def login_name(dsn: str) -> str:
    return dsn.split("://", 1)[1].split("@", 1)[0]
