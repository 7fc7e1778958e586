"""What the pages and the API share: the server's state, errors as HTTP, JSON encoding."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..output import _json_default
from .auth import Auth, AuthError, Principal
from .db import Database
from .live import ChangeFeed
from ...worker.errors import (DatabaseUnavailable, IllegalTransition, MigrationError, PgswarmError, SchemaOutdated,
                              UnknownTask)


@dataclass
class Server:
    db: Database
    auth: Auth
    feed: ChangeFeed
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)


def server(request: Request) -> Server:
    return request.app.state.server  # type: ignore[no-any-return]


async def require(request: Request, scope: str) -> Principal:
    """The caller, if it may act with `scope`; AuthError 401/403 otherwise."""
    principal = await server(request).auth.principal(request)
    if principal is None:
        raise AuthError(401, "log in: send `Authorization: Bearer <token>` (pgswarm web token create --scope read)")
    if not principal.allows(scope):
        raise AuthError(403, f"the token {principal.name!r} has scope {principal.scope!r}; this needs {scope!r}")
    return principal


def http_status(exc: PgswarmError) -> int:
    """One mapping from the exception tree to HTTP, by type (never by class name)."""
    if isinstance(exc, (DatabaseUnavailable, SchemaOutdated, MigrationError)):
        return 503
    if isinstance(exc, UnknownTask):
        return 404
    if isinstance(exc, IllegalTransition):
        return 409
    return 400


def error_body(status: int, message: str, exc: PgswarmError | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "message": message}
    if exc is not None:
        body.update(sqlstate=exc.sqlstate, detail=exc.detail, hint=exc.hint)
    return {"error": body}


class Json(JSONResponse):
    """JSON with the CLI's encoding of timestamps (ISO 8601), intervals (seconds) and numerics."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_json_default, separators=(",", ":")).encode()


def json_error(status: int, message: str, exc: PgswarmError | None = None,
               headers: dict[str, str] | None = None) -> Json:
    return Json(error_body(status, message, exc), status_code=status, headers=headers)
