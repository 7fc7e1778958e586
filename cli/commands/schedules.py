"""`pgswarm schedule`: cron schedules (rows of swarm.schedules) that enqueue a task per slot.

The engine checks each schedule, keeps next_fire_at and fires the slots (workers call
swarm.fire_schedules()); these commands only write rows and read them back.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Optional, TypeVar

import psycopg
import typer

from .. import queries
from ..common import DsnOption, JsonOption, connect, db_errors, did_you_mean, parse_duration, parse_key_values
from ..output import print_json, print_table, shorten
from ...worker.errors import InvalidArgument, TaskError, UnknownAgent, UsageError, describe

app = typer.Typer(help="Cron schedules: a task enqueued at each slot, exactly once.", invoke_without_command=True,
                  no_args_is_help=False)
T = TypeVar("T")


@contextmanager
def _engine_errors(conn: psycopg.Connection, name: str, agent: str | None = None) -> Iterator[None]:
    """The engine's refusals as one-line errors that name the schedule."""
    try:
        with db_errors():
            yield
    except InvalidArgument as exc:
        if exc.sqlstate != "23505":  # unique_violation: the only unique column is the name
            raise
        raise UsageError(f"schedule {name!r} already exists; remove it first (`pgswarm schedule rm {name}`) "
                         "or pick another name") from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise TaskError(describe(exc), hint=exc.diag.message_hint, sqlstate=exc.sqlstate) from None
    except UnknownAgent as exc:
        if agent is None:
            raise
        known = queries.agent_names(conn)
        raise UnknownAgent(f"unknown agent {agent!r}{did_you_mean(agent, known)}; known agents: {', '.join(known)}",
                           hint=exc.hint, sqlstate=exc.sqlstate) from exc


def _unknown(conn: psycopg.Connection, name: str) -> UsageError:
    known = queries.schedule_names(conn)
    listing = f"; schedules: {', '.join(known)}" if known else "; there are no schedules"
    return UsageError(f"unknown schedule {name!r}{did_you_mean(name, known)}{listing}")


def _on_existing(dsn: str | None, name: str, change: Callable[[psycopg.Connection], T | None]) -> T:
    """Apply a change to schedule `name`; an unknown name is a clear error."""
    with connect(dsn) as conn:
        with _engine_errors(conn, name):
            result = change(conn)
        if result is None or result is False:
            raise _unknown(conn, name)
        return result


def _next(row: dict[str, Any]) -> str:
    if not row["enabled"]:
        return "paused"
    if row["next_fire_local"] is None:
        return "never (see last_error)"
    return f"{row['next_fire_local']} {row['timezone']}"


@app.callback()
def default(ctx: typer.Context, as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """Without a subcommand: the list."""
    if ctx.invoked_subcommand is None:
        list_schedules(as_json=as_json, dsn=dsn)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="schedule name: letters, digits, '.', '_' and '-'")],
    cron: Annotated[str, typer.Argument(help="five fields or @hourly/@daily/@weekly/@monthly/@yearly, quoted: '*/15 "
                                        "9-17 * * MON-FRI'")],
    prompt: Annotated[str, typer.Argument(help="the instruction each task gets (shell: the command line)")],
    agent: Annotated[Optional[str], typer.Option("--agent", "-a",
                                                 help="agent profile (default: the database's default agent)")] = None,
    tz: Annotated[str, typer.Option("--tz", help="time zone of the cron fields (an IANA name: Europe/Berlin)")] = "UTC",
    queue: Annotated[str, typer.Option("--queue", "-q")] = "default",
    arg: Annotated[list[str], typer.Option("--arg",
                                           help="profile parameter KEY=VALUE (model=sonnet, max_turns=20)")] = [],
    catch_up: Annotated[str, typer.Option("--catch-up", help="after downtime: latest (one task for the missed slots), "
                                          "all (one per missed slot), none")] = "latest",
    priority: Annotated[int, typer.Option("--priority", "-p", help="higher runs first (-1000..1000)")] = 0,
    timeout: Annotated[Optional[str], typer.Option("--timeout",
                                                   help="wall-clock limit per attempt (default 30m)")] = None,
    max_attempts: Annotated[int, typer.Option("--max-attempts", help="attempts before a task fails")] = 3,
    concurrency_key: Annotated[Optional[str], typer.Option("--concurrency-key",
                                                           help="at most one running task per key")] = None,
    tag: Annotated[list[str], typer.Option("--tag", "-t", help="tag of each task (repeatable)")] = [],
    paused: Annotated[bool, typer.Option("--paused",
                                         help="create it paused (`pgswarm schedule resume` starts it)")] = False,
    as_json: JsonOption = False,
    dsn: DsnOption = None,
) -> None:
    """Create a schedule: at each slot of CRON (in --tz) a task runs PROMPT."""
    template: dict[str, Any] = {"args": parse_key_values(arg, "--arg"), "queue": queue, "catch_up": catch_up,
                                "priority": priority, "max_attempts": max_attempts, "tags": list(tag),
                                "concurrency_key": concurrency_key, "enabled": not paused}
    if agent is not None:
        template["agent"] = agent
    if timeout is not None:
        template["timeout_seconds"] = int(parse_duration(timeout, "--timeout").total_seconds())
    with connect(dsn) as conn:
        with _engine_errors(conn, name, agent):
            row = queries.add_schedule(conn, name, cron, tz, prompt, template)
    if as_json:
        print_json(row)
        return
    print(f"schedule {row['name']}: {row['cron']} ({row['timezone']}), agent {row['agent']}, queue {row['queue']}; "
          f"next: {_next(row)}")


@app.command("ls")
def list_schedules(as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """Schedules with their next and last slots."""
    with connect(dsn) as conn:
        rows = queries.schedules(conn)
    if as_json:
        print_json(rows)
        return
    view = [{**r, "tz": r["timezone"], "next": _next(r), "last_slot": r["last_fired_at"],
             "prompt": shorten(r["prompt"], 40), "last_error": shorten(r["last_error"], 50)} for r in rows]
    print_table(view, ["name", "cron", "tz", "agent", "next", "last_slot", "last_task_id", "catch_up", "prompt",
                       "last_error"], empty="no schedules (add one: pgswarm schedule add NAME CRON PROMPT)")


@app.command("rm")
def remove(name: Annotated[str, typer.Argument()], dsn: DsnOption = None) -> None:
    """Drop a schedule (tasks it already enqueued stay)."""
    _on_existing(dsn, name, lambda conn: queries.remove_schedule(conn, name))
    print(f"schedule {name} removed")


@app.command("pause")
def pause(name: Annotated[str, typer.Argument()], dsn: DsnOption = None) -> None:
    """Stop enqueueing a schedule's slots (slots that pass while paused are not made up)."""
    _on_existing(dsn, name, lambda conn: queries.set_schedule_enabled(conn, name, False))
    print(f"schedule {name} paused")


@app.command("resume")
def resume(name: Annotated[str, typer.Argument()], dsn: DsnOption = None) -> None:
    """Start a paused schedule again, from its next slot after now."""
    row = _on_existing(dsn, name, lambda conn: queries.set_schedule_enabled(conn, name, True))
    print(f"schedule {name} resumed; next: {_next(row)}")


@app.command("run")
def run(name: Annotated[str, typer.Argument()], as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """Enqueue the schedule's task now, once (its slots are unchanged); prints the task id."""
    with connect(dsn) as conn:
        if name not in queries.schedule_names(conn):
            raise _unknown(conn, name)
        with _engine_errors(conn, name):
            task_id = queries.run_schedule(conn, name)
    if as_json:
        print_json({"id": task_id})
    else:
        print(task_id)
