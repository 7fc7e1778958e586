"""`pgswarm agents`: list profiles, register one, set caps/rate/budget, pause and resume."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Optional

import psycopg
import typer

from .. import queries
from ..common import DsnOption, JsonOption, connect, did_you_mean, parse_until
from ..output import print_json, print_table, shorten
from ...worker.errors import UnknownAgent, UsageError

app = typer.Typer(help="Agent profiles: caps, rates, budgets, pauses.", invoke_without_command=True,
                  no_args_is_help=False)
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
NONE_WORDS = ("none", "off", "null", "unlimited")


def _require_agent(conn: psycopg.Connection, name: str) -> None:
    if not queries.agent_exists(conn, name):
        known = queries.agent_names(conn)
        raise UnknownAgent(f"unknown agent {name!r}{did_you_mean(name, known)}; known agents: {', '.join(known)}")


def _count(value: str | None, option: str) -> int | None:
    """A non-negative integer, or none/off for no limit."""
    if value is None or value.lower() in NONE_WORDS:
        return None
    if not value.isdigit():
        raise UsageError(f"{option} {value!r}: expected a whole number, or 'none' for no limit")
    return int(value)


def _money(value: str | None, option: str) -> Decimal | None:
    if value is None or value.lower() in NONE_WORDS:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise UsageError(f"{option} {value!r}: expected an amount in USD, or 'none'") from None
    if amount < 0 or not amount.is_finite():
        raise UsageError(f"{option} {value!r} must not be negative")
    return amount


def _settings(description: str | None, max_concurrent: str | None, rate: str | None, budget: str | None,
              backoff_base: str | None, backoff_max: str | None, breaker: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if description is not None:
        settings["description"] = description
    if max_concurrent is not None:
        settings["max_concurrent"] = _count(max_concurrent, "--max-concurrent")
    if rate is not None:
        settings["max_starts_per_minute"] = _count(rate, "--rate")
    if budget is not None:
        settings["daily_budget_usd"] = _money(budget, "--budget")
    if backoff_base is not None:
        base = _count(backoff_base, "--backoff-base")
        if not base:
            raise UsageError("--backoff-base must be a positive number of seconds")
        settings["retry_backoff_base_seconds"] = base
    if backoff_max is not None:
        top = _count(backoff_max, "--backoff-max")
        if not top:
            raise UsageError("--backoff-max must be a positive number of seconds")
        settings["retry_backoff_max_seconds"] = top
    if breaker is not None:
        threshold = _count(breaker, "--breaker-threshold")
        if threshold == 0:
            raise UsageError("--breaker-threshold must be at least 1, or 'off'")
        settings["breaker_threshold"] = threshold
    return settings


MaxConcurrent = Annotated[Optional[str], typer.Option("--max-concurrent",
                                                      help="cluster-wide cap on running tasks (or 'none')")]
Rate = Annotated[Optional[str], typer.Option("--rate", help="max starts per minute (or 'none')")]
Budget = Annotated[Optional[str], typer.Option("--budget", help="daily budget in USD (or 'none')")]
BackoffBase = Annotated[Optional[str], typer.Option("--backoff-base", help="retry backoff base, seconds")]
BackoffMax = Annotated[Optional[str], typer.Option("--backoff-max", help="retry backoff cap, seconds")]
Breaker = Annotated[Optional[str], typer.Option("--breaker-threshold",
                                                help="consecutive failures that pause the agent (or 'off')")]


@app.callback()
def default(ctx: typer.Context, as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """Without a subcommand: the list."""
    if ctx.invoked_subcommand is None:
        list_agents(as_json=as_json, dsn=dsn)


@app.command("list")
def list_agents(as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """Agents with running/cap, rate, pause, breaker, 24 h results and cost."""
    with connect(dsn) as conn:
        rows = queries.agents(conn)
    if as_json:
        print_json(rows)
        return
    view = [{**r, "running/cap": f"{r['running']}/{r['max_concurrent'] if r['max_concurrent'] is not None else '∞'}",
             "rate/min": r["max_starts_per_minute"] or "",
             "paused": (f"until {r['paused_until']:%Y-%m-%d %H:%M}: {shorten(r['pause_reason'], 30)}"
                        if r["paused"] else ""),
             "failures": f"{r['consecutive_failures']}/{r['breaker_threshold'] or '-'}",
             "budget/day": f"${r['cost_usd_today']:.2f}/{r['daily_budget_usd']}" if r["daily_budget_usd"] is not None
             else ""} for r in rows]
    print_table(view, ["agent", "running/cap", "pending", "waiting", "rate/min", "paused", "failures",
                       "completed_24h", "failed_24h", "budget/day"])


@app.command("add")
def add_agent(
    name: Annotated[str, typer.Argument(help="profile name (lowercase letters, digits, - and _)")],
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    max_concurrent: MaxConcurrent = None, rate: Rate = None, budget: Budget = None,
    backoff_base: BackoffBase = None, backoff_max: BackoffMax = None,
    breaker: Breaker = None,
    dsn: DsnOption = None,
) -> None:
    """Register an agent profile (the worker's TOML file says how to run it)."""
    if not NAME.match(name):
        raise UsageError(f"agent name {name!r}: use lowercase letters, digits, - and _, starting with a letter")
    settings = _settings(description, max_concurrent, rate, budget, backoff_base, backoff_max, breaker)
    with connect(dsn) as conn:
        if queries.agent_exists(conn, name):
            raise UsageError(f"agent {name!r} already exists; change it with `pgswarm agents set {name} ...`")
        queries.add_agent(conn, name, settings)
    print(f"agent {name} registered")


@app.command("set")
def set_agent(
    name: Annotated[str, typer.Argument()],
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    max_concurrent: MaxConcurrent = None, rate: Rate = None, budget: Budget = None,
    backoff_base: BackoffBase = None, backoff_max: BackoffMax = None,
    breaker: Breaker = None,
    dsn: DsnOption = None,
) -> None:
    """Change an agent's caps, rate, budget, backoff or breaker."""
    settings = _settings(description, max_concurrent, rate, budget, backoff_base, backoff_max, breaker)
    if not settings:
        raise UsageError("nothing to set: give --max-concurrent, --rate, --budget, --backoff-base, --backoff-max, "
                         "--breaker-threshold or --description")
    with connect(dsn) as conn:
        _require_agent(conn, name)
        queries.set_agent(conn, name, settings)
    print(f"agent {name}: " + ", ".join(f"{k} = {'none' if v is None else v}" for k, v in settings.items()))


@app.command("pause")
def pause(
    name: Annotated[str, typer.Argument()],
    until: Annotated[Optional[str], typer.Option("--until", help="a time, or a duration from now (2h); default: until "
                                                 "resumed")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", "-r")] = None,
    dsn: DsnOption = None,
) -> None:
    """Stop workers everywhere from starting this agent's tasks (running ones finish)."""
    when = parse_until(until, "--until") if until else None
    with connect(dsn) as conn:
        _require_agent(conn, name)
        queries.pause_agent(conn, name, when, reason)
    print(f"agent {name} paused" + (f" until {when.astimezone():%Y-%m-%d %H:%M:%S %Z}" if when else "")
          + (f": {reason}" if reason else ""))


@app.command("resume")
def resume(name: Annotated[str, typer.Argument()], dsn: DsnOption = None) -> None:
    """Lift a pause (manual, usage limit or circuit breaker)."""
    with connect(dsn) as conn:
        _require_agent(conn, name)
        queries.resume_agent(conn, name)
    print(f"agent {name} resumed")
