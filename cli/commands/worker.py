"""`pgswarm worker`: options in, a WorkerConfig out, then the worker package runs it.

The options are checked before the database is touched, so a typo never starts the embedded
server; the DSN follows the CLI's rule (--dsn, PGSWARM_DSN, DATABASE_URL, else the embedded
server, started and migrated on first use).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import queries
from ..common import DsnOption, Settings, dsn_for, open_connection
from ...worker.dsn import dsn_from_environment, redact_dsn
from ...worker.errors import UsageError


def _names(value: str | None, option: str) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise UsageError(f"{option} {value!r}: name at least one (comma-separated), or leave the option out")
    return names


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        dsn: DsnOption = None,
        agent_dsn: Annotated[Optional[str], typer.Option("--agent-dsn", envvar="PGSWARM_AGENT_DSN", help="the login "
                                                         "agents get as PGSWARM_DSN (a role holding only swarm_agent; "
                                                         "default: $PGSWARM_AGENT_DSN, the TOML file's agent_dsn, with "
                                                         "the embedded server its own agent login, else none)")] = None,
        agents: Annotated[Optional[str], typer.Option("--agents", help="agents to run, comma-separated (default: every "
                                                      "agent with a profile; shell needs --allow-shell)")] = None,
        queues: Annotated[Optional[str], typer.Option("--queues",
                                                      help="queues to take tasks from (default: all)")] = None,
        concurrency: Annotated[int, typer.Option("--concurrency", "-c", help="attempts running at once")] = 4,
        config: Annotated[Optional[Path], typer.Option("--config",
                                                       help="TOML file overriding or adding agent profiles")] = None,
        allow_shell: Annotated[bool, typer.Option("--allow-shell", help="run shell tasks (sh -c PROMPT)")] = False,
        allow_arg: Annotated[list[str], typer.Option("--allow-arg", help="run tasks whose args widen what the agent "
                                                     "may do: NAME=VALUE (permission_mode=bypassPermissions) or NAME "
                                                     "(any value); repeatable")] = [],
        name: Annotated[Optional[str], typer.Option("--name", help="worker name (default: HOST-PID)")] = None,
        metrics_port: Annotated[Optional[int], typer.Option("--metrics-port",
                                                            help="serve Prometheus /metrics here")] = None,
        metrics_host: Annotated[str, typer.Option("--metrics-host", help="address of the metrics endpoint (0.0.0.0: "
                                                  "every interface)")] = "127.0.0.1",
        lease_seconds: Annotated[int, typer.Option("--lease-seconds",
                                                   help="lease length; renewed every third of it")] = 60,
        poll_interval: Annotated[float, typer.Option("--poll-interval", help="seconds between fallback polls")] = 5.0,
        shutdown_grace: Annotated[float, typer.Option("--shutdown-grace", help="on SIGTERM, seconds running attempts "
                                                      "get to finish")] = 30.0,
        kill_grace: Annotated[float, typer.Option("--kill-grace", help="seconds between the stop signals of an attempt "
                                                  "(then SIGKILL)")] = 5.0,
        log_dir: Annotated[Optional[Path], typer.Option("--log-dir",
                                                        help="attempt logs (default: the state dir)")] = None,
        log_max_mb: Annotated[float, typer.Option("--log-max-mb", help="size cap of one attempt's log")] = 10.0,
    ) -> int:
        """Claim tasks, run their agents, keep the leases, report back (until SIGTERM)."""
        from ...worker.config import WorkerConfig
        from ...worker.supervisor import run_worker

        if config is not None and not config.is_file():
            raise UsageError(f"--config {config}: no such file")
        if name is not None and not name.strip():
            raise UsageError("--name must not be empty")
        if log_max_mb <= 0:
            raise UsageError(f"--log-max-mb {log_max_mb:g} must be positive")
        if log_dir is not None and log_dir.exists() and not log_dir.is_dir():
            raise UsageError(f"--log-dir {log_dir} is not a folder")
        # Built without the DSN first: WorkerConfig checks the ranges before anything connects.
        settings = WorkerConfig(
            dsn="", name=name, agents=_names(agents, "--agents"), queues=_names(queues, "--queues"),
            concurrency=concurrency, allow_shell=allow_shell, allow_args=tuple(allow_arg), config_file=config, lease_seconds=lease_seconds,
            poll_interval=poll_interval, shutdown_grace=shutdown_grace, kill_grace=kill_grace, log_dir=log_dir,
            log_max_bytes=max(4096, int(log_max_mb * 1024 * 1024)), metrics_port=metrics_port,
            metrics_host=metrics_host)
        embedded = dsn_from_environment(dsn or Settings.dsn) is None
        target = dsn_for(dsn)
        open_connection(target).close()  # unreachable at start: one clear line, exit 3 (systemd restarts it)
        agents_login = _agent_dsn(agent_dsn, config, target, embedded)
        raise typer.Exit(run_worker(replace(settings, dsn=target, agent_dsn=agents_login)))


def _agent_dsn(flag: str | None, config: Path | None, worker_dsn: str, embedded: bool) -> str | None:
    """The login agents get (never the worker's): --agent-dsn, the TOML file's agent_dsn, or with the
    embedded server its agent login; checked to hold no more than an agent needs."""
    from ...worker.profiles.custom import worker_setting

    chosen = flag or worker_setting(config, "agent_dsn")
    if chosen is None:
        if not embedded:
            return None
        from ...client.embedded import EmbeddedServer

        server = EmbeddedServer.default()
        server.ensure_agent_login()
        chosen = server.agent_dsn()
    if chosen.strip() == worker_dsn.strip():
        raise UsageError("--agent-dsn is the worker's own DSN: agents would get the worker's login; give them "
                         "a login holding only the role swarm_agent (README: What agents are given)")
    with open_connection(chosen) as conn:
        problem = queries.agent_login_problem(conn)
    if problem:
        raise UsageError(f"--agent-dsn {redact_dsn(chosen)}: {problem}; agents get a login holding only the role "
                         "swarm_agent (README: What agents are given)")
    return chosen
