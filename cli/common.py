"""Shared pieces of the commands: the connection, argument parsing, did-you-mean."""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Optional

import psycopg
import typer

from ..client import connection
from ..client.dsn import resolve_dsn
from ..worker.errors import UsageError

DSN_HELP = "PostgreSQL DSN (default: $PGSWARM_DSN, $DATABASE_URL, else the embedded server)"
DsnOption = Annotated[Optional[str], typer.Option("--dsn", help=DSN_HELP, show_default=False)]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


class Settings:
    """Options given before the command (`pgswarm --dsn X ls`)."""

    dsn: str | None = None
    debug: bool = False


def open_connection(dsn: str, *, autocommit: bool = True) -> psycopg.Connection:
    return connection.open_connection(dsn, autocommit=autocommit, application_name="pgswarm-cli")


def dsn_for(flag: str | None) -> str:
    return resolve_dsn(flag or Settings.dsn)


# The engine's SW errors as PgswarmError inside the block, so a command can add context.
db_errors = connection.mapped_errors


@contextmanager
def connect(flag: str | None, *, autocommit: bool = True) -> Iterator[psycopg.Connection]:
    with open_connection(dsn_for(flag), autocommit=autocommit) as conn:
        yield conn


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|m|min|mins|h|hr|hrs|d|days?|w|weeks?)?\s*$", re.I)
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "sec": 1, "secs": 1, "m": 60, "min": 60, "mins": 60, "h": 3600, "hr": 3600,
                 "hrs": 3600, "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800,
                 "weeks": 604800}


def parse_duration(text: str, option: str) -> timedelta:
    """'90' (seconds), '30s', '5m', '2h', '7d', '1w', or a combination like '1h30m'."""
    problem = f"{option}: {text!r} is not a duration (examples: 90, 30s, 5m, 2h, 7d)"
    if not re.fullmatch(r"(?:\s*\d+(?:\.\d+)?\s*[a-zA-Z]*)+\s*", text):
        raise UsageError(problem)
    total = 0.0
    for part in re.findall(r"\d+(?:\.\d+)?\s*[a-zA-Z]*", text):
        match = _DURATION.match(part)
        if not match:
            raise UsageError(problem)
        total += float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    try:
        return timedelta(seconds=total)
    except OverflowError:  # past timedelta's 999,999,999 days
        raise UsageError(f"{option}: {text!r} is too long (at most 999999999 days)") from None


def parse_when(text: str, option: str) -> datetime:
    """An ISO 8601 time ('2026-05-01T09:00', '2026-05-01 09:00+02:00'); local time if no zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a time (example: 2026-05-01T09:00:00+00:00)") from None
    return value if value.tzinfo else value.astimezone()


def parse_until(text: str, option: str) -> datetime:
    """A time, or a duration from now ('2h')."""
    try:
        return datetime.now(timezone.utc) + parse_duration(text, option)
    except UsageError:
        return parse_when(text, option)


def parse_key_values(pairs: list[str], option: str) -> dict[str, Any]:
    """k=v pairs; a value that is valid JSON (20, true, [1,2], {"a":1}) keeps its type."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} {pair!r}: expected KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        result[key.strip()] = value
    return result


def parse_ids(values: list[str], option: str) -> list[int]:
    """Task ids from repeated options and/or comma-separated lists."""
    ids = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) <= 0:
                raise UsageError(f"{option}: {part!r} is not a task id")
            ids.append(int(part))
    return ids


def did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_task_id(value: str) -> int:
    ids = parse_ids([value], "task id")
    if len(ids) != 1:
        raise UsageError(f"expected one task id, not {value!r}")
    return ids[0]
