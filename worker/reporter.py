"""The reporter: turns attempts' outcomes into fenced SQL calls, and never drops one.

Each AttemptOutcome becomes one call of the SQL API (sqlapi.py), fenced by (worker, attempt), so a
late or repeated report is harmless: the engine refuses it and says so. Completions that pile up
while a call is in flight go together in one statement (one commit instead of one per task).
While the database is away a report is held and sent again once the connection is back; at
shutdown it is held for SHUTDOWN_REPORT_WAIT at most (the task stays running in the database; its
lease expires and it is retried).
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .errors import DatabaseDown
from .metrics import Metrics
from .records import AttemptOutcome
from .sqlapi import Database, Report
from .storable import plain_text, storable, storable_text

log = logging.getLogger("pgswarm.worker")

T = TypeVar("T")

# On shutdown with the database away, how long held reports wait before the worker gives up on
# them (the tasks are still running in the database; their leases expire and they are retried).
SHUTDOWN_REPORT_WAIT = 30.0


class Reporter:
    def __init__(self, db: Database, metrics: Metrics) -> None:
        self.db = db
        self.metrics = metrics
        self.stopping = False  # set by the supervisor at shutdown: held reports then wait a bounded time
        self._completions: list[tuple[AttemptOutcome, asyncio.Future[Report]]] = []
        self._queued = asyncio.Event()

    async def report(self, outcome: AttemptOutcome) -> Report | None:
        """Send the outcome (held while the database is away); the engine's answer, or None when
        there was nothing to send or the worker gave up at shutdown."""
        outcome = storable_outcome(outcome)
        task = outcome.task
        if outcome.kind == "lost":
            log.warning("task %d: lease lost (another worker owns it now); stopped, not reported", task.id)
            self.metrics.count("lost", task.agent)
            return None
        if outcome.kind == "usage_limit" and outcome.pause_until is not None:
            log.warning("task %d: %s; pausing %s until %s", task.id, outcome.pause_reason, task.agent,
                        outcome.pause_until)
        report: Report | None = await self.hold(task.id, self._call_for(outcome))
        if report is None:
            return None
        if report.accepted:
            metric = {"completed": "completed", "failed": "failed", "cancelled": "cancelled"}.get(outcome.kind,
                                                                                                "released")
            self.metrics.count(metric if report.status != "cancelled" else "cancelled", task.agent)
        else:
            log.warning("task %d attempt %d: report refused: %s", task.id, task.attempt, report.message)
        return report

    def _call_for(self, outcome: AttemptOutcome) -> Callable[[], Awaitable[Report]]:
        task = outcome.task
        if outcome.kind == "completed":
            return lambda: self._complete(outcome)
        if outcome.kind == "usage_limit" and outcome.pause_until is not None:
            # One call, one transaction: the agent's pause and the task's release.
            return lambda: self.db.release_for_usage_limit(
                task.id, task.attempt, lease_token=task.lease_token, until=outcome.pause_until,
                reason=outcome.pause_reason or outcome.error or f"{task.agent} usage limit", **_usage(outcome))
        if outcome.kind == "node_fault":
            # No delay: another node may run it now; this one has quarantined the agent.
            return lambda: self.db.release(task.id, task.attempt, lease_token=task.lease_token, delay_seconds=0,
                                           reason=outcome.error or "node-local fault", **_usage(outcome))
        if outcome.kind in ("released", "usage_limit"):
            # retry_in_seconds None: the engine backs off (an agent exiting 75 without saying when).
            return lambda: self.db.release(task.id, task.attempt, lease_token=task.lease_token,
                                           delay_seconds=outcome.retry_in_seconds,
                                           reason=outcome.error or "released by the worker", **_usage(outcome))
        return lambda: self.db.fail(
            task.id, task.attempt, lease_token=task.lease_token, error=outcome.error or "failed", result=outcome.result,
            cost_usd=outcome.cost_usd, input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
            retry_in_seconds=outcome.retry_in_seconds, retryable=outcome.retryable, session_id=outcome.session_id,
            fault="service" if outcome.fault == "service" else "task", **outcome.files)

    # -- completions, batched -----------------------------------------------------------------

    async def _complete(self, outcome: AttemptOutcome) -> Report:
        """Queue a completion for the flusher and wait for the engine's answer to it."""
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._completions.append((outcome, future))
        self._queued.set()
        return await future

    async def flush_completions(self) -> None:
        """The reporter's background duty: send queued completions, as many per statement as have
        piled up meanwhile. Runs until cancelled."""
        while True:
            await self._queued.wait()
            self._queued.clear()
            while self._completions:
                batch, self._completions = self._completions, []
                try:
                    if len(batch) == 1:
                        reports = [await self.db.complete(**_completion(batch[0][0]))]
                    else:
                        reports = await self.db.complete_many([_completion(outcome) for outcome, _ in batch])
                except Exception as exc:  # DatabaseDown: each waiting report holds and is queued again
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), report in zip(batch, reports):
                    if not future.done():
                        future.set_result(report)

    # -- holding while the database is away ---------------------------------------------------

    async def hold(self, task_id: int, call: Callable[[], Awaitable[T]],
                   give_up: Callable[[], bool] | None = None) -> T | None:
        """call() until the database answers. None when give_up() says the answer is no longer
        wanted, or after SHUTDOWN_REPORT_WAIT once the worker is stopping."""
        deadline: float | None = None
        while True:
            try:
                return await call()
            except DatabaseDown as exc:
                if give_up is not None and give_up():
                    return None
                if self.stopping:
                    deadline = deadline or time.monotonic() + SHUTDOWN_REPORT_WAIT
                    if time.monotonic() > deadline:
                        log.error("task %d: database still away at shutdown; leaving the attempt to lease expiry",
                                  task_id)
                        return None
                log.info("task %d: database away (%s); holding the report", task_id, exc)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.db.connected.wait(), 1.0)


def _completion(outcome: AttemptOutcome) -> dict[str, Any]:
    """complete()'s keyword arguments for an outcome."""
    task = outcome.task
    return {"task_id": task.id, "attempt": task.attempt, "lease_token": task.lease_token, "result": outcome.result,
            "cost_usd": outcome.cost_usd, "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens,
            "session_id": outcome.session_id, **outcome.files}


def _usage(outcome: AttemptOutcome) -> dict[str, Any]:
    """What a release records in the attempt ledger besides its reason."""
    return {"exit_code": outcome.exit_code, "log_path": outcome.log_path, "cost_usd": outcome.cost_usd,
            "input_tokens": outcome.input_tokens, "output_tokens": outcome.output_tokens,
            "session_id": outcome.session_id}


def storable_outcome(outcome: AttemptOutcome) -> AttemptOutcome:
    """The outcome with every text and JSON value the agent printed made storable (storable.py):
    an outcome is never lost because of its bytes."""
    def text(value: str | None) -> str | None:
        return None if value is None else storable_text(value)

    def plain(value: str | None) -> str | None:
        return None if value is None else plain_text(value)

    return dataclasses.replace(outcome, error=plain(outcome.error), result=storable(outcome.result),
                               output_tail=text(outcome.output_tail), log_path=text(outcome.log_path),
                               pause_reason=plain(outcome.pause_reason), session_id=text(outcome.session_id))
