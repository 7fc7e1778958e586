"""`pgswarm worker`: options in, a WorkerConfig out, then the worker package runs it."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pgswarm.cli.common import DsnOption, dsn_for


def _names(value: str | None, option: str) -> list[str] | None:
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise typer.BadParameter(f"{option} needs at least one name (comma-separated)")
    return names


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        dsn: Optional[str] = DsnOption,
        agents: Optional[str] = typer.Option(None, "--agents", help="agents to run, comma-separated "
                                             "(default: every agent with a profile; shell needs --allow-shell)"),
        queues: Optional[str] = typer.Option(None, "--queues", help="queues to take tasks from (default: all)"),
        concurrency: int = typer.Option(4, "--concurrency", "-c", help="attempts running at once"),
        config: Optional[Path] = typer.Option(None, "--config", help="TOML file overriding or adding agent profiles"),
        allow_shell: bool = typer.Option(False, "--allow-shell", help="run shell tasks (sh -c PROMPT)"),
        name: Optional[str] = typer.Option(None, "--name", help="worker name (default: HOST-PID)"),
        metrics_port: Optional[int] = typer.Option(None, "--metrics-port", help="serve Prometheus /metrics here"),
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
        from pgswarm.worker.config import WorkerConfig
        from pgswarm.worker.runner import run_worker

        if config is not None and not config.is_file():
            raise typer.BadParameter(f"config file {config} does not exist", param_hint="--config")
        settings = WorkerConfig(
            dsn=dsn_for(dsn), name=name, agents=_names(agents, "--agents"), queues=_names(queues, "--queues"),
            concurrency=concurrency, allow_shell=allow_shell, config_file=config, lease_seconds=lease_seconds,
            poll_interval=poll_interval, shutdown_grace=shutdown_grace, kill_grace=kill_grace, log_dir=log_dir,
            log_max_bytes=int(log_max_mb * 1024 * 1024), metrics_port=metrics_port)
        raise typer.Exit(run_worker(settings))
