"""The REST API under /api/v1 (described in openapi.py), the SSE streams and /metrics.

Every route is a thin face over cli/queries.py and the engine's functions: it checks the
caller's scope, reads its input through forms.py and maps errors through common.http_status.
"""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .. import queries
from ..common import parse_duration, parse_until
from . import enqueue as actions, forms, metrics, transcript
from .common import Json, require, server
from .enqueue import enqueue_batch
from .openapi import spec
from ...worker.errors import InvalidArgument, UnknownAgent, UnknownTask, UsageError

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"the request body is not JSON ({exc})") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UsageError("the request body must be a JSON object")
    return body


def _task_id(request: Request) -> int:
    raw = request.path_params["task_id"]
    if not raw.isdigit() or int(raw) <= 0 or int(raw) >= 2 ** 63:
        raise UsageError(f"{raw!r} is not a task id")
    return int(raw)


def task_detail(conn: Any, task_id: int) -> dict[str, Any]:
    """Everything the task page and GET /api/v1/tasks/{id} show, in one pooled connection."""
    task = queries.get_task(conn, task_id)
    if task is None:
        raise UnknownTask(f"task {task_id} not found", sqlstate="SW002")
    return {
        "task": task,
        "why_pending": queries.why_pending(conn, task_id) if task["status"] in ("waiting", "pending") else [],
        "dependencies": queries.dependencies(conn, task_id),
        "dependents": queries.dependents(conn, task_id),
        "children": queries.children(conn, task_id),
        "attempts": queries.task_attempts(conn, task_id),
        "events": queries.task_events(conn, task_id),
        "progress": transcript.progress(task),
    }


async def list_tasks(request: Request) -> Response:
    await require(request, "read")
    q = forms.task_query(request.query_params, request.query_params.getlist)
    before, limit = forms.paging(request.query_params)
    page = await server(request).db.run(queries.task_page, q, before, limit)
    return Json({"tasks": page.rows, "next_before": page.next_before, "searched_down_to": page.scanned_to})


async def create_tasks(request: Request) -> Response:
    await require(request, "enqueue")
    specs = forms.enqueue_request(await _json_body(request))
    try:
        ids = await server(request).db.run(enqueue_batch, specs)
    except (UnknownTask, UnknownAgent) as exc:  # in a body these are bad input, not a missing resource
        raise InvalidArgument(str(exc), hint=exc.hint, detail=exc.detail, sqlstate=exc.sqlstate) from exc
    return Json({"ids": ids, "tasks": [{"id": i, "key": spec.key} for i, spec in zip(ids, specs)]},
                status_code=201)


async def get_task(request: Request) -> Response:
    await require(request, "read")
    return Json(await server(request).db.run(task_detail, _task_id(request)))


async def task_events(request: Request) -> Response:
    await require(request, "read")
    task_id = _task_id(request)

    def read(conn: Any) -> list[dict[str, Any]]:
        if queries.get_task(conn, task_id) is None:
            raise UnknownTask(f"task {task_id} not found", sqlstate="SW002")
        return queries.task_events(conn, task_id)

    return Json({"events": await server(request).db.run(read)})


async def cancel_task(request: Request) -> Response:
    principal = await require(request, "enqueue")
    body = _object(await _json_body(request))
    reason = body.get("reason") or f"cancelled from pgswarm web by {principal.name}"
    if not isinstance(reason, str):
        raise UsageError("reason: expected a string")
    status = await server(request).db.run(actions.cancel, _task_id(request), reason)
    return Json({"id": _task_id(request), "status": status, "cancel_requested": status == "running"})


async def retry_task(request: Request) -> Response:
    await require(request, "admin")
    status = await server(request).db.run(actions.retry, _task_id(request))
    return Json({"id": _task_id(request), "status": status})


async def set_priority(request: Request) -> Response:
    await require(request, "admin")
    body = _object(await _json_body(request))
    priority = body.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise UsageError(f"priority: expected a whole number from -1000 to 1000, got {priority!r}")
    status = await server(request).db.run(queries.set_priority, _task_id(request), priority)
    return Json({"id": _task_id(request), "status": status, "priority": priority})


async def bulk(request: Request) -> Response:
    principal = await require(request, "admin")
    body = _object(await _json_body(request))
    action = body.get("action")
    if action not in queries.BULK_STATUSES:
        raise UsageError(f"action: {action!r} is not 'cancel' or 'retry'")
    raw_filter = body.get("filter")
    if not isinstance(raw_filter, dict):
        raise UsageError("filter: expected an object (status, agent, queue, tag, parent, q, from, to); "
                         "{\"all\": true} for every task")
    everything = raw_filter.pop("all", False) is True
    unknown = sorted(set(raw_filter) - {"status", "agent", "queue", "tag", "parent", "q", "from", "to"})
    if unknown:
        raise UsageError(f"filter: unknown field {unknown[0]!r}")
    statuses = raw_filter.get("status")
    q = forms.task_query({k: v for k, v in raw_filter.items() if k != "status"},
                         lambda _: statuses if isinstance(statuses, list) else [statuses or ""])
    if q.is_empty() and not everything:
        raise UsageError("filter: empty; to act on every task say {\"all\": true}")
    db = server(request).db
    if body.get("dry_run"):
        return Json({"action": action, "matching": await db.run(queries.bulk_count, action, q)})
    reason = body.get("reason") or f"cancelled in bulk from pgswarm web by {principal.name}"
    counts = await db.run(queries.bulk_apply, action, q, reason if action == "cancel" else None)
    return Json({"action": action, "statuses": counts, "tasks": sum(counts.values())})


