"""pgswarm: a Postgres-native task queue for AI-agent work.

    from pgswarm import Client, AsyncClient

The client and the exception tree are imported on first use, so `pgswarm.worker` and
`pgswarm.cli` start without loading them. Subpackages: pgswarm.client, pgswarm.worker,
pgswarm.cli (the `pgswarm` command), pgswarm.sql and pgswarm.migrations (the engine's SQL).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import *  # noqa: F403

__all__ = [
    "Client", "AsyncClient", "TaskCapability",
    "TaskSpec", "Task", "Attempt", "Enqueued", "Changed", "TaskOutput", "OutputChunk", "Stats", "WindowStats",
    "QueueStat",
    "AgentStat", "WorkerStat", "TERMINAL", "ACTIVE", "PRIORITIES",
    "PgswarmError", "UsageError", "DatabaseUnavailable", "SchemaOutdated", "TaskError", "UnknownAgent",
    "UnknownTask", "IllegalTransition", "InvalidDependency", "InvalidArgument", "NotAllowed", "WaitTimeout",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module 'pgswarm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
