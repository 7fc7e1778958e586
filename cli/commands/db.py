"""`pgswarm db status|start|stop|url`: the embedded default server."""
from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ...client.embedded import EmbeddedServer
from ..output import print_json
from ...worker.dsn import dsn_from_environment, redact_dsn

app = typer.Typer(help="The embedded PostgreSQL (used when no --dsn, PGSWARM_DSN or DATABASE_URL is set).",
                  no_args_is_help=True)


def _note_override() -> None:
    configured = dsn_from_environment(None)
    if configured:
        typer.echo(f"note: PGSWARM_DSN/DATABASE_URL is set ({redact_dsn(configured)}); commands use that, "
                   "not the embedded server", err=True)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Whether the embedded server runs, where its data lives, its DSN."""
    state = EmbeddedServer.default().status()
    if as_json:
        print_json(asdict(state))
        return
    _note_override()
    print(f"embedded PostgreSQL: {'running (pid %d)' % state.pid if state.running else 'stopped'}")
    print(f"data:  {state.data_dir}{'' if state.initialized else ' (not created yet)'}")
    print(f"dsn:   {state.dsn}")
    if not state.running:
        raise typer.Exit(3)


@app.command()
def start() -> None:
    """Start it (and create and migrate it on first use)."""
    server = EmbeddedServer.default()
    was_running = server.running_pid() is not None
    server.ensure_running()
    print(f"embedded PostgreSQL {'already running' if was_running else 'started'}: {server.dsn()}")


@app.command()
def stop() -> None:
    """Stop it (workers using it lose their connection and retry)."""
    stopped = EmbeddedServer.default().stop()
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@app.command()
def url() -> None:
    """Print its DSN (starting it if needed): psql "$(pgswarm db url)"."""
    print(EmbeddedServer.default().ensure_running())
