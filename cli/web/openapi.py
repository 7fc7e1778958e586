"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json). Written by hand next
to the routes; tests/web/test_api.py checks that every route is described and every described
path is served."""
from __future__ import annotations

from typing import Any

SCOPE_NOTE = "Scopes nest: read < enqueue < admin."

_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ERRORS = {"400": _ERROR, "401": _ERROR, "403": _ERROR, "503": _ERROR}
_TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_AGENT = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_FILTERS = [
    {"name": "status", "in": "query", "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Status"}},
     "style": "form", "explode": True, "description": "repeat or comma-separate"},
    {"name": "agent", "in": "query", "schema": {"type": "string"}},
    {"name": "queue", "in": "query", "schema": {"type": "string"}},
    {"name": "tag", "in": "query", "schema": {"type": "string"}},
    {"name": "parent", "in": "query", "schema": {"type": "integer"}},
    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "text in the prompt (case-insensitive)"},
    {"name": "from", "in": "query", "schema": {"type": "string"},
     "description": "created at or after: ISO 8601, or a duration ago (2h)"},
    {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "created before"},
]


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, scope: str | None, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **(_ERRORS if scope else {})}, **extra}
    if scope:
        op["description"] = f"Needs a token with scope `{scope}`. {SCOPE_NOTE}"
    else:
        op["security"] = []
    return op


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def spec() -> dict[str, Any]:
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    sse = {"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "pgswarm", "version": "1",
                 "description": "The REST API of `pgswarm web`: tasks, agents, stats and live changes. "
                                "Errors carry the engine's message and SQLSTATE."},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/tasks": {
                "get": _op("List tasks, newest first (keyset paging)", "read",
                           {"200": _json(ref("TaskPage"))},
                           parameters=[*_FILTERS,
                                       {"name": "before", "in": "query", "schema": {"type": "integer"},
                                        "description": "the next_before of the previous page"},
                                       {"name": "limit", "in": "query",
                                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}]),
                "post": _op("Enqueue one task, or several in one transaction", "enqueue",
                            {"201": _json(ref("Created"), "Created (an existing idempotency key returns its task)")},
                            requestBody=_body({"oneOf": [ref("NewTask"), {
                                "type": "object", "required": ["tasks"], "additionalProperties": False,
                                "properties": {"tasks": {"type": "array", "items": ref("NewTask"), "minItems": 1}}}]})),
            },
            "/api/v1/tasks/bulk": {
                "post": _op("Cancel or retry every task matching a filter", "admin",
                            {"200": _json({"type": "object"})},
                            requestBody=_body({"type": "object", "required": ["action", "filter"], "properties": {
                                "action": {"enum": ["cancel", "retry"]},
                                "filter": {"type": "object", "description": "status, agent, queue, tag, parent, q, "
                                           "from, to; {\"all\": true} for every task"},
                                "reason": {"type": "string"},
                                "dry_run": {"type": "boolean", "description": "only count the matching tasks"}}})),
            },
            "/api/v1/tasks/{task_id}": {
                "get": _op("A task with its dependencies, dependents, attempts, events and why it is pending", "read",
                           {"200": _json({"type": "object"}), "404": _ERROR}, parameters=[_TASK_ID]),
            },
            "/api/v1/tasks/{task_id}/events": {
                "get": _op("The task's event history", "read", {"200": _json({"type": "object"}), "404": _ERROR},
                           parameters=[_TASK_ID]),
            },
            "/api/v1/tasks/{task_id}/output": {
                "get": _op("The task's output as server-sent events (`output`, then `end`)", "read",
                           {"200": sse, "404": _ERROR}, parameters=[_TASK_ID]),
            },
            "/api/v1/tasks/{task_id}/cancel": {
                "post": _op("Cancel a task (a running one is stopped by its worker)", "enqueue",
                            {"200": _json({"type": "object"}), "404": _ERROR, "409": _ERROR}, parameters=[_TASK_ID],
                            requestBody=_body({"type": "object", "properties": {"reason": {"type": "string"}}},
                                              required=False)),
            },
            "/api/v1/tasks/{task_id}/retry": {
                "post": _op("Retry a failed or cancelled task", "admin",
                            {"200": _json({"type": "object"}), "404": _ERROR, "409": _ERROR}, parameters=[_TASK_ID]),
            },
            "/api/v1/tasks/{task_id}/priority": {
                "post": _op("Change the priority of a task that has not finished", "admin",
                            {"200": _json({"type": "object"}), "404": _ERROR, "409": _ERROR}, parameters=[_TASK_ID],
                            requestBody=_body({"type": "object", "required": ["priority"], "properties": {
                                "priority": {"type": "integer", "minimum": -1000, "maximum": 1000}}})),
            },
            "/api/v1/stats": {
                "get": _op("Queues, agents, workers, throughput and latency", "read", {"200": _json({"type": "object"})},
                           parameters=[{"name": "since", "in": "query", "schema": {"type": "string", "default": "1h"}}]),
            },
            "/api/v1/agents": {"get": _op("Agents with caps, pauses and 24 h figures", "read",
                                          {"200": _json({"type": "object"})})},
            "/api/v1/agents/{name}/pause": {
                "post": _op("Pause an agent cluster-wide", "admin", {"200": _json({"type": "object"}), "404": _ERROR},
                            parameters=[_AGENT],
                            requestBody=_body({"type": "object", "properties": {
                                "until": {"type": "string", "description": "ISO 8601 or a duration from now; "
                                          "absent: until resumed"},
                                "reason": {"type": "string"}}}, required=False)),
            },
            "/api/v1/agents/{name}/resume": {
                "post": _op("Resume an agent (and reset its breaker)", "admin",
                            {"200": _json({"type": "object"}), "404": _ERROR}, parameters=[_AGENT]),
            },
            "/api/v1/events": {
                "get": _op("Which tasks change, as server-sent events (`change`; id = cursor, Last-Event-ID resumes)",
                           "read", {"200": sse},
                           parameters=[{"name": "since", "in": "query", "schema": {"type": "integer"}}]),
            },
            "/api/v1/openapi.json": {"get": _op("This description", None, {"200": _json({"type": "object"})})},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "pgswarm web token create --scope read|enqueue|admin"}},
            "schemas": {
                "Status": {"enum": ["waiting", "pending", "running", "completed", "failed", "cancelled"]},
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "status": {"type": "integer"}, "message": {"type": "string"},
                    "sqlstate": {"type": ["string", "null"]}, "detail": {"type": ["string", "null"]},
                    "hint": {"type": ["string", "null"]}}}}},
                "NewTask": {"type": "object", "required": ["prompt"], "additionalProperties": False, "properties": {
                    "prompt": {"type": "string"},
                    "agent": {"type": "string", "description": "default: the database's default agent (swarm.settings)"},
                    "queue": {"type": "string", "default": "default"}, "args": {"type": "object"},
                    "priority": {"oneOf": [{"type": "integer", "minimum": -1000, "maximum": 1000},
                                           {"enum": ["critical", "high", "medium", "low"]}], "default": 0},
                    "depends_on": {"type": "array", "items": {"type": ["integer", "string"]},
                                   "description": "task ids, or keys of earlier tasks in the same request "
                                                  "or of existing tasks"},
                    "key": {"type": "string", "description": "idempotency key"},
                    "run_after": {"type": "string", "format": "date-time"}, "delay_seconds": {"type": "number"},
                    "max_attempts": {"type": "integer", "default": 3},
                    "timeout_seconds": {"type": "integer", "default": 1800},
                    "concurrency_key": {"type": "string"}, "parent_id": {"type": "integer"},
                    "on_dependency_failure": {"enum": ["cancel", "run"], "default": "cancel"},
                    "tags": {"type": "array", "items": {"type": "string"}}, "metadata": {"type": "object"}}},
                "Created": {"type": "object", "properties": {
                    "ids": {"type": "array", "items": {"type": "integer"}},
                    "tasks": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "key": {"type": ["string", "null"]}}}}}},
                "TaskPage": {"type": "object", "properties": {
                    "tasks": {"type": "array", "items": {"type": "object"}},
                    "next_before": {"type": ["integer", "null"], "description": "cursor of the next page; null: end"},
                    "searched_down_to": {"type": ["integer", "null"],
                                         "description": "set when the page stopped its walk early: tasks below "
                                                        "this id were not looked at yet (follow next_before)"}}},
            },
        },
    }
