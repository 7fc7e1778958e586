"""`pgswarm mcp`: an MCP server (stdio) for assistants, built on the client.

Tools: enqueue_task, get_task, list_tasks, wait_for_task, cancel_task, queue_stats. Resources:
`pgswarm://tasks/{task_id}/transcript`, what a task printed (read through `Client.output`, the one
place that knows where output lives). A refusal by the engine is a tool error carrying the
engine's message and hint; the server itself keeps running.

A Scope narrows a server: which tools it offers and a parent forced onto every task it
enqueues. `pgswarm mcp --tools ... --parent ID` sets one by hand. The agent-scoped mode
(`pgswarm mcp --agent-scope`, started by an agent whose task has `args.swarm_tools = true`) acts
with the attempt's capability (PGSWARM_TASK_ID, PGSWARM_TASK_TOKEN) and the agents' login, never
the worker's: it offers AGENT_TOOLS only (enqueue children of its task, read its dependencies'
results and its children's outcomes, report progress), and the engine holds it to them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..client import AsyncClient, PgswarmError, Task, TaskCapability, TaskSpec, WaitTimeout
from ..client.transcript import render
from ..worker.errors import UsageError

TOOLS = ("enqueue_task", "get_task", "list_tasks", "wait_for_task", "cancel_task", "queue_stats")
# What a running agent is offered (--agent-scope): all it may do with its attempt's capability.
AGENT_TOOLS = ("enqueue_task", "get_dependency_results", "list_children", "report_progress")
MAX_WAIT_SECONDS = 3600.0
TAIL_CHARS = 2000  # output shown inline by get_task; the transcript resource has the rest


@dataclass(frozen=True)
class Scope:
    """What one server may do: its tools, and the parent of every task it enqueues (None: free)."""

    tools: frozenset[str] = frozenset(TOOLS)
    parent: int | None = None
    capability: TaskCapability | None = None  # a running agent's: AGENT_TOOLS, children of its task

    def __post_init__(self) -> None:
        offered = AGENT_TOOLS if self.capability is not None else TOOLS
        unknown = sorted(self.tools - set(offered))
        if unknown:
            raise UsageError(f"unknown MCP tool {unknown[0]!r} (tools: {', '.join(offered)})")
        if self.capability is not None and self.parent not in (None, self.capability.task_id):
            raise UsageError(f"an agent's tasks are children of its own task {self.capability.task_id}")

    @classmethod
    def for_agent(cls, capability: TaskCapability) -> Scope:
        return cls(frozenset(AGENT_TOOLS), capability.task_id, capability)


def jsonable(value: Any) -> Any:
    """Plain JSON values: times as ISO 8601, durations and money as numbers."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name != "extra"})
    return value


def task_view(task: Task, *, tail: int = TAIL_CHARS) -> dict[str, Any]:
    """A task as a tool returns it: every field, the output tail shortened."""
    view = task.to_dict()
    output = view.pop("output_tail") or ""
    view["output_tail"] = output[-tail:]
    view["output_truncated"] = len(output) > tail
    view["finished"] = task.finished
    return jsonable(view)


def summary(task: Task) -> dict[str, Any]:
    return jsonable({"id": task.id, "status": task.status, "agent": task.agent, "queue": task.queue,
                     "priority": task.priority, "prompt": (task.prompt or "")[:200], "parent_id": task.parent_id,
                     "key": task.key, "created_at": task.created_at, "finished_at": task.finished_at,
                     "attempts": task.attempts, "error": task.error})


