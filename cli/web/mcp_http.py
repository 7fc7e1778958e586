"""MCP over streamable HTTP at /mcp: the tools of `pgswarm mcp` for assistants that reach pgswarm
over the network instead of spawning it.

Only bearer tokens (no browser cookie, no open local reads: an MCP client is a program). A `read`
token gets the read tools (get_task, list_tasks, wait_for_task, queue_stats); an `enqueue` or
`admin` token all of them, as on the REST API. Without the [mcp] extra the route answers 501 and
says what to install.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope as AsgiScope, Send

from .auth import Auth, AuthError

PATH = "/mcp"
READ_TOOLS = frozenset({"get_task", "list_tasks", "wait_for_task", "queue_stats"})


def sdk_installed() -> bool:
    return importlib.util.find_spec("mcp") is not None


class McpEndpoint:
    """An ASGI app: authenticates, then hands the request to the server of the caller's scope. The
    SDK is imported and its servers started on the first request, so `pgswarm web` starts as fast
    without it."""

    def __init__(self, auth: Auth, dsn: str, host: str) -> None:
        self.auth = auth
        self.dsn = dsn
        self.host = host
        self.apps: dict[str, Any] = {}
        self._started = asyncio.Lock()
        self._managers = contextlib.AsyncExitStack()

    async def _start(self) -> None:
        async with self._started:
            if self.apps:
                return
            from ..mcp_server import TOOLS, Scope, build_server

            apps = {}
            for scope, tools in (("read", READ_TOOLS), ("enqueue", frozenset(TOOLS))):
                server = build_server(Scope(tools=tools), dsn=self.dsn)
                apps[scope] = server.streamable_http_app(streamable_http_path=PATH, host=self.host)
                await self._managers.enter_async_context(server.session_manager.run())
            self.apps = apps

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the web server's lifespan: stops the SDK's session managers at shutdown."""
        async with self._managers:
            yield

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if not sdk_installed():
            await JSONResponse({"error": "MCP over HTTP needs the [mcp] extra: pip install 'pgswarm[mcp]'"},
                               status_code=501)(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            if not request.headers.get("authorization"):
                raise AuthError(401, "send a token as `Authorization: Bearer pgsw_...` (pgswarm web token create)")
            principal = await self.auth.principal(request)
            assert principal is not None  # a header was sent: a principal or AuthError
        except AuthError as exc:
            await JSONResponse({"error": exc.message}, status_code=exc.status)(scope, receive, send)
            return
        await self._start()
        app = self.apps["enqueue" if principal.allows("enqueue") else "read"]
        await app(scope, receive, send)
