"""Who is asking, and may they: bearer tokens, the browser's cookie, CSRF, open local reads.

- API clients send `Authorization: Bearer pgsw_...` (a token from `pgswarm web token create`).
- A browser logs in once with a token; it is kept in an HttpOnly, SameSite=Strict cookie. Every
  form the pages render carries a CSRF token (an HMAC of the cookie under a per-process secret),
  and an unsafe request authenticated by the cookie is refused without it (or from another origin).
- With `--local-reads`, a client on the loopback interface may read without a token.
Scopes nest: read < enqueue (add and cancel tasks) < admin (everything else).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request

from .. import queries
from .db import Database
from .forms import SCOPES

COOKIE = "pgswarm_token"
CACHE_SECONDS = 10.0  # a revoked token may work this long on a running server
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Principal:
    name: str
    scope: str
    via: str  # bearer | cookie | local
    token: str | None = None

    def allows(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


class AuthError(Exception):
    """401 (no or bad credentials) or 403 (a scope too small, a missing CSRF token)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Auth:
    def __init__(self, db: Database, local_reads: bool) -> None:
        self.db = db
        self.local_reads = local_reads
        self._secret = secrets.token_bytes(32)
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def lookup(self, token: str, via: str) -> Principal | None:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            found = cached[1]
        else:
            row = await self.db.run(queries.web_token_scope, token)
            found = Principal(row["name"], row["scope"], via) if row else None
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now + CACHE_SECONDS, found)
        return None if found is None else Principal(found.name, found.scope, via, token)

    async def principal(self, request: Request) -> Principal | None:
        """The caller, or None when it sent no credentials (and local reads do not apply).
        Raises AuthError(401) for a token that does not work."""
        header = request.headers.get("authorization", "")
        if header:
            kind, _, token = header.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                raise AuthError(401, "send the token as `Authorization: Bearer pgsw_...`")
            found = await self.lookup(token.strip(), "bearer")
            if found is None:
                raise AuthError(401, "the token is unknown, revoked or expired")
            return found
        cookie = request.cookies.get(COOKIE)
        if cookie:
            found = await self.lookup(cookie, "cookie")
            if found is not None:
                return found
        if self.local_reads and is_loopback(request.client.host if request.client else None):
            return Principal("local", "read", "local")
        return None

    def csrf_token(self, principal: Principal | None) -> str:
        if principal is None or principal.token is None:
            return ""
        return hmac.new(self._secret, principal.token.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, request: Request, principal: Principal, submitted: str | None) -> None:
        """Unsafe requests that ride on the browser's cookie need the page's CSRF token and, when
        the browser names one, our own origin."""
        if principal.via != "cookie" or request.method in SAFE_METHODS:
            return
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise AuthError(403, f"cross-origin request from {origin} refused")
        expected = self.csrf_token(principal)
        offered = submitted or request.headers.get("x-csrf-token") or ""
        if not expected or not hmac.compare_digest(expected, offered):
            raise AuthError(403, "the form's CSRF token is missing or stale; reload the page and try again")
