"""The contract between the worker loop and agent profiles.

A profile turns a claimed task into an argv (never a shell string) and, once the process has
ended, turns its exit code and output into an Outcome: facts for the SQL API, which decides
what happens to the task.
"""
from __future__ import annotations

import signal
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

OutcomeKind = Literal["completed", "failed", "usage_limit", "tempfail", "node_fault"]


@dataclass(frozen=True)
class TaskSpec:
    """What a profile needs to know about one claimed attempt."""

    id: int
    attempt: int
    agent: str
    prompt: str
    args: dict[str, Any]
    timeout_seconds: int
    # The agent session to continue (decided by the engine at claim: args.resume_on_retry).
    resume_session: str | None = None
    # args.swarm_tools: an MCP configuration file scoped to this attempt (profiles with
    # takes_mcp_config pass it to the agent), else None.
    mcp_config: str | None = None
    # Set when the prompt is too big for one argument and the profile takes it another way
    # (prompt_via): the file holding it, which is also the process's stdin.
    prompt_file: Path | None = None


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, as the worker reports it.

    completed   -> swarm.complete_task(result, cost_usd, input_tokens, output_tokens)
    failed      -> swarm.fail_task(error, retryable, retry_in_seconds)
    usage_limit -> swarm.release_for_usage_limit(until => pause_until, reason => pause_reason): the
                   agent's pause and the task's release (no attempt spent) in one transaction
    tempfail    -> swarm.release_task(count_attempt => false, delay_seconds => retry_in_seconds), the
                   engine's backoff when retry_in_seconds is None
    node_fault  -> this node cannot run the agent (not logged in, offline, a set-up error; `fault`
                   names which): swarm.release_task without spending the attempt, and the worker
                   quarantines the agent here (faults.py)

    `fault` of a failed outcome: "service" (counts towards the agent's circuit breaker) or "task"
    (the task's own failure, never counted); see faults.py.
    """

    kind: OutcomeKind
    result: dict[str, Any] | None = None
    error: str | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    retryable: bool = True
    retry_in_seconds: int | None = None
    pause_until: datetime | None = None
    pause_reason: str | None = None
    fault: str = "service"


class Profile(Protocol):
    name: str
    # Signals sent to the process group, in order, each followed by a grace period, then SIGKILL.
    stop_signals: tuple[signal.Signals, ...]
    # Whether a task with args.repo runs in its own git worktree.
    worktree: bool
    # Environment variables passed through from the worker's environment (names; '*' suffix = prefix).
    env_allowlist: tuple[str, ...]
    # Extra variables set for the process.
    extra_env: dict[str, str]
    # Default timeout when the task does not set one (the task's timeout_seconds wins).
    timeout_seconds: int | None
    # How a prompt too big for one argument reaches the agent: "stdin", "file" or None (see cli.py).
    prompt_via: str | None

    def build_argv(self, task: TaskSpec) -> list[str]:
        """The argv; the prompt is one element. Raises ValueError with a clear message on bad args."""
        ...

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        """Turn the exit code and the captured output (stdout+stderr, the last part when huge)
        into an Outcome. exit_code is negative (-signal) when the process was killed."""
        ...


@dataclass
class ProfileSet:
    """The profiles a worker knows, by agent name."""

    profiles: dict[str, Profile] = field(default_factory=dict)

    def get(self, agent: str) -> Profile | None:
        return self.profiles.get(agent)