async def stats(request: Request) -> Response:
    await require(request, "read")
    since = request.query_params.get("since", "1h")
    window = parse_duration(since, "since")
    if window <= timedelta(0):
        raise UsageError("since: must be positive")

    def read(conn: Any) -> dict[str, Any]:
        return {"window": queries.window_stats(conn, window), "queues": queries.queue_stats(conn),
                "agents": queries.agent_stats(conn), "workers": queries.worker_stats(conn)}

    return Json(await server(request).db.run(read))


async def list_agents(request: Request) -> Response:
    await require(request, "read")
    return Json({"agents": await server(request).db.run(queries.agents)})


def _agent(request: Request) -> str:
    return str(request.path_params["name"])


async def pause_agent(request: Request) -> Response:
    await require(request, "admin")
    body = _object(await _json_body(request))
    until = body.get("until")
    reason = body.get("reason")
    if until is not None and not isinstance(until, str):
        raise UsageError("until: expected a time (ISO 8601) or a duration from now (2h)")
    if reason is not None and not isinstance(reason, str):
        raise UsageError("reason: expected a string")
    moment = parse_until(until, "until") if until else None
    try:
        await server(request).db.run(queries.pause_agent, _agent(request), moment, reason)
    except UnknownAgent as exc:
        raise UnknownTaskOrAgent(str(exc)) from exc
    return Json({"agent": _agent(request), "paused": True, "until": moment})


async def resume_agent(request: Request) -> Response:
    await require(request, "admin")
    try:
        await server(request).db.run(queries.resume_agent, _agent(request))
    except UnknownAgent as exc:
        raise UnknownTaskOrAgent(str(exc)) from exc
    return Json({"agent": _agent(request), "paused": False})


class UnknownTaskOrAgent(UnknownTask):
    """a resource named in the path does not exist (HTTP 404)"""


async def events(request: Request) -> Response:
    """SSE: which tasks changed, as they change (id = the event cursor; Last-Event-ID resumes)."""
    await require(request, "read")
    raw = request.headers.get("last-event-id") or request.query_params.get("since")
    after = int(raw) if raw and raw.isdigit() else None
    feed = server(request).feed
    return StreamingResponse(_until_disconnected(request, feed.subscribe(after)), media_type="text/event-stream",
                             headers=SSE_HEADERS)


async def _until_disconnected(request: Request, source: Any) -> Any:
    try:
        async for chunk in source:
            yield chunk
            if await request.is_disconnected():
                break
    finally:
        await source.aclose()


async def task_output(request: Request) -> Response:
    """SSE: the task's output (event `output`, data {"text", "replace"}), then `end` when the
    task has finished. Resumes from Last-Event-ID."""
    await require(request, "read")
    task_id = _task_id(request)
    db, feed = server(request).db, server(request).feed
    first = await db.run(transcript.read_output, task_id, request.headers.get("last-event-id"))
    if first is None:
        raise UnknownTask(f"task {task_id} not found", sqlstate="SW002")

    async def stream() -> Any:
        output = first
        changes = feed.changes(None)
        try:
            while True:
                if output.text or output.replace:
                    data = json.dumps({"text": output.text, "replace": output.replace})
                    yield f"id: {output.cursor}\nevent: output\ndata: {data}\n\n"
                if output.finished:
                    yield "event: end\ndata: {}\n\n"
                    return
                async for change in changes:  # until this task changes
                    if await request.is_disconnected():
                        return
                    if change is None:
                        yield ": keep-alive\n\n"
                    elif change.overflow or task_id in change.task_ids:
                        break
                output = await db.run(transcript.read_output, task_id, output.cursor)
                assert output is not None
        finally:
            await changes.aclose()

    return StreamingResponse(stream(), media_type="text/event-stream", headers=SSE_HEADERS)


async def openapi(request: Request) -> Response:
    return Json(spec())


async def prometheus(request: Request) -> Response:
    await require(request, "read")
    snapshot = await server(request).db.run(queries.metrics_snapshot)
    return PlainTextResponse(metrics.render(snapshot), media_type="text/plain; version=0.0.4; charset=utf-8")


async def healthz(request: Request) -> Response:
    try:
        await asyncio.wait_for(server(request).db.run(queries.event_cursor), 5)
    except Exception as exc:  # any failure is "not healthy"; the message says which
        return Json({"ok": False, "database": str(exc)}, status_code=503)
    return Json({"ok": True})


routes = [
    Route("/api/v1/tasks", list_tasks, methods=["GET"]),
    Route("/api/v1/tasks", create_tasks, methods=["POST"]),
    Route("/api/v1/tasks/bulk", bulk, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/events", task_events, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/output", task_output, methods=["GET"]),
    Route("/api/v1/tasks/{task_id}/cancel", cancel_task, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}/retry", retry_task, methods=["POST"]),
    Route("/api/v1/tasks/{task_id}/priority", set_priority, methods=["POST"]),
    Route("/api/v1/stats", stats, methods=["GET"]),
    Route("/api/v1/agents", list_agents, methods=["GET"]),
    Route("/api/v1/agents/{name}/pause", pause_agent, methods=["POST"]),
    Route("/api/v1/agents/{name}/resume", resume_agent, methods=["POST"]),
    Route("/api/v1/events", events, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/metrics", prometheus, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]
