"""The Starlette application and the uvicorn server of `pgswarm web`."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import api, pages
from .auth import Auth, AuthError
from .mcp_http import PATH as MCP_PATH, McpEndpoint
from .common import Server, error_body, http_status, json_error
from .db import Database
from .live import ChangeFeed
from ...worker.errors import PgswarmError

log = logging.getLogger("pgswarm.web")
HERE = Path(__file__).parent


@dataclass(frozen=True)
class WebConfig:
    dsn: str
    host: str = "127.0.0.1"
    port: int = 8765
    local_reads: bool = False
    poll_seconds: float = 1.0


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/metrics", "/healthz") or path.startswith("/fragments/")


def _error_page(request: Request, status: int, message: str, exc: PgswarmError | None = None) -> Response:
    if _wants_json(request):
        headers = {"WWW-Authenticate": 'Bearer realm="pgswarm"'} if status == 401 else None
        return json_error(status, message, exc, headers)
    return pages.render(request, "error.html", None, status=status, status_code=status, message=message,
                        hint=exc.hint if exc else None, sqlstate=exc.sqlstate if exc else None)


async def _pgswarm_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PgswarmError)
    return _error_page(request, http_status(exc), str(exc), exc)


async def _auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    return _error_page(request, exc.status, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "no such page", 405: "method not allowed"}.get(exc.status_code, str(exc.detail))
    return _error_page(request, exc.status_code, message)


def create_app(config: WebConfig, stop_server: Any = None) -> Starlette:
    db = Database(config.dsn)
    state = Server(db=db, auth=Auth(db, config.local_reads), feed=ChangeFeed(db, config.poll_seconds))
    mcp = McpEndpoint(state.auth, config.dsn, config.host)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(db.open)
        feed = asyncio.create_task(state.feed.run(), name="web-feed")

        def supervise(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                log.error("event=background_task_died task=%s error=%r; stopping the server",
                          task.get_name(), task.exception())
                if stop_server is not None:
                    stop_server()

        feed.add_done_callback(supervise)
        try:
            async with mcp.running():
                yield
        finally:
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feed
            await asyncio.to_thread(db.close)

    app = Starlette(
        routes=[*api.routes, *pages.routes, Route(MCP_PATH, mcp, methods=["GET", "POST", "DELETE"]), Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")],
        exception_handlers={PgswarmError: _pgswarm_error, AuthError: _auth_error, HTTPException: _http_error},
        lifespan=lifespan,
        max_body_size=16 * 1024 * 1024,
    )
    app.state.server = state
    return app


def serve(config: WebConfig) -> None:
    """Run until SIGINT/SIGTERM (uvicorn's handlers)."""
    server: uvicorn.Server | None = None

    def stop() -> None:
        if server is not None:
            server.should_exit = True

    app = create_app(config, stop)
    server = uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=3, lifespan="on"))
    server.run()


__all__ = ["WebConfig", "create_app", "serve", "error_body"]
