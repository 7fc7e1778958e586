"""Operations: migrate, stats, top, doctor, systemd."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Optional

import psycopg
import typer
from rich.text import Text

from .. import queries
from ..common import DsnOption, JsonOption, connect, dsn_for, open_connection, parse_duration
from ..output import console, duration, print_json, print_table
from ...worker.dsn import redact_dsn
from ...worker.errors import DatabaseUnavailable, UsageError


# -- migrate -------------------------------------------------------------------------------------------
def migrate(
    print_sql: Annotated[bool, typer.Option("--print", help="print every migration and sql/ file instead")] = False,
    public_names: Annotated[Optional[bool], typer.Option("--public-names/--no-public-names", show_default=False,
                                                         help="keep (default) or drop public.agent_tasks, which makes "
                                                         "`INSERT INTO agent_tasks` work unqualified; remembered by "
                                                         "the database")] = None,
    tenants: Annotated[Optional[bool], typer.Option("--tenants/--no-tenants", show_default=False, help="confine each "
                                                    "login holding only swarm_enqueue to the tasks it created "
                                                    "(row-level security; off by default; docs/security.md); "
                                                    "remembered by the database")] = None,
    dsn: DsnOption = None,
) -> None:
    """Install or upgrade the swarm schema (idempotent; safe with many workers starting at once)."""
    from ...client import migrate as installer

    if print_sql:
        sys.stdout.write(installer.print_all())
        return
    target = dsn_for(dsn)
    open_connection(target).close()  # a clear error for an unreachable database
    result = installer.migrate(target, public_names=public_names, tenants=tenants)
    if result.applied:
        print(f"applied {', '.join(result.applied)}; schema at version {result.schema_version}")
    else:
        print(f"schema already at version {result.schema_version}; functions and views refreshed")
    for warning in result.warnings:
        print(f"pgswarm: warning: {warning}", file=sys.stderr)
    if public_names is not None or result.applied:
        print("unqualified INSERT INTO agent_tasks: "
              + ("on (public.agent_tasks)" if result.public_names else "off (only swarm.agent_tasks)"))
    if tenants is not None:
        print("tenants: " + ("on (an enqueue login sees only the tasks it created)" if result.tenants
                             else "off (enqueue logins share the queue)"))


# -- stats ---------------------------------------------------------------------------------------------
def stats(
    since: Annotated[str, typer.Option("--since", help="window for throughput and latency (15m, 1h, 1d)")] = "1h",
    as_json: JsonOption = False,
    dsn: DsnOption = None,
) -> None:
    """Queue depth, agents, workers, throughput and latency (from the SQL views)."""
    window = parse_duration(since, "--since")
    if window <= timedelta(0):
        raise UsageError("--since must be positive")
    with connect(dsn) as conn:
        data = {"window": queries.window_stats(conn, window), "queues": queries.queue_stats(conn),
                "agents": queries.agent_stats(conn), "workers": queries.worker_stats(conn)}
    if as_json:
        print_json(data)
        return
    w = data["window"]
    console.print(f"[bold]last {since}[/bold]: created {w['created']}, completed {w['completed']}, failed "
                  f"{w['failed']}, retried {w['retried']}, cancelled {w['cancelled']}; "
                  f"{w['completed_per_minute']} completed/min; cost ${w['cost_usd']:.4f}")
    console.print(f"  wait p50/p95/p99 {w['wait_p50']}/{w['wait_p95']}/{w['wait_p99']} s; "
                  f"run p50/p95/p99 {w['run_p50']}/{w['run_p95']}/{w['run_p99']} s")
    print_table(data["queues"], ["queue", "agent", "status", "tasks", "claimable", "oldest_pending_age"],
                title="queues", empty="empty")
    active = [a for a in data["agents"] if a["running"] or a["pending"] or a["waiting"] or a["paused"]
              or a["completed_24h"] or a["failed_24h"]]
    print_table(active, ["agent", "running", "max_concurrent", "pending", "waiting", "paused", "pause_reason",
                         "success_rate_24h", "cost_usd_24h"], title="agents", empty="no activity in 24 h")
    print_table(data["workers"], ["worker", "hostname", "running", "concurrency", "alive", "heartbeat_age"],
                title="workers", empty="none running")


# -- top -----------------------------------------------------------------------------------------------
def top(
    interval: Annotated[float, typer.Option("--interval", "-i", help="seconds between refreshes")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="print one frame and exit")] = False,
    dsn: DsnOption = None,
) -> None:
    """A live dashboard (q quits): running tasks, agents (running/cap, paused and why), queues,
    workers, recent failures."""
    from .. import top as screen

    if interval <= 0:
        raise UsageError("--interval must be positive")
    target = dsn_for(dsn)
    with open_connection(target) as conn:
        if once:
            width, height = console.size
            console.print(screen.frame(screen.read(conn), target, width, max(height, 40)))
            return
        screen.run(conn, target, interval)


# -- doctor --------------------------------------------------------------------------------------------
AGENT_CLIS = {"claude": "claude", "codex": "codex", "gemini": "gemini", "aider": "aider", "opencode": "opencode",
              "cursor": "cursor-agent"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail | info
    detail: str


def _agent_cli_version(binary: str) -> str:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=15,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"found, but `{binary} --version` failed ({type(exc).__name__})"
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else f"exit code {done.returncode}"


def _doctor_checks(dsn: str) -> list[Check]:
    from ...worker.schema_files import required_schema_version

    checks: list[Check] = []
    try:
        conn = open_connection(dsn)
    except DatabaseUnavailable as exc:
        return [Check("database reachable", "fail", str(exc))]
    with conn:
        checks.append(Check("database reachable", "ok", f"{redact_dsn(dsn)} (PostgreSQL {queries.server_version(conn)})"))
        required = required_schema_version()
        version = queries.schema_version(conn)
        if version is None:
            checks.append(Check("schema current", "fail", "no swarm schema: run `pgswarm migrate`"))
            return checks
        if version < required:
            checks.append(Check("schema current", "fail",
                                f"schema is at {version:04d}, this pgswarm needs {required:04d}: run `pgswarm migrate`"))
        elif version > required:
            checks.append(Check("schema current", "warn",
                                f"schema is at {version:04d}, newer than this pgswarm ({required:04d}): upgrade pgswarm"))
        else:
            checks.append(Check("schema current", "ok", f"version {version:04d}"))
        checks.append(_check_listen(dsn, conn))

        t0 = time.time()
        db_now = queries.database_clock(conn)
        t1 = time.time()
        skew = db_now.timestamp() - (t0 + t1) / 2
        status = "ok" if abs(skew) < 2 else "warn" if abs(skew) < 30 else "fail"
        checks.append(Check("clock skew", status, f"database clock {skew:+.3f} s from this node "
                            "(leases and delays use the database clock)"))

        pending_agents = {q["agent"] for q in queries.queue_stats(conn) if q["status"] in ("pending", "running")}
        for agent, binary in AGENT_CLIS.items():
            path = shutil.which(binary)
            if path:
                checks.append(Check(f"agent {agent}", "ok", f"{path}: {_agent_cli_version(path)}"))
            elif agent in pending_agents:
                checks.append(Check(f"agent {agent}", "warn", f"`{binary}` not on PATH, but {agent} tasks are queued; "
                                    "a worker on another node must run them"))
            else:
                checks.append(Check(f"agent {agent}", "info", f"`{binary}` not on PATH"))

        stale = queries.stale_workers(conn)
        checks.append(Check("stale workers", "warn" if stale else "ok",
                            ", ".join(f"{w['worker']} (last heartbeat {duration(w['heartbeat_age'])} ago)"
                                      for w in stale) or "none"))
        quarantined = queries.quarantined_agents(conn)
        checks.append(Check("quarantined agents", "warn" if quarantined else "ok", "; ".join(
            f"{q['agent']} on {q['worker']} ({q['kind']}: {q['reason']}; probed again at "
            f"{q['retry_at'].astimezone():%H:%M:%S})" for q in quarantined) or "none (every live worker can run its agents)"))
        stuck = queries.stuck_tasks(conn)
        checks.append(Check("stuck tasks", "warn" if stuck else "ok",
                            "; ".join(f"#{t['id']} {t['status']} {t['agent']}: {t['why']}" for t in stuck) or "none"))
        bloat = queries.queue_table_bloat(conn)
        if bloat is not None:
            ratio = float(bloat["dead_ratio"] or 0)
            status = "warn" if ratio > 0.2 and bloat["n_dead_tup"] > 10_000 else "ok"
            vacuumed = bloat["last_autovacuum"] or bloat["last_vacuum"]
            checks.append(Check("queue table bloat", status,
                                f"{bloat['n_dead_tup']} dead / {bloat['n_live_tup']} live rows ({ratio:.0%}); "
                                f"last vacuum {vacuumed.astimezone():%Y-%m-%d %H:%M} " if vacuumed else
                                f"{bloat['n_dead_tup']} dead / {bloat['n_live_tup']} live rows ({ratio:.0%})"))
        usage = queries.notification_queue_usage(conn)
        checks.append(Check("notification queue", "ok" if usage < 0.1 else "warn" if usage < 0.5 else "fail",
                            f"{usage:.1%} used (a session that LISTENs but never reads holds it back)"))
    return checks


def _check_listen(dsn: str, conn: psycopg.Connection) -> Check:
    channel = f"pgswarm_doctor_{os.getpid()}"
    try:
        with open_connection(dsn) as listener:
            queries.listen(listener, channel)
            queries.notify(conn, channel, "ping")
            for note in listener.notifies(timeout=5.0, stop_after=1):
                if note.payload == "ping":
                    return Check("LISTEN/NOTIFY", "ok", "a notification arrived")
    except psycopg.Error as exc:
        return Check("LISTEN/NOTIFY", "fail", f"{exc}".strip().splitlines()[0])
    return Check("LISTEN/NOTIFY", "fail", "no notification within 5 s (a pooler in transaction mode drops LISTEN; "
                 "give workers a direct or session-mode DSN)")


def doctor(as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """Check the database, schema, LISTEN, agent CLIs, clock, workers, stuck tasks, bloat, notifications."""
    checks = _doctor_checks(dsn_for(dsn))
    if as_json:
        print_json([asdict(c) for c in checks])
    else:
        marks = {"ok": "[green]ok  [/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]",
                 "info": "[dim]-   [/dim]"}
        for c in checks:
            console.print(f"{marks[c.status]} {c.name:<20} ", Text(c.detail))
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


# -- systemd -------------------------------------------------------------------------------------------
def _pgswarm_command() -> list[str]:
    script = shutil.which("pgswarm")
    if script and Path(script).resolve().parent == Path(sys.executable).resolve().parent:
        return [str(Path(script).absolute())]
    venv_script = Path(sys.executable).parent / "pgswarm"
    if venv_script.exists():
        return [str(venv_script)]
    return [sys.executable, "-m", "pgswarm.cli.main"]


DOCUMENTATION = "https://github.com/pgswarm/pgswarm#run-workers-with-systemd"


def user_unit_dir() -> Path:
    """Where systemd looks for a user's units: $XDG_CONFIG_HOME/systemd/user (~/.config/...)."""
    config = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(config) if config else Path.home() / ".config") / "systemd" / "user"


