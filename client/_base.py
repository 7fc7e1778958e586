"""What `Client` and `AsyncClient` share without waiting on anything: the constructor's rules, the
capability check, when a connection may listen, and how long a waiter sleeps between reads."""
from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Generic, TypeVar

import psycopg
from psycopg.pq import TransactionStatus

from .capability import TaskCapability
from ..worker.errors import UsageError

C = TypeVar("C", psycopg.Connection, psycopg.AsyncConnection)
# A waiter re-reads the task this often even without a notification, in case one was lost (a
# pooler in transaction mode drops LISTEN): a NOTIFY is a hint, the row is the truth.
FALLBACK_SECONDS = 10.0
FOLLOW_IN_TRANSACTION = "follow() cannot run inside an open transaction: commit or roll back first"
WAIT_IN_TRANSACTION = ("wait() cannot run inside an open transaction (the outcome is committed by another session): "
                       "commit or roll back first")


def seconds(value: float | timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


def deadline_after(limit: float | None) -> float | None:
    """The monotonic time a wait of `limit` seconds ends (None: never)."""
    return None if limit is None else time.monotonic() + limit


def nap_before(deadline: float | None) -> float | None:
    """How long a waiter may sleep before it re-reads the task: until the deadline, at most
    FALLBACK_SECONDS; None once the deadline has passed."""
    if deadline is None:
        return FALLBACK_SECONDS
    remaining = deadline - time.monotonic()
    return None if remaining <= 0 else min(remaining, FALLBACK_SECONDS)


def needs_autocommit(conn: psycopg.Connection | psycopg.AsyncConnection, refusal: str) -> bool:
    """Whether the connection must be switched to autocommit to hear notifications (it is not
    yet); UsageError(refusal) when it is inside an open transaction, which would never see the
    commits of other sessions."""
    if conn.autocommit:
        return False
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise UsageError(refusal)
    return True


class ClientBase(Generic[C]):
    """Enqueue, read, wait for, cancel and retry tasks.

    Client() connects as the CLI does (PGSWARM_DSN, DATABASE_URL, else the embedded server),
    Client(dsn) to that DSN, Client(conn=connection) uses a psycopg connection the caller owns
    (an AsyncConnection for AsyncClient): then an enqueue joins the caller's open transaction and
    commits or rolls back with it, and the client never commits, rolls back or closes that
    connection. Engine refusals raise the typed exceptions of pgswarm (UnknownAgent, UnknownTask,
    InvalidDependency, InvalidArgument, IllegalTransition, ...) carrying the engine's message,
    detail and hint.
    """

    def __init__(self, dsn: str | None = None, *, conn: C | None = None,
                 capability: TaskCapability | None = None) -> None:
        if dsn is not None and conn is not None:
            raise UsageError(f"give {type(self).__name__} a dsn or a conn, not both")
        self.capability = capability  # inside an agent: enqueue children of its task only (capability.py)
        self._dsn = dsn
        self._conn: C | None = conn
        self._owned = conn is None
        self._capabilities: Mapping[str, bool] | None = None

    def _capability(self) -> TaskCapability:
        if self.capability is None:
            raise UsageError(f"this needs a running agent's capability: {type(self).__name__}(capability="
                             "TaskCapability.from_environment()) inside an agent (PGSWARM_TASK_TOKEN)")
        return self.capability
