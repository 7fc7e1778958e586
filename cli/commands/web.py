"""`pgswarm web`: the dashboard, the REST API, SSE and /metrics in one process; `pgswarm web
token create|list|revoke`: its bearer tokens (stored hashed in swarm.web_tokens)."""
from __future__ import annotations

import secrets
import socket
import sys
from typing import Annotated, Optional

import typer

from .. import queries
from ..common import DsnOption, JsonOption, connect, db_errors, dsn_for, open_connection, parse_until
from ..output import print_json, print_table
from ...worker.dsn import redact_dsn
from ...client.connection import mapped_errors
from ...worker.errors import UsageError
from ...worker.schema_files import required_schema_version

app = typer.Typer(help="The dashboard and REST API (pgswarm web), and its tokens (pgswarm web token ...).",
                  no_args_is_help=False)
token_app = typer.Typer(help="Bearer tokens of pgswarm web: create, list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")

WEB_MODULES = ("starlette", "uvicorn", "jinja2", "psycopg_pool")


def missing_web_modules() -> list[str]:
    import importlib.util

    missing = []
    for name in WEB_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _check_port(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from None


@app.callback(invoke_without_command=True)
def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="address to listen on (0.0.0.0: every interface)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="port to listen on")] = 8765,
    local_reads: Annotated[bool, typer.Option("--local-reads", help="let clients on this machine (loopback) read "
                                              "without a token")] = False,
    dsn: DsnOption = None,
) -> None:
    """Serve the dashboard, the REST API (/api/v1), live updates (SSE) and /metrics."""
    if ctx.invoked_subcommand is not None:
        return
    missing = missing_web_modules()
    if missing:
        raise UsageError(f"pgswarm web needs {', '.join(missing)}: pip install 'pgswarm[web]'")
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} must be 1-65535")
    target = dsn_for(dsn)
    with open_connection(target) as conn, mapped_errors():  # a clear error now rather than a 503 later
        queries.require_schema(conn, required_schema_version())
    _check_port(host, port)
    from ..web.app import WebConfig, serve

    shown = f"[{host}]" if ":" in host else host
    print(f"pgswarm web: http://{shown}:{port}/ on {redact_dsn(target)}"
          f"{'; readers on this machine need no token' if local_reads else ''} (Ctrl-C stops)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print("pgswarm web: listening beyond this machine: every request needs a token (use HTTPS in front of it)",
              file=sys.stderr, flush=True)
    serve(WebConfig(dsn=target, host=host, port=port, local_reads=local_reads))


@token_app.command("create")
def token_create(
    scope: Annotated[str, typer.Option("--scope", "-s", help="read | enqueue (read + add and cancel tasks) | admin")],
    name: Annotated[Optional[str], typer.Option("--name", "-n",
                                                help="a name to list and revoke it by (default: SCOPE-random)")] = None,
    expires: Annotated[Optional[str], typer.Option("--expires",
                                                   help="stop working after this long (30d) or at a time")] = None,
    as_json: JsonOption = False,
    dsn: DsnOption = None,
) -> None:
    """Make a token and print it (once: only its hash is stored)."""
    if scope not in ("read", "enqueue", "admin"):
        raise UsageError(f"--scope {scope!r} is not read, enqueue or admin")
    name = name or f"{scope}-{secrets.token_hex(3)}"
    until = parse_until(expires, "--expires") if expires else None
    with connect(dsn) as conn, db_errors():
        token = queries.create_web_token(conn, name, scope, until)
    if as_json:
        print_json({"name": name, "scope": scope, "expires_at": until, "token": token})
        return
    print(token)
    print(f"pgswarm: token {name!r} (scope {scope}) is shown only now; send it as `Authorization: Bearer ...` "
          f"or paste it into the dashboard's login page", file=sys.stderr)


@token_app.command("list")
def token_list(as_json: JsonOption = False, dsn: DsnOption = None) -> None:
    """The tokens (never their text): name, scope, made, last used, revoked."""
    with connect(dsn) as conn:
        rows = queries.web_tokens(conn)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["name", "scope", "created_at", "created_by", "expires_at", "last_used_at", "revoked_at"],
                    empty="no tokens (pgswarm web token create --scope read)")


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")], dsn: DsnOption = None) -> None:
    """Revoke a token (a running server honours it within 10 s)."""
    with connect(dsn) as conn, db_errors():
        at = queries.revoke_web_token(conn, name)
    print(f"token {name!r} revoked at {at:%Y-%m-%d %H:%M:%S %Z}")
