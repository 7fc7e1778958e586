"""`pgswarm worker`: options in, a WorkerConfig out, then the worker package runs it.

The options are checked before the database is touched, so a typo never starts the embedded
server; the DSN follows the CLI's rule (--dsn, PGSWARM_DSN, DATABASE_URL, else the embedded
server, started and migrated on first use).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

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
        dsn: Optional[str] = DsnOption,
        agent_dsn: Optional[str] = typer.Option(None, "--agent-dsn", envvar="PGSWARM_AGENT_DSN",
                                                help="the login agents get as PGSWARM_DSN (a role holding only "
                                                "swarm_agent; default: $PGSWARM_AGENT_DSN, the TOML file's "
                                                "agent_dsn, with the embedded server its own agent login, else none)"),
        agents: Optional[str] = typer.Option(None, "--agents", help="agents to run, comma-separated "
                                             "(default: every agent with a profile; shell needs --allow-shell)"),
        queues: Optional[str] = typer.Option(None, "--queues", help="queues to take tasks from (default: all)"),
        concurrency: int = typer.Option(4, "--concurrency", "-c", help="attempts running at once"),
        config: Optional[Path] = typer.Option(None, "--config", help="TOML file overriding or adding agent profiles"),
        allow_shell: bool = typer.Option(False, "--allow-shell", help="run shell tasks (sh -c PROMPT)"),
        allow_arg: list[str] = typer.Option([], "--allow-arg", help="run tasks whose args widen what the agent "
                                            "may do: NAME=VALUE (permission_mode=bypassPermissions) or NAME "
                                            "(any value); repeatable"),
        name: Optional[str] = typer.Option(None, "--name", help="worker name (default: HOST-PID)"),
        metrics_port: Optional[int] = typer.Option(None, "--metrics-port", help="serve Prometheus /metrics here"),
        metrics_host: str = typer.Option("127.0.0.1", "--metrics-host",
                                         help="address of the metrics endpoint (0.0.0.0: every interface)"),
        lease_seconds: int = typer.Option(60, "--lease-seconds", help="lease length; renewed every third of it"),
        poll_interval: float = typer.Option(5.0, "--poll-interval", help="seconds between fallback polls"),
        shutdown_grace: float = typer.Option(30.0, "--shutdown-grace",
                                             help="on SIGTERM, seconds running attempts get to finish"),
        kill_grace: float = typer.Option(5.0, "--kill-grace",
                                         help="seconds between the stop signals of an attempt (then SIGKILL)"),
        log_dir: Optional[Path] = typer.Option(None, "--log-dir", help="attempt logs (default: the state dir)"),
        log_max_mb: float = typer.Option(10.0, "--log-max-mb", help="size cap of one attempt's log"),
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
