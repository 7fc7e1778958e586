"""The pgswarm exception tree, shared by the worker (asyncpg) and the CLI (psycopg).

    PgswarmError                      base; str(exc) is one line fit for `pgswarm: error: ...`
    ├── UsageError                    bad command-line argument or configuration (exit 2)
    ├── DatabaseUnavailable           cannot connect; the message names the DSN, password masked (exit 3)
    │   └── DatabaseDown              the worker's connection is gone for now: hold the work, retry
    ├── SchemaOutdated                SW006, or no/old swarm schema: run `pgswarm migrate` (exit 4)
    ├── MigrationError                the shipped or applied migrations are not usable (exit 4)
    │   ├── MigrationChecksumMismatch an applied migration file was edited, or is missing
    │   └── MigrationLayoutError      two migrations have the same number
    ├── WorkerFault                   a part of a running worker failed for good (its heartbeat,
    │                                 claim or report loop); it stopped its attempts (exit 1)
    ├── TaskError                     the engine refused a request (exit 2)
    │   ├── UnknownAgent              SW001
    │   ├── UnknownTask               SW002
    │   ├── IllegalTransition         SW003
    │   ├── InvalidDependency         SW004
    │   ├── InvalidArgument           SW005 (and constraint or data errors on user input)
    │   ├── NotAllowed                42501: no privilege, or a task token that does not work
    │   └── WorkerNameTaken           SW007: the worker name was registered by another login
    └── WaitTimeout                   Client.wait gave up; also a TimeoutError (exit 1)

`from_db_error(exc)` maps a driver error (psycopg or asyncpg) to this tree by SQLSTATE, never by
message text (Postgres messages can be localised). It returns None for errors it does not know,
so the caller re-raises the original.
"""
from __future__ import annotations

from typing import Any


class PgswarmError(Exception):
    """pgswarm failed."""

    exit_code = 2

    def __init__(self, message: str | None = None, *, hint: str | None = None, detail: str | None = None,
                 sqlstate: str | None = None) -> None:
        # The class docstring is the default message (procrastinate's habit).
        self.message = message or (self.__doc__ or "").strip().splitlines()[0]
        self.hint = hint or None
        self.detail = detail or None
        self.sqlstate = sqlstate
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class UsageError(PgswarmError):
    """invalid usage"""


class DatabaseUnavailable(PgswarmError):
    """cannot connect to the database"""

    exit_code = 3


class DatabaseDown(DatabaseUnavailable):
    """the database cannot be reached right now"""


class SchemaOutdated(PgswarmError):
    """the database schema is older than this pgswarm: run `pgswarm migrate`"""

    exit_code = 4


class MigrationError(PgswarmError):
    """the migrations cannot be applied"""

    exit_code = 4


class MigrationChecksumMismatch(MigrationError):
    """an applied migration was changed after it was applied"""


class MigrationLayoutError(MigrationError):
    """two migrations share a number (gaps are fine)"""


class WorkerFault(PgswarmError):
    """the worker stopped because a part of it failed"""

    exit_code = 1


class TaskError(PgswarmError):
    """the queue refused the request"""


class UnknownAgent(TaskError):
    """unknown agent"""


class UnknownTask(TaskError):
    """unknown task"""


class IllegalTransition(TaskError):
    """illegal status change"""


class InvalidDependency(TaskError):
    """invalid dependency"""


class InvalidArgument(TaskError):
    """invalid argument"""


class NotAllowed(TaskError):
    """the login may not do this (SQLSTATE 42501: a privilege, or a task token that does not work)"""


class WorkerNameTaken(TaskError):
    """the worker name belongs to another login"""


class WaitTimeout(PgswarmError, TimeoutError):
    """the task did not finish in time"""

    exit_code = 1

    def __init__(self, task_id: int, timeout: float, task: Any = None) -> None:
        status = getattr(task, "status", None)
        super().__init__(f"task {task_id} did not finish within {timeout:g} s"
                         + (f" (it is {status})" if status else ""))
        self.task_id = task_id
        self.timeout = timeout
        self.task = task  # the task as last read (a pgswarm Task)


_BY_SQLSTATE: dict[str, type[PgswarmError]] = {
    "SW001": UnknownAgent,
    "SW002": UnknownTask,
    "SW003": IllegalTransition,
    "SW004": InvalidDependency,
    "SW005": InvalidArgument,
    "SW006": SchemaOutdated,
    "42501": NotAllowed,
    "SW007": WorkerNameTaken,
}

# Refusals of user input that come from Postgres itself rather than from swarm's own checks:
# class 22 (data exception: bad interval, out of range) and 23 (constraint violation).
_USER_INPUT_CLASSES = ("22", "23")


def _fields(exc: BaseException) -> tuple[str | None, str, str | None, str | None]:
    """(sqlstate, message, detail, hint) from a psycopg or an asyncpg error."""
    sqlstate = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    if diag is not None:  # psycopg
        message = diag.message_primary or str(exc)
        return sqlstate, message, diag.message_detail, diag.message_hint
    message = getattr(exc, "message", None) or str(exc)  # asyncpg
    return sqlstate, message, getattr(exc, "detail", None), getattr(exc, "hint", None)


def from_db_error(exc: BaseException) -> PgswarmError | None:
    """The PgswarmError for a driver error with a SW (or user-input) SQLSTATE, else None."""
    sqlstate, message, detail, hint = _fields(exc)
    if not sqlstate:
        return None
    cls = _BY_SQLSTATE.get(sqlstate)
    if cls is None and sqlstate[:2] in _USER_INPUT_CLASSES:
        cls = InvalidArgument
    if cls is None:
        return None
    return cls(message.strip().splitlines()[0] if message else None, hint=hint, detail=detail, sqlstate=sqlstate)


def describe(exc: Any) -> str:
    """One line for any exception: its first line of text, or its class name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
