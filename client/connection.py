"""Opening connections with clear errors, and the one seam where driver errors become pgswarm's.

`open_connection` / `open_async_connection` name the DSN (password hidden) and the cause when a
server cannot be reached; `mapped_errors` turns a psycopg error into the exception tree of
`pgswarm.worker.errors` by SQLSTATE (an SW code, a refused value, or a missing schema).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ..worker.dsn import redact_dsn, scrub_passwords
from ..worker.errors import DatabaseUnavailable, PgswarmError, SchemaOutdated, UsageError, describe, from_db_error

APPLICATION_NAME = "pgswarm-client"
CONNECT_TIMEOUT = 10
# No schema swarm / no such relation / no such function: a database that was never migrated, or
# one migrated by an older pgswarm.
MISSING_SCHEMA = {"3F000", "42P01", "42883"}


def connection_failure_cause(exc: BaseException, dsn: str | None = None) -> str:
    """The reason part of a libpq connection error, e.g. 'Connection refused' (passwords hidden)."""
    text = scrub_passwords(" ".join(str(exc).split()), dsn)
    if "failed: " in text:
        text = text.rsplit("failed: ", 1)[1]
    text = re.sub(r"\s*Is the server running.*$", "", text)
    return text.rstrip(".") or type(exc).__name__


def _unavailable(exc: psycopg.Error, dsn: str) -> Exception:
    if isinstance(exc, psycopg.OperationalError):
        return DatabaseUnavailable(
            f"cannot connect to {redact_dsn(dsn)} ({connection_failure_cause(exc, dsn)}); set --dsn or PGSWARM_DSN")
    return UsageError(f"invalid DSN {redact_dsn(dsn)}: {connection_failure_cause(exc, dsn)}")  # libpq cannot parse it


def open_connection(dsn: str, *, autocommit: bool = True, application_name: str = APPLICATION_NAME
                    ) -> psycopg.Connection:
    """A psycopg connection, or DatabaseUnavailable naming the DSN (password hidden) and the cause."""
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT,
                               application_name=application_name)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        raise _unavailable(exc, dsn) from exc


async def open_async_connection(dsn: str, *, autocommit: bool = True, application_name: str = APPLICATION_NAME
                                ) -> psycopg.AsyncConnection:
    """The same for asyncio."""
    try:
        return await psycopg.AsyncConnection.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT,
                                                     application_name=application_name)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as exc:
        raise _unavailable(exc, dsn) from exc


def map_error(exc: psycopg.Error) -> PgswarmError | None:
    """The pgswarm exception for a driver error, or None when it is none of pgswarm's business."""
    mapped = from_db_error(exc)
    if mapped is not None:
        return mapped
    if getattr(exc, "sqlstate", None) in MISSING_SCHEMA:
        return SchemaOutdated(f"the database has no current pgswarm schema ({describe(exc)}); run `pgswarm migrate`",
                              sqlstate=exc.sqlstate)
    return None


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Raise the engine's refusals as the typed exceptions of pgswarm.worker.errors (the cause kept)."""
    try:
        yield
    except psycopg.Error as exc:
        mapped = map_error(exc)
        if mapped is None:
            raise
        raise mapped from exc
