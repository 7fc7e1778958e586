"""The pgswarm Python client: `from pgswarm import Client, AsyncClient`.

    from pgswarm import Client

    with Client() as swarm:                       # PGSWARM_DSN, DATABASE_URL, else the embedded server
        task_id = swarm.enqueue("Fix the flaky test", agent="claude", priority="high")
        task = swarm.wait(task_id, timeout=600)    # woken by LISTEN, re-reads the row
        print(task.status, task.result)

`Client(conn=psycopg_connection)` enqueues inside the caller's transaction. Layering: the client
uses the worker package (errors, DSN rules, schema files) and is used by the CLI and the MCP
server; nothing here imports either of them.
"""
from __future__ import annotations

from ._async import AsyncClient
from ._models import (ACTIVE, PRIORITIES, TERMINAL, AgentStat, Attempt, Changed, Enqueued, OutputChunk, QueueStat,
                      Stats, Task, TaskOutput, TaskSpec, WindowStats, WorkerStat)
from ._sync import Client
from .capability import TaskCapability
from ..worker.errors import (DatabaseUnavailable, IllegalTransition, InvalidArgument, InvalidDependency, NotAllowed,
                             PgswarmError, SchemaOutdated, TaskError, UnknownAgent, UnknownTask, UsageError, WaitTimeout)

__all__ = [
    "Client", "AsyncClient", "TaskCapability",
    "TaskSpec", "Task", "Attempt", "Enqueued", "Changed", "TaskOutput", "OutputChunk", "Stats", "WindowStats",
    "QueueStat",
    "AgentStat", "WorkerStat", "TERMINAL", "ACTIVE", "PRIORITIES",
    "PgswarmError", "UsageError", "DatabaseUnavailable", "SchemaOutdated", "TaskError", "UnknownAgent",
    "UnknownTask", "IllegalTransition", "InvalidDependency", "InvalidArgument", "NotAllowed", "WaitTimeout",
]
