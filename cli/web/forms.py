"""Input of the web faces: task filters from a query string, tasks to enqueue from JSON.

Both the pages and /api/v1 read their input here, so a bad value gets the same message (a
UsageError naming the field and the value: HTTP 400) wherever it comes from.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import queries
from ..common import parse_duration
from ...client import TaskSpec
from ...worker.errors import UsageError

STATUSES = ("waiting", "pending", "running", "completed", "failed", "cancelled")
SCOPES = ("read", "enqueue", "admin")
MAX_PAGE = 500


def _int(value: str, name: str, low: int | None = None, high: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name}: {value!r} is not a whole number") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise UsageError(f"{name}: {number} is out of range {low}..{high}")
    return number


def parse_time(value: str, name: str) -> datetime:
    """An ISO 8601 time (UTC when it names no zone), or a duration ago ('2h' = two hours ago)."""
    text = value.strip()
    try:
        return datetime.now(timezone.utc) - parse_duration(text, name)
    except UsageError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{name}: {value!r} is neither a time (2026-05-01T09:00Z) nor a duration ago (2h)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def task_query(params: Mapping[str, Any], getlist: Any = None) -> queries.TaskQuery:
    """Filters from query parameters: status (repeated or comma-separated), agent, queue, tag,
    parent, q (text in the prompt), from, to (times or durations ago)."""
    raw_statuses = getlist("status") if getlist else [params.get("status", "")]
    statuses = tuple(s.strip() for value in raw_statuses for s in str(value).split(",") if s.strip())
    for status in statuses:
        if status not in STATUSES:
            raise UsageError(f"status: {status!r} is not one of {', '.join(STATUSES)}")

    def text(name: str) -> str | None:
        value = str(params.get(name) or "").strip()
        return value or None

    parent = text("parent")
    created_from, created_to = text("from"), text("to")
    return queries.TaskQuery(
        statuses=statuses, agent=text("agent"), queue=text("queue"), tag=text("tag"),
        parent_id=_int(parent, "parent", 1) if parent else None, text=text("q"),
        created_from=parse_time(created_from, "from") if created_from else None,
        created_to=parse_time(created_to, "to") if created_to else None)


def query_params(q: queries.TaskQuery) -> list[tuple[str, str]]:
    """The query string that gives q back (links to the next page keep the filters)."""
    pairs = [("status", s) for s in q.statuses]
    for name, value in (("agent", q.agent), ("queue", q.queue), ("tag", q.tag), ("parent", q.parent_id),
                        ("q", q.text)):
        if value is not None:
            pairs.append((name, str(value)))
    for name, moment in (("from", q.created_from), ("to", q.created_to)):
        if moment is not None:
            pairs.append((name, moment.isoformat()))
    return pairs


def paging(params: Mapping[str, Any], default_limit: int = 50) -> tuple[int | None, int]:
    """(before, limit) of a keyset page: `before` is the id the page starts below."""
    before = params.get("before")
    limit = params.get("limit")
    return (_int(before, "before", 1) if before else None,
            _int(limit, "limit", 1, MAX_PAGE) if limit else default_limit)


# -- enqueue ------------------------------------------------------------------------------------------
TASK_FIELDS = {
    "prompt": str, "agent": str, "queue": str, "args": dict, "priority": (int, str), "depends_on": list, "key": str,
    "run_after": str, "delay_seconds": (int, float), "max_attempts": int, "timeout_seconds": int,
    "concurrency_key": str, "parent_id": int, "on_dependency_failure": str, "tags": list, "metadata": dict,
}


def _type_name(expected: Any) -> str:
    names = {str: "a string", dict: "an object", int: "a whole number", list: "a list", (int, float): "a number",
             (int, str): "a whole number or a name (critical, high, medium, low)"}
    return names[expected]


def new_task(item: Any, where: str) -> TaskSpec:
    """One task of an enqueue request, its dependencies as given (ids, or keys of tasks earlier in
    the same request or of existing tasks). Refuses unknown fields and wrong types, naming them;
    left-out fields take the database's defaults (the agent: swarm.settings.default_agent)."""
    if not isinstance(item, dict):
        raise UsageError(f"{where}: a task is a JSON object, not {type(item).__name__}")
    unknown = sorted(set(item) - set(TASK_FIELDS))
    if unknown:
        raise UsageError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(TASK_FIELDS)})")
    for name, value in item.items():
        expected = TASK_FIELDS[name]
        if value is None and name not in ("prompt",):
            continue
        ok = isinstance(value, expected) and not (isinstance(value, bool) and expected in (int, (int, float), (int, str)))
        if not ok:
            raise UsageError(f"{where}.{name}: expected {_type_name(expected)}, got {value!r}")
    if not isinstance(item.get("prompt"), str):
        raise UsageError(f"{where}.prompt: every task needs a prompt (a string)")
    depends = item.get("depends_on") or []
    for dep in depends:
        if isinstance(dep, bool) or not isinstance(dep, (int, str)):
            raise UsageError(f"{where}.depends_on: {dep!r} is neither a task id nor a key of this request")
    for tag in item.get("tags") or []:
        if not isinstance(tag, str):
            raise UsageError(f"{where}.tags: {tag!r} is not a string")
    if item.get("run_after") is not None and item.get("delay_seconds") is not None:
        raise UsageError(f"{where}: run_after and delay_seconds exclude each other")
    run_at = None
    if item.get("run_after") is not None:
        try:
            run_at = datetime.fromisoformat(str(item["run_after"]).replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"{where}.run_after: {item['run_after']!r} is not an ISO 8601 time") from None
        if run_at.tzinfo is None:
            run_at = run_at.replace(tzinfo=timezone.utc)
    delay = timedelta(seconds=float(item["delay_seconds"])) if item.get("delay_seconds") is not None else None
    return TaskSpec(
        prompt=item["prompt"],
        agent=item.get("agent"),
        queue=item.get("queue"),
        args=item.get("args"),
        priority=item.get("priority"),
        depends_on=tuple(depends),
        key=item.get("key"),
        delay=delay,
        run_after=run_at,
        max_attempts=item.get("max_attempts"),
        timeout=item.get("timeout_seconds"),
        concurrency_key=item.get("concurrency_key"),
        parent=item.get("parent_id"),
        on_dependency_failure=item.get("on_dependency_failure"),
        tags=tuple(item.get("tags") or ()),
        metadata=item.get("metadata"),
    )


def enqueue_request(body: Any) -> list[TaskSpec]:
    """A body is one task object, or {"tasks": [...]} for several in one transaction."""
    if isinstance(body, dict) and "tasks" in body:
        if set(body) != {"tasks"}:
            raise UsageError("a batch is {\"tasks\": [...]} and nothing else")
        items = body["tasks"]
        if not isinstance(items, list) or not items:
            raise UsageError("tasks: expected a non-empty list of task objects")
        if len(items) > 10_000:
            raise UsageError(f"tasks: {len(items)} tasks in one request; send at most 10000")
        return [new_task(item, f"tasks[{i}]") for i, item in enumerate(items)]
    return [new_task(body, "task")]