def default_user_env_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(config) if config else Path.home() / ".config") / "pgswarm" / "worker.env"


def render_unit(*, agents: str | None, queues: str | None, concurrency: int, config: Path | None,
                allow_shell: bool, user: str | None, env_file: Path, grace: int, description: str,
                user_unit: bool = False) -> str:
    """A system unit (multi-user.target, EnvironmentFile holding PGSWARM_DSN) or, with user_unit,
    a user unit (default.target; the EnvironmentFile is optional: without a DSN the worker uses
    the user's embedded server)."""
    argv = [*_pgswarm_command(), "worker", "--concurrency", str(concurrency)]
    if agents:
        argv += ["--agents", agents]
    if queues:
        argv += ["--queues", queues]
    if config:
        argv += ["--config", str(config.absolute())]
    if allow_shell:
        argv.append("--allow-shell")
    argv += ["--shutdown-grace", str(grace)]
    if user_unit:
        header = ("# Written by `pgswarm systemd --user-unit`. A DSN, if any, lives in the EnvironmentFile "
                  "(PGSWARM_DSN=...);\n# without one the worker uses this user's embedded PostgreSQL.")
        environment = f"EnvironmentFile=-{env_file}"
        # The embedded PostgreSQL a worker starts runs in this unit's cgroup: with KillMode=mixed
        # systemd would kill it with the worker. The worker stops its agents itself on SIGTERM.
        kill = ["# SIGTERM reaches the worker only: it stops claiming, lets running agents finish for the grace",
                "# period and stops and releases the rest; an embedded PostgreSQL it started keeps running.",
                "KillMode=process"]
        target = "default.target"
    else:
        header = "# Written by `pgswarm systemd`. The DSN lives in the EnvironmentFile (PGSWARM_DSN=...), not here."
        environment = f"EnvironmentFile={env_file}"
        kill = ["# SIGTERM reaches the worker only: it stops claiming, lets running agents finish for the grace",
                "# period and releases the rest. The agents run in their own process groups under it.",
                "KillMode=mixed"]
        target = "multi-user.target"
    lines = [
        header,
        "[Unit]",
        f"Description={description}",
        f"Documentation={DOCUMENTATION}",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        *([f"User={user}"] if user and not user_unit else []),
        environment,
        f"ExecStart={shlex.join(argv)}",
        "Restart=on-failure",
        "RestartSec=5",
        *kill,
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={grace + 30}",
        "",
        "[Install]",
        f"WantedBy={target}",
        "",
    ]
    return "\n".join(lines)


