"""Entry point: runs the typer app; the only place that prints errors.

User errors and PgswarmError: one line on stderr, `pgswarm: error: ...`, and the error's exit code
(2 for bad input and unknown ids, 3 database unavailable, 4 schema missing or outdated).
Tracebacks only with --debug (or PGSWARM_DEBUG=1).
"""
from __future__ import annotations

import os
import sys
import traceback

import psycopg
import typer

from ..client.connection import map_error
from ..worker.errors import PgswarmError, describe


def _click_modules() -> list[object]:
    """Typer >= 0.20 vendors click as typer._click; older typer uses click itself."""
    modules = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            modules.append(__import__(name, fromlist=["UsageError"]))
        except ImportError:
            pass
    return modules


def _click_class(name: str) -> tuple[type[BaseException], ...]:
    return tuple(getattr(m, name) for m in _click_modules() if hasattr(m, name))


def _fail(message: str, code: int) -> int:
    line = " ".join(message.split())
    print(f"pgswarm: {line}" if line.startswith("cannot connect") else f"pgswarm: error: {line}", file=sys.stderr)
    return code


def _handle(exc: BaseException) -> int:
    """The exit code for an exception, after printing its one line."""
    if isinstance(exc, PgswarmError):
        return _fail(str(exc), exc.exit_code)
    if isinstance(exc, _click_class("NoArgsIsHelpError")):  # `pgswarm db`: the help, once
        # Building the exception rendered the help; with rich markup it is already printed and the
        # message is empty, so asking the context for it again would print it twice.
        message = exc.format_message()  # type: ignore[attr-defined]
        if message.strip():
            print(message, file=sys.stderr)
        return 2
    if isinstance(exc, _click_class("UsageError")):
        ctx = getattr(exc, "ctx", None)
        path = ctx.command_path if ctx is not None else "pgswarm"
        prefix = f"{path.removeprefix('pgswarm ')}: " if path != "pgswarm" else ""
        hint = ""
        if path.endswith(" add") and isinstance(exc, _click_class("NoSuchOption")):
            hint = " (a prompt that starts with '-' goes after `--`: pgswarm add [OPTIONS] -- '-x ...')"
        return _fail(prefix + exc.format_message() + hint, 2)  # type: ignore[attr-defined]
    if isinstance(exc, _click_class("ClickException")):
        return _fail(exc.format_message(), exc.exit_code)  # type: ignore[attr-defined]
    if isinstance(exc, (*_click_class("Abort"), typer.Abort, KeyboardInterrupt)):
        print("pgswarm: interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, psycopg.Error):
        mapped = map_error(exc)  # the engine's SW errors, and a schema never migrated (exit 4)
        if mapped is not None:
            return _fail(str(mapped), mapped.exit_code)
        if isinstance(exc, psycopg.OperationalError):
            return _fail(f"database connection lost: {describe(exc)}", 3)
        return _fail(f"database error: {describe(exc)}", 1)
    if isinstance(exc, OSError):
        return _fail(f"{exc.strerror or describe(exc)}{': ' + str(exc.filename) if exc.filename else ''}", 1)
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else 1
    return _fail(f"{describe(exc)} (internal error; rerun with --debug for the traceback)", 1)


# Options of `pgswarm add` that take no value: the word after them may be the prompt.
_ADD_FLAGS = frozenset({"--json", "--debug"})


def _dash_prompt_after_double_dash(argv: list[str]) -> list[str]:
    """`pgswarm add '- [ ] x'`: a word that starts with '-' but holds a space is no option, so it
    is the prompt; it moves after `--`, where click reads it as the PROMPT argument."""
    words = [i for i, word in enumerate(argv) if not word.startswith("-")]
    if not words or argv[words[0]] != "add" or "--" in argv:
        return argv
    start = words[0] + 1
    prompts = [i for i in range(start, len(argv))
               if argv[i].startswith("-") and any(c.isspace() for c in argv[i])
               and (i == start or not argv[i - 1].startswith("-") or "=" in argv[i - 1] or argv[i - 1] in _ADD_FLAGS)]
    if len(prompts) != 1:
        return argv
    return [*argv[:prompts[0]], *argv[prompts[0] + 1:], "--", argv[prompts[0]]]


def run(argv: list[str]) -> int:
    from .app import app

    argv = _dash_prompt_after_double_dash(argv)
    debug = bool(os.environ.get("PGSWARM_DEBUG")) or "--debug" in argv
    try:
        result = app(args=argv, prog_name="pgswarm", standalone_mode=False)
    except BaseException as exc:
        if debug and not isinstance(exc, SystemExit):
            traceback.print_exc()
        return _handle(exc)
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
