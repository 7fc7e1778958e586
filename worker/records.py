"""The small typed records that travel between the worker's parts.

A claimed task goes from the database (sqlapi.py) through the supervisor to the attempt
(attempt.py); the attempt's outcome goes from there to the reporter (reporter.py), which turns it
into one fenced SQL call. Both are frozen: nobody downstream changes what happened upstream.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    """One attempt the engine handed to this worker (a row of swarm.claim_task)."""

    id: int
    attempt: int  # the attempt number every report of this run is fenced with
    agent: str
    prompt: str
    args: dict[str, Any]
    timeout_seconds: int | None  # the task's own; None: the profile's, else DEFAULT_TIMEOUT_SECONDS
    depends_on: tuple[int, ...] = ()
    queue: str = "default"
    max_attempts: int = 1
    # When the task became claimable (its run_after, not before its creation) and when it was
    # claimed, by the database's clock: the pickup latency.
    ready_at: datetime | None = None
    claimed_at: datetime | None = None
    # The agent session this attempt continues, as the engine decided at claim (args.resume_on_retry).
    resume_session: str | None = None
    # The attempt's lease token from claim_task: every heartbeat and report of it carries the
    # token (the database keeps only its digest). Never handed to the agent, never logged.
    lease_token: UUID | None = field(default=None, repr=False)


# How an attempt ended, as far as the worker is concerned; each kind is one SQL call:
#   completed    swarm.complete_task (batched with other completions)
#   failed       swarm.fail_task (the engine decides retry, final failure or cancel)
#   released     swarm.release_task, without spending the attempt (EX_TEMPFAIL, throttle, shutdown)
#   usage_limit  swarm.release_for_usage_limit: the agent's pause and the release, one transaction
#   node_fault   this node cannot run the agent: swarm.release_task without spending the attempt
#                (no delay: another node may take it); the supervisor quarantines the agent here
#   cancelled    the worker stopped it because a heartbeat said the task was cancelled (never on a
#                notification alone): swarm.fail_task, not retryable, which the engine records as
#                cancelled
#   lost         another worker owns the task now: nothing is reported
OutcomeKind = Literal["completed", "failed", "released", "usage_limit", "node_fault", "cancelled", "lost"]


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one attempt came to: everything a report needs, nothing about how to send it."""

    task: ClaimedTask
    kind: OutcomeKind
    error: str | None = None  # failed, cancelled; for released/usage_limit the reason given
    result: dict[str, Any] | None = None
    exit_code: int | None = None
    output_tail: str | None = None
    log_path: str | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    retryable: bool = True
    # failed: retry after this many seconds instead of the agent's backoff; released: the delay.
    retry_in_seconds: int | None = None
    pause_until: datetime | None = None  # usage_limit
    pause_reason: str | None = None  # usage_limit
    session_id: str | None = None  # the agent's session, recorded in the attempt ledger for a resume
    # failed: "service" (counts towards the agent's circuit breaker) or "task" (never counted);
    # node_fault: what is wrong with this node ("missing", "not logged in", "offline", ...).
    fault: str = "service"

    @property
    def files(self) -> dict[str, Any]:
        """The exit code and the output's tail and log, as every report carries them."""
        return {"exit_code": self.exit_code, "output_tail": self.output_tail, "log_path": self.log_path}