def build_server(scope: Scope = Scope(), *, dsn: str | None = None,
                 client_factory: Callable[[], AsyncClient] | None = None) -> Any:
    """The MCPServer for a scope (imports the SDK: `pip install 'pgswarm[mcp]'`)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError

    new_client = client_factory or (lambda: AsyncClient(dsn, capability=scope.capability))
    clients: dict[str, AsyncClient] = {}

    sessions = [0]  # over HTTP, sessions share this server (and its client) and end in any order

    @asynccontextmanager
    async def lifespan(_server: Any) -> AsyncIterator[None]:
        sessions[0] += 1
        try:
            yield
        finally:
            sessions[0] -= 1
            if sessions[0] == 0:
                for client in clients.values():
                    await client.aclose()
                clients.clear()

    def shared() -> AsyncClient:
        if "shared" not in clients:
            clients["shared"] = new_client()
        return clients["shared"]

    @contextmanager
    def refusals() -> Iterator[None]:
        """An engine refusal inside the block as the tool's error: the engine's words, detail and hint."""
        try:
            yield
        except PgswarmError as exc:
            raise ToolError(f"{exc}" + (f" ({exc.detail})" if exc.detail else "")
                            + (f" (hint: {exc.hint})" if exc.hint else "")) from exc

    instructions = ("pgswarm is a task queue for AI agents backed by PostgreSQL. enqueue_task queues work for an "
                    "agent (claude, codex, gemini, aider, shell, ...) and returns its id; later tasks can depend on "
                    "it; wait_for_task blocks until a task finishes and returns its outcome.")
    if scope.capability is not None:
        instructions = (f"You are running as task {scope.parent} of pgswarm, a task queue for AI agents. "
                        "enqueue_task queues a subtask (a child of your task) for another agent; a later subtask "
                        "can depend on earlier ones (depends_on: their ids, or your own task's id to run after "
                        "you). list_children shows your subtasks' status and results, get_dependency_results "
                        "what the tasks you depend on produced, report_progress tells your operator how far you are.")
    elif scope.parent is not None:
        instructions += f" Every task enqueued here becomes a child of task {scope.parent}."
    server = MCPServer(name="pgswarm", instructions=instructions, lifespan=lifespan, log_level="WARNING")

    def tool(fn: Callable[..., Any]) -> Callable[..., Any]:
        if fn.__name__ in scope.tools:
            server.tool()(fn)
        return fn

    @tool
    async def enqueue_task(prompt: str, agent: str | None = None, args: dict[str, Any] | None = None,
                           priority: int | str | None = None, depends_on: list[int | str] | None = None,
                           key: str | None = None, delay_seconds: float | None = None, queue: str | None = None,
                           tags: list[str] | None = None, parent_id: int | None = None,
                           max_attempts: int | None = None, timeout_seconds: int | None = None,
                           metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """Queue a task for an agent and return its id, agent and status.

        agent: a profile name (default: the database's default agent). priority: critical, high,
        medium, low or -1000..1000. depends_on: ids of tasks, or keys of existing tasks, that must
        complete first. key: an idempotency key (a taken key returns the existing task).
        delay_seconds: not before this many seconds from now.
        """
        parent = parent_id
        if scope.parent is not None:
            if parent_id is not None and parent_id != scope.parent:
                raise ToolError(f"parent_id {parent_id} is not allowed here: tasks enqueued in this session are "
                                f"children of task {scope.parent}")
            parent = scope.parent
        spec = TaskSpec(prompt, agent=agent, args=args, priority=priority, depends_on=tuple(depends_on or ()),
                        key=key, delay=delay_seconds, queue=queue, tags=tuple(tags or ()), parent=parent,
                        max_attempts=max_attempts, timeout=timeout_seconds, metadata=metadata)
        with refusals():
            [done] = await shared().enqueue_many([spec])
        return {"id": done.id, "agent": done.agent, "status": done.status, "created": done.created,
                "key": done.key, "parent_id": parent}

    @tool
    async def get_task(task_id: int) -> dict[str, Any]:
        """Everything about a task: status, why it is not running yet, result, error, cost, attempts."""
        with refusals():
            return task_view(await shared().get(task_id))

    @tool
    async def list_tasks(status: list[str] | None = None, agent: str | None = None, queue: str | None = None,
                         tag: str | None = None, parent_id: int | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Tasks matching every filter given, newest first (status: waiting, pending, running,
        completed, failed, cancelled)."""
        if not 1 <= limit <= 500:
            raise ToolError(f"limit {limit} must be between 1 and 500")
        with refusals():
            tasks = await shared().list(status=status, agent=agent, queue=queue, tag=tag, parent=parent_id,
                                        limit=limit)
        return [summary(t) for t in tasks]

    @tool
    async def wait_for_task(task_id: int, timeout_seconds: float = 60.0) -> dict[str, Any]:
        """Wait until a task is completed, failed or cancelled (at most timeout_seconds, up to 3600)
        and return it; `finished` is false when the time ran out first."""
        if not 0 <= timeout_seconds <= MAX_WAIT_SECONDS:
            raise ToolError(f"timeout_seconds {timeout_seconds:g} must be between 0 and {MAX_WAIT_SECONDS:g}")
        # A connection of its own: a wait holds its connection while it listens.
        async with new_client() as waiter:
            with refusals():
                try:
                    return task_view(await waiter.wait(task_id, timeout=timeout_seconds))
                except WaitTimeout as exc:
                    return task_view(exc.task) if exc.task is not None else {"id": task_id, "finished": False}

    @tool
    async def cancel_task(task_id: int, reason: str | None = None) -> dict[str, Any]:
        """Cancel a task: waiting and pending at once; a running one is stopped by its worker."""
        with refusals():
            status = await shared().cancel(task_id, reason)
        return {"id": task_id, "status": status,
                "note": "its worker stops the process" if status == "running" else ""}

    @tool
    async def queue_stats(since_minutes: int = 60) -> dict[str, Any]:
        """Tasks by queue, agent and status; agents (running, caps, pauses); live workers;
        throughput and wait/run percentiles over the last since_minutes."""
        if since_minutes < 1:
            raise ToolError(f"since_minutes {since_minutes} must be at least 1")
        with refusals():
            stats = await shared().stats(timedelta(minutes=since_minutes))
        return jsonable(stats)

    @tool
    async def get_dependency_results() -> list[dict[str, Any]]:
        """What the tasks your task depends on produced: id, key, agent, status, result, error."""
        with refusals():
            return jsonable(await shared().dependency_results())

    @tool
    async def list_children() -> list[dict[str, Any]]:
        """Your subtasks so far, oldest first: id, key, agent, status, result, error."""
        with refusals():
            return jsonable(await shared().children())

    @tool
    async def report_progress(message: str | None = None, percent: float | None = None,
                              details: dict[str, Any] | None = None) -> dict[str, Any]:
        """Tell your operator how far you are (shown with your task; the last report wins)."""
        if percent is not None and not 0 <= percent <= 100:
            raise ToolError(f"percent {percent:g} must be between 0 and 100")
        progress = {k: v for k, v in (("message", message), ("percent", percent)) if v is not None}
        progress.update(details or {})
        with refusals():
            await shared().report_progress(progress)
        return {"task_id": scope.parent, "progress": progress}

    if scope.capability is not None:
        return server  # an agent reads no other task's transcript

    @server.resource("pgswarm://tasks/{task_id}/transcript", mime_type="text/plain",
                     description="What the task printed, as a transcript (assistant text, tool calls, results, "
                                 "cost): its latest attempt's live output, else the stored tail of its log")
    async def transcript(task_id: str) -> str:
        if not task_id.isdigit():
            raise ResourceError(f"{task_id!r} is not a task id")
        try:
            return render((await shared().output(int(task_id))).text)
        except PgswarmError as exc:
            raise ResourceError(str(exc)) from exc

    return server


def run(scope: Scope = Scope(), dsn: str | None = None) -> None:
    """Serve over stdio until the client closes stdin."""
    build_server(scope, dsn=dsn).run("stdio")
