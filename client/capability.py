"""A running agent's capability: its task and the token of its attempt (issue 16, defect 3).

An agent is not given the worker's login. Its worker hands it PGSWARM_TASK_ID and
PGSWARM_TASK_TOKEN (and a login of its own, holding only role swarm_agent, as PGSWARM_DSN);
`Client(capability=TaskCapability.from_environment())` then enqueues children of that task
(swarm.agent_enqueue), reads its dependencies' results and its children's outcomes, and reports
its progress. The token stops working when the attempt ends.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..worker.capability import TOKEN_VAR
from ..worker.errors import UsageError

TASK_ID_VAR = "PGSWARM_TASK_ID"


@dataclass(frozen=True)
class TaskCapability:
    """What the holder of an attempt's token may act as: that running task."""

    task_id: int
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"TaskCapability(task_id={self.task_id}, token=***)"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TaskCapability | None:
        """The capability a worker gave this process, or None outside an agent."""
        env = os.environ if environ is None else environ
        token = env.get(TOKEN_VAR, "").strip()
        if not token:
            return None
        task_id = env.get(TASK_ID_VAR, "").strip()
        if not task_id.isdigit():
            raise UsageError(f"{TOKEN_VAR} is set but {TASK_ID_VAR} is not a task id ({task_id!r})")
        return cls(int(task_id), token)
