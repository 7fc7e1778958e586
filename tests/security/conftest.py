"""Logins holding one pgswarm role each (never the superuser the rest of the suite runs as)."""
from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.helpers.logins import Logins

Login = Callable[..., str]


@pytest.fixture
def login(logins: Logins) -> Login:
    """login('swarm_enqueue') -> the DSN of a new login holding that role (None: no pgswarm grant)."""
    return logins.dsn


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True)


def login_name(dsn: str) -> str:
    return dsn.split("://", 1)[1].split("@", 1)[0]
