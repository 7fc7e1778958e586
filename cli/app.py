"""The typer application: global options and one module per command group under commands/."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from .common import DSN_HELP, Settings

app = typer.Typer(
    name="pgswarm",
    help="pgswarm: a Postgres-native task queue for AI-agent work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # main.py prints errors: one line, no locals (they may hold passwords)
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"pgswarm {version('pgswarm')}")
        raise typer.Exit()


@app.callback()
def main_options(
    dsn: Annotated[Optional[str], typer.Option("--dsn", help=DSN_HELP, show_default=False)] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print the version")] = False,
) -> None:
    Settings.dsn = dsn
    Settings.debug = debug


def _register_all() -> None:
    from .commands import admin, agents, db, demo, mcp_command, schedules, tasks, web, worker

    admin.register_migrate(app)
    tasks.register(app)
    admin.register(app)
    worker.register(app)
    app.add_typer(agents.app, name="agents")
    app.add_typer(db.app, name="db")
    app.add_typer(web.app, name="web")
    app.add_typer(schedules.app, name="schedule")
    demo.register(app)
    mcp_command.register(app)


_register_all()
