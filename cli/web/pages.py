"""The dashboard's pages: server-rendered HTML (jinja2) with a little JavaScript (static/live.js)
that follows /api/v1/events and re-fetches the fragment a page shows when its tasks change.

Forms post back here (never to the JSON API), carry the CSRF token, and redirect (303) to the
page they came from; a refusal by the engine renders its message with the HTTP status the API
would use.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from .. import queries
from ..common import parse_until
from ..output import duration, shorten
from . import enqueue as actions, forms, graph, transcript
from .api import task_detail
from .auth import COOKIE, AuthError, Principal
from .common import require, server
from ...worker.errors import UsageError

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
OVERVIEW_CACHE_SECONDS = 1.0


def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _ago(value: datetime | None) -> str:
    if value is None:
        return ""
    delta = datetime.now(timezone.utc) - value
    return ("in " + duration(-delta)) if delta < timedelta(0) else duration(delta) + " ago"


def _seconds(value: Any) -> str:
    if value is None:
        return "–"
    return duration(timedelta(seconds=float(value)))


def _money(value: Any) -> str:
    return "" if value is None else f"${Decimal(value):.4f}"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


templates.env.filters.update(when=_when, ago=_ago, dur=lambda v: duration(v) if v is not None else "",
                             secs=_seconds, money=_money, short=lambda t, n=60: shorten(t, n), pretty=_pretty)
templates.env.globals.update(STATUSES=forms.STATUSES, now_utc=lambda: datetime.now(timezone.utc))


async def _page(request: Request, scope: str = "read") -> Principal | Response:
    """The caller, or a redirect to the login page (no credentials) / a 403 page."""
    try:
        return await require(request, scope)
    except AuthError as exc:
        if exc.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        raise


def render(request: Request, name: str, principal: Principal | None, status: int = 200, **context: Any) -> Response:
    auth = server(request).auth
    return templates.TemplateResponse(request, name, {
        "principal": principal, "csrf": auth.csrf_token(principal), "cursor": server(request).feed.cursor,
        **context}, status_code=status)


async def _form(request: Request, principal: Principal) -> dict[str, str]:
    """An urlencoded form body (the pages send nothing else), after the CSRF check."""
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = dict(parse_qsl(body, keep_blank_values=True))
    server(request).auth.check_csrf(request, principal, fields.get("csrf"))
    return fields


def _back(path: str, note: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'note': note})}", status_code=303)


# -- overview ------------------------------------------------------------------------------------------
def overview_data(conn: Any) -> dict[str, Any]:
    """One refresh of the overview: seven statements on one connection (bench/web.py measures it)."""
    return {
        "cursor": queries.event_cursor(conn),
        "agents": queries.agent_stats(conn),
        "queues": queries.queue_depth(conn),
        "workers": queries.worker_stats(conn),
        "window": queries.window_stats(conn, timedelta(hours=1)),
        "failures": queries.recent_failures(conn, 8),
        "latest": queries.latest_tasks(conn, 12),
    }


async def _overview_fragment(request: Request) -> str:
    """The overview's live part, rendered once per change and second for every open page."""
    state = server(request)
    key = f"overview:{state.feed.cursor}"
    cached = state.cache.get("overview")
    if cached and cached[1][0] == key and cached[0] > time.monotonic():
        return str(cached[1][1])
    data = await state.db.run(overview_data)
    html = templates.get_template("_overview.html").render(**data)
    state.cache["overview"] = (time.monotonic() + OVERVIEW_CACHE_SECONDS, (key, html))
    return html


async def overview(request: Request) -> Response:
    principal = await _page(request)
    if isinstance(principal, Response):
        return principal
    return render(request, "overview.html", principal, fragment=await _overview_fragment(request))


async def overview_fragment(request: Request) -> Response:
    await require(request, "read")
    return HTMLResponse(await _overview_fragment(request))


# -- tasks ---------------------------------------------------------------------------------------------
async def _task_list(request: Request) -> dict[str, Any]:
    q = forms.task_query(request.query_params, request.query_params.getlist)
    before, limit = forms.paging(request.query_params)
    page = await server(request).db.run(queries.task_page, q, before, limit)
    base = forms.query_params(q)
    return {"q": q, "page": page, "before": before, "filters": base,
            "filter_query": urlencode(base),
            "next_url": f"/tasks?{urlencode([*base, ('before', page.next_before)])}" if page.next_before else None,
            "agents": await server(request).db.run(queries.agent_names)}


async def task_list(request: Request) -> Response:
    principal = await _page(request)
    if isinstance(principal, Response):
        return principal
    return render(request, "tasks.html", principal, **await _task_list(request))


async def task_list_fragment(request: Request) -> Response:
    await require(request, "read")
    return HTMLResponse(templates.get_template("_task_rows.html").render(**await _task_list(request)))


def _task_view(conn: Any, task_id: int) -> dict[str, Any]:
    detail = task_detail(conn, task_id)
    detail["graph"] = graph.render(queries.dependency_graph(conn, task_id), task_id)
    detail["output"] = transcript.read_output(conn, task_id, None)
    return detail


def _task_id(request: Request) -> int:
    raw = str(request.path_params["task_id"])
    if not raw.isdigit() or not 0 < int(raw) < 2 ** 63:
        raise UsageError(f"{raw!r} is not a task id")
    return int(raw)


