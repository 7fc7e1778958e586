"""The web server's connections: a small psycopg pool, used from worker threads.

cli/queries.py is synchronous (psycopg), like the rest of the CLI; the server runs each call in
Starlette's thread pool. Errors come out as the one exception tree (worker/errors.py):
the engine's SW codes by SQLSTATE, an unreachable database as DatabaseUnavailable.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout
from starlette.concurrency import run_in_threadpool

from ...client.connection import connection_failure_cause, map_error
from ...worker.dsn import redact_dsn
from ...worker.errors import DatabaseUnavailable, from_db_error

T = TypeVar("T")


class Database:
    def __init__(self, dsn: str, max_size: int = 8) -> None:
        self.dsn = dsn
        self.pool = ConnectionPool(dsn, min_size=1, max_size=max_size, open=False, timeout=5,
                                   kwargs={"autocommit": True, "application_name": "pgswarm-web"},
                                   name="pgswarm-web")

    def open(self) -> None:
        try:
            self.pool.open(wait=True, timeout=10)
        except PoolTimeout as exc:
            raise DatabaseUnavailable(f"cannot connect to {redact_dsn(self.dsn)}") from exc

    def close(self) -> None:
        self.pool.close()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """fn(connection, *args) on a pooled connection, errors mapped."""
        try:
            with self.pool.connection() as conn:
                return fn(conn, *args, **kwargs)
        except PoolTimeout as exc:
            raise DatabaseUnavailable(f"the database {redact_dsn(self.dsn)} does not answer") from exc
        except psycopg.OperationalError as exc:
            mapped = from_db_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise DatabaseUnavailable(
                f"database connection lost ({connection_failure_cause(exc, self.dsn)})") from exc
        except psycopg.Error as exc:
            mapped = map_error(exc)
            if mapped is None:
                raise
            raise mapped from exc

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(self.call, fn, *args, **kwargs)
