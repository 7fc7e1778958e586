"""`pgswarm demo`: the whole system in under half a minute, on the embedded default database.

It enqueues a small pipeline (research -> three parts implemented in parallel -> test -> review)
in one transaction for a simulated agent (`pgswarm.cli.demo_agent`, a real process that prints
Claude-style JSON with costs, one step failing once), runs a real `pgswarm worker` with
concurrency 3 as a subprocess, shows the tasks move, and sums up what happened.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .. import queries
from ..common import DsnOption, Settings, dsn_for, open_connection
from ..output import shorten, status_text
from ...client import Client, TaskSpec
from ...worker.dsn import redact_dsn
from ...worker.errors import UsageError

AGENT = "demo"
TERMINAL = ("completed", "failed", "cancelled")
# (step, prompt, the steps it runs after)
PIPELINE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("research", "Research why sessions expire early: read auth/session.py and the cache settings", ()),
    ("implement-cache", "Implement a sliding expiry in the session cache", ("research",)),
    ("implement-api", "Add a /session/refresh endpoint [flaky]", ("research",)),
    ("implement-docs", "Document the new session lifetime settings", ("research",)),
    ("test", "Write and run tests for session refresh and sliding expiry",
     ("implement-cache", "implement-api", "implement-docs")),
    ("review", "Review the whole change and summarise it for the pull request", ("test",)),
)
WORKER_CONFIG = """\
# The demo's simulated agent: the built-in claude profile (argv, JSON parsing) with another program.
[profiles.demo]
base = "claude"
command = [{python}, "-m", "pgswarm.cli.demo_agent"]
worktree = false
"""


def _enqueue(conn: psycopg.Connection, run: str) -> dict[str, int]:
    """The whole pipeline in one transaction: either every step is queued or none."""
    specs = [TaskSpec(prompt, agent=AGENT, ref=step, depends_on=after, key=f"demo-{run}-{step}", max_attempts=3,
                      timeout=120, tags=("demo", run), metadata={"step": step}) for step, prompt, after in PIPELINE]
    with conn.transaction():
        queries.ensure_agent(conn, AGENT, "pgswarm demo: a simulated agent")
        # A quick retry for the flaky step, so the tour stays short.
        queries.set_agent(conn, AGENT, {"retry_backoff_base_seconds": 1, "retry_backoff_max_seconds": 2})
        client = Client(conn=conn)
        client.resume_agent(AGENT)
        done = client.enqueue_many(specs)
    return {step: task.id for (step, _, _), task in zip(PIPELINE, done)}


def _tasks(conn: psycopg.Connection, ids: dict[str, int]) -> list[dict[str, Any]]:
    return queries.demo_tasks(conn, list(ids.values()))


def _note(task: dict[str, Any]) -> str:
    """Why a task that already ran is pending again: its last error, and that a retry follows."""
    if task["status"] == "pending" and task["attempts"] > 0 and task["error"]:
        return f"retry scheduled after: {shorten(task['error'], 100)}"
    return ""


def _render(tasks: list[dict[str, Any]], elapsed: float) -> Table:
    view = Table(title=f"pgswarm demo: {elapsed:4.1f}s", title_justify="left")
    for column in ("id", "step", "status", "attempts", "cost", "note"):
        view.add_column(column)
    for task in tasks:
        cost = f"${task['cost_usd']:.4f}" if task["cost_usd"] is not None else ""
        view.add_row(str(task["id"]), task["step"], status_text(task["status"]), str(task["attempts"]), cost,
                     Text(_note(task), style="yellow"))
    return view


def _follow(conn: psycopg.Connection, ids: dict[str, int], worker: subprocess.Popen[bytes], worker_log: Path,
            deadline: float, console: Console) -> list[dict[str, Any]]:
    """Show progress until every step has finished (a live table on a terminal, lines otherwise)."""
    started = time.monotonic()
    seen: dict[int, tuple[str, int]] = {}
    live = Live(console=console, refresh_per_second=8, transient=False) if console.is_terminal else None
    if live:
        live.start()
    try:
        while True:
            tasks = _tasks(conn, ids)
            elapsed = time.monotonic() - started
            if live:
                live.update(_render(tasks, elapsed))
            else:
                for task in tasks:
                    state = (task["status"], task["attempts"])
                    if seen.get(task["id"]) != state:
                        seen[task["id"]] = state
                        note = _note(task)
                        print(f"{elapsed:5.1f}s  {task['step']:<16} {task['status']:<9} attempt {task['attempts']}"
                              + (f"  ({note})" if note else ""), flush=True)
            if all(task["status"] in TERMINAL for task in tasks):
                return tasks
            if worker.poll() is not None:
                print(f"pgswarm: error: the demo worker exited with code {worker.returncode}; its log: {worker_log}",
                      file=sys.stderr)
                raise typer.Exit(1)
            if time.monotonic() > deadline:
                print(f"pgswarm: error: the demo did not finish within --timeout ({deadline - started:.0f} s); its "
                      f"unfinished tasks are cancelled (see `pgswarm ls --tag demo`, the worker's log: {worker_log})",
                      file=sys.stderr)
                raise typer.Exit(1)
            time.sleep(0.2)
    finally:
        if live:
            live.stop()


def _cancel_unfinished(conn: psycopg.Connection, ids: dict[str, int]) -> None:
    try:
        queries.cancel_unfinished(conn, list(ids.values()), "pgswarm demo stopped early")
    except psycopg.Error:
        pass  # the database went away; the tasks stay as they are


def _parallelism(conn: psycopg.Connection, ids: dict[str, int]) -> int:
    """The most attempts that ran at the same moment, from the claimed/finished events."""
    running = most = 0
    for change in queries.attempt_starts_and_ends(conn, list(ids.values())):
        running += change
        most = max(most, running)
    return most


def _summary(conn: psycopg.Connection, ids: dict[str, int], tasks: list[dict[str, Any]], wall: float, dsn: str,
             dsn_flag: str | None, console: Console) -> None:
    retries = sum(max(0, t["attempts"] - 1) for t in tasks)
    cost = sum(float(t["cost_usd"] or 0) for t in tasks)
    tokens_in, tokens_out, run_seconds = queries.tokens_and_run_time(conn, list(ids.values()))
    completed = sum(t["status"] == "completed" for t in tasks)
    first, last = min(ids.values()), max(ids.values())
    console.print(f"\n[bold]{completed} of {len(tasks)} tasks completed in {wall:.1f}s[/bold]")
    console.print(f"  parallelism: up to {_parallelism(conn, ids)} agents at once (worker concurrency 3)")
    console.print(f"  retries:     {retries} (the flaky step failed once and passed on retry)")
    console.print(f"  cost:        ${cost:.4f}, {tokens_in:,} input and {tokens_out:,} output tokens")
    console.print(f"  agent time:  {float(run_seconds):.1f}s of work in {wall:.1f}s of wall time")
    where = _psql_target(dsn_flag)
    cli = "pgswarm" + (f" --dsn '{redact_dsn(dsn)}'" if dsn_flag else "")
    console.print("\nLook further:", soft_wrap=True)
    console.print(f"  {cli} ls --tag demo\n  {cli} show {ids['implement-api']}    # the retried step: events, log tail\n"
                  f"  {cli} stats\n  psql {where} -c 'select * from swarm.queue_stats'\n"
                  f"  psql {where} -c \"select id, status, attempts, cost_usd, result->>'text' as result "
                  f"from swarm.agent_tasks where id between {first} and {last} order by id\"",
                  soft_wrap=True, highlight=False, markup=False)
    console.print("\nWatch it in a browser (dashboard, REST API, live updates):", soft_wrap=True)
    console.print(f"  {cli} web --local-reads    # then open http://127.0.0.1:8765/\n"
                  f"  {cli} web token create --scope admin    # a token to cancel, retry and pause from the page",
                  soft_wrap=True, highlight=False, markup=False)


def _psql_target(dsn_flag: str | None) -> str:
    """How the user names this database to psql: the embedded server's URL, or where the DSN came from."""
    if dsn_flag:
        return f"'{redact_dsn(dsn_flag)}'"
    for name in ("PGSWARM_DSN", "DATABASE_URL"):
        if os.environ.get(name, "").strip():
            return f'"${name}"'
    return '"$(pgswarm db url)"'


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(dsn: DsnOption = None,
             timeout: Annotated[float, typer.Option("--timeout", help="give up after this many seconds")] = 90) -> None:
        """A newcomer's tour: a small agent pipeline runs through a real worker in under 30 s."""
        from ...client.migrate import migrate

        if timeout <= 0:
            raise UsageError(f"--timeout {timeout:g} must be a positive number of seconds")
        target = dsn_for(dsn)
        open_connection(target).close()
        migrate(target)
        console = Console()
        run = uuid.uuid4().hex[:8]
        workdir = Path(tempfile.mkdtemp(prefix="pgswarm-demo-"))
        config = workdir / "worker.toml"
        config.write_text(WORKER_CONFIG.format(python=json.dumps(sys.executable)))  # a TOML basic string
        log_path = workdir / "worker.log"
        started = time.monotonic()
        with open_connection(target) as conn:
            ids = _enqueue(conn, run)
            console.print(f"Enqueued a {len(ids)}-step pipeline (research -> 3 parallel parts -> test -> review) "
                          f"for the simulated agent; starting a worker with concurrency 3.", soft_wrap=True)
            with open(log_path, "wb") as log:
                # The DSN goes through the environment, never argv: `ps` shows argv to every user.
                worker = subprocess.Popen(
                    [sys.executable, "-m", "pgswarm.cli.main", "worker", "--agents", AGENT,
                     "--concurrency", "3", "--config", str(config), "--name", f"demo-{run}", "--poll-interval", "1",
                     "--shutdown-grace", "5", "--log-dir", str(workdir / "logs")],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env={**os.environ, "PGSWARM_DSN": target})
            tasks: list[dict[str, Any]] = []
            try:
                tasks = _follow(conn, ids, worker, log_path, started + timeout, console)
            finally:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
                    try:
                        worker.wait(30)
                    except subprocess.TimeoutExpired:
                        worker.kill()
                        worker.wait()
                if not tasks:  # interrupted or gave up: leave nothing behind for the next demo's worker
                    _cancel_unfinished(conn, ids)
            _summary(conn, ids, tasks, time.monotonic() - started, target, dsn or Settings.dsn, console)
        if any(t["status"] != "completed" for t in tasks):
            raise typer.Exit(1)