async def task_page(request: Request) -> Response:
    principal = await _page(request)
    if isinstance(principal, Response):
        return principal
    view = await server(request).db.run(_task_view, _task_id(request))
    return render(request, "task.html", principal, **view, note=request.query_params.get("note"))


async def task_fragment(request: Request) -> Response:
    principal = await require(request, "read")
    view = await server(request).db.run(_task_view, _task_id(request))
    return render(request, "_task.html", principal, **view)


async def task_action(request: Request) -> Response:
    action = request.path_params["action"]
    scope = {"cancel": "enqueue", "retry": "admin", "priority": "admin"}.get(action)
    if scope is None:
        raise UsageError(f"unknown action {action!r}")
    principal = await require(request, scope)
    fields = await _form(request, principal)
    task_id = _task_id(request)
    db = server(request).db
    if action == "cancel":
        reason = fields.get("reason") or f"cancelled from pgswarm web by {principal.name}"
        status = await db.run(actions.cancel, task_id, reason)
        note = "cancellation requested; its worker stops it" if status == "running" else f"task {status}"
    elif action == "retry":
        note = f"task {await db.run(actions.retry, task_id)}"
    else:
        raw = fields.get("priority", "").strip()
        try:
            priority = int(raw)
        except ValueError:
            raise UsageError(f"priority: {raw!r} is not a whole number") from None
        await db.run(queries.set_priority, task_id, priority)
        note = f"priority set to {priority}"
    return _back(f"/tasks/{task_id}", note)


async def bulk(request: Request) -> Response:
    """Two steps: the count of tasks a bulk action would touch, then (confirm=yes) the action."""
    principal = await require(request, "admin")
    fields = await _form(request, principal)
    action = fields.get("action", "")
    if action not in queries.BULK_STATUSES:
        raise UsageError(f"action: {action!r} is not cancel or retry")
    filters = [(k, v) for k, v in parse_qsl(fields.get("filters", ""), keep_blank_values=False)]
    statuses = [v for k, v in filters if k == "status"]
    q = forms.task_query(dict(filters), lambda _: statuses)
    if q.is_empty():
        raise UsageError("choose at least one filter before acting on tasks in bulk")
    db = server(request).db
    if fields.get("confirm") != "yes":
        matching = await db.run(queries.bulk_count, action, q)
        return render(request, "bulk_confirm.html", principal, action=action, matching=matching,
                      filters=fields.get("filters", ""), statuses=queries.BULK_STATUSES[action])
    counts = await db.run(queries.bulk_apply, action, q, f"cancelled in bulk from pgswarm web by {principal.name}")
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no task matched"
    return RedirectResponse(f"/tasks?{fields.get('filters', '')}&{urlencode({'note': f'{action}: {summary}'})}",
                            status_code=303)


# -- agents --------------------------------------------------------------------------------------------
async def agents_page(request: Request) -> Response:
    principal = await _page(request)
    if isinstance(principal, Response):
        return principal
    rows = await server(request).db.run(queries.agents)
    return render(request, "agents.html", principal, agents=rows, note=request.query_params.get("note"))


async def agent_action(request: Request) -> Response:
    principal = await require(request, "admin")
    fields = await _form(request, principal)
    name = str(request.path_params["name"])
    db = server(request).db
    if request.path_params["action"] == "pause":
        until = fields.get("until", "").strip()
        moment = parse_until(until, "until") if until else None
        await db.run(queries.pause_agent, name, moment, fields.get("reason") or f"paused by {principal.name}")
        note = f"{name} paused" + (f" until {_when(moment)} UTC" if moment else " until resumed")
    elif request.path_params["action"] == "resume":
        await db.run(queries.resume_agent, name)
        note = f"{name} resumed"
    else:
        raise UsageError(f"unknown action {request.path_params['action']!r}")
    return _back("/agents", note)


# -- login ---------------------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only a path on this server (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login_page(request: Request) -> Response:
    return render(request, "login.html", None, next=_safe_next(request.query_params.get("next")), error=None,
                  local_reads=server(request).auth.local_reads)


async def login(request: Request) -> Response:
    fields = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise AuthError(403, f"cross-origin login from {origin} refused")
    token = fields.get("token", "").strip()
    found = await server(request).auth.lookup(token, "cookie") if token else None
    if found is None:
        return render(request, "login.html", None, status=401, next=_safe_next(fields.get("next")),
                      error="That token is unknown, revoked or expired.", local_reads=server(request).auth.local_reads)
    response = RedirectResponse(_safe_next(fields.get("next")), status_code=303)
    response.set_cookie(COOKIE, token, max_age=7 * 86400, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def logout(request: Request) -> Response:
    principal = await require(request, "read")
    await _form(request, principal)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


routes = [
    Route("/", overview, methods=["GET"]),
    Route("/fragments/overview", overview_fragment, methods=["GET"]),
    Route("/tasks", task_list, methods=["GET"]),
    Route("/fragments/tasks", task_list_fragment, methods=["GET"]),
    Route("/tasks/bulk", bulk, methods=["POST"]),
    Route("/tasks/{task_id}", task_page, methods=["GET"]),
    Route("/fragments/tasks/{task_id}", task_fragment, methods=["GET"]),
    Route("/tasks/{task_id}/{action}", task_action, methods=["POST"]),
    Route("/agents", agents_page, methods=["GET"]),
    Route("/agents/{name}/{action}", agent_action, methods=["POST"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