def systemd(
    agents: Annotated[Optional[str], typer.Option("--agents", help="agents this worker runs (claude,shell)")] = None,
    queues: Annotated[Optional[str], typer.Option("--queues", help="queues this worker takes")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c")] = 4,
    config: Annotated[Optional[Path], typer.Option("--config", help="worker TOML file with agent profiles")] = None,
    allow_shell: Annotated[bool, typer.Option("--allow-shell", help="let the worker run shell tasks")] = False,
    user: Annotated[Optional[str], typer.Option("--user", help="system unit: run as this system user")] = None,
    user_unit: Annotated[bool, typer.Option("--user-unit", help="a user unit (systemctl --user), written to "
                                            "~/.config/systemd/user/NAME.service; works with the embedded "
                                            "default")] = False,
    env_file: Annotated[Optional[Path], typer.Option("--env-file", help="EnvironmentFile holding PGSWARM_DSN (default "
                                                     "/etc/pgswarm/worker.env; user unit: "
                                                     "~/.config/pgswarm/worker.env, optional)")] = None,
    grace: Annotated[int, typer.Option("--grace", help="seconds running agents get to finish on stop")] = 60,
    name: Annotated[str, typer.Option("--name", help="unit name")] = "pgswarm-worker",
    output: Annotated[Optional[Path], typer.Option("--output", "-o",
                                                   help="write the unit to this file ('-': print)")] = None,
    write: Annotated[bool, typer.Option("--write", help="write /etc/systemd/system/NAME.service")] = False,
) -> None:
    """Print (or write) a systemd unit for a worker: a system unit, or with --user-unit a user unit."""
    if concurrency < 1:
        raise UsageError(f"--concurrency {concurrency} must be at least 1")
    if grace < 0:
        raise UsageError(f"--grace {grace} must not be negative")
    if config is not None and not config.is_file():
        raise UsageError(f"--config {config}: no such file")
    if user_unit and user:
        raise UsageError("--user names the system user of a system unit; a --user-unit runs as you")
    if user_unit and write:
        raise UsageError("--write writes a system unit to /etc/systemd/system; a --user-unit is written to "
                         f"{user_unit_dir()} (or --output)")
    env = env_file or (default_user_env_file() if user_unit else Path("/etc/pgswarm/worker.env"))
    if not env.is_absolute():
        raise UsageError(f"--env-file {env}: systemd needs an absolute path")
    unit = render_unit(agents=agents, queues=queues, concurrency=concurrency, config=config, allow_shell=allow_shell,
                       user=user, env_file=env, grace=grace, description=f"pgswarm worker ({name})",
                       user_unit=user_unit)
    if user_unit:
        target: Path | None = output or user_unit_dir() / f"{name}.service"
    else:
        target = Path(f"/etc/systemd/system/{name}.service") if write else output
    if target is None or str(target) == "-":
        sys.stdout.write(unit)
        return
    if user_unit and output is None:
        target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {target}: folder {target.parent} does not exist")
    target.write_text(unit)
    print(f"wrote {target}")
    if user_unit:
        if not env.exists():
            print(f"the worker uses your embedded PostgreSQL; for another database put PGSWARM_DSN=postgresql://... "
                  f"into {env} (chmod 600)")
        print(f"then: systemctl --user daemon-reload && systemctl --user enable --now {target.stem}")
        print(f"to keep it running while you are logged out: loginctl enable-linger {os.environ.get('USER', '$USER')}")
        return
    if not env.exists():
        print(f"next: put PGSWARM_DSN=postgresql://... into {env} (chmod 600)")
    print(f"then: systemctl daemon-reload && systemctl enable --now {target.stem}")


def register_migrate(app: typer.Typer) -> None:
    app.command()(migrate)


def register(app: typer.Typer) -> None:
    for command in (stats, top, doctor, systemd):
        app.command()(command)
