"""The worker loop: claim what there is room for, run each attempt, keep leases, report back.

It decides nothing about task state: every transition is a call to the SQL API (sqlapi.py),
which fences each report by (worker, attempt). What the worker does decide is local: when to
claim (a swarm_ready notification, a freed slot, the fallback poll, the earliest future
run_after), when to stop a process (timeout, cancel, lease lost, shutdown), and how to hold
reports while the database is away.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import process, worktree
from .config import WorkerConfig
from .errors import DatabaseDown, UsageError
from .metrics import Metrics
from .profiles.base import Outcome, Profile, ProfileSet, TaskSpec
from .schema_files import required_schema_version
from .sqlapi import Database, Report

log = logging.getLogger("pgswarm.worker")

OUTPUT_TAIL_CHARS = 8192
PARSE_BYTES = 256 * 1024
# How long finished attempts' run tokens stay on the sweep list (descendants that outlive them).
SWEEP_KEEP_SECONDS = 60.0
SWEEP_INTERVAL = 2.0
# On shutdown with the database away, how long held reports wait before the worker gives up on
# them (the tasks are still running in the database; their leases expire and they are retried).
SHUTDOWN_REPORT_WAIT = 30.0
# With a backlog and fewer than half the slots free, how long the claim loop waits for more to free.
CLAIM_GATHER_SECONDS = 0.002

StopReason = str  # "timeout" | "cancel" | "lost" | "shutdown"


def _package_version() -> str:
    try:
        return version("pgswarm")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class RunningTask:
    id: int
    attempt: int
    agent: str
    profile: Profile
    spec: TaskSpec
    depends_on: list[int]
    stop_reason: StopReason | None = None
    on_stop: Callable[[], None] | None = None  # set while the attempt's process runs
    exited: bool = False
    job: asyncio.Task[None] | None = None
    # An earlier run of the same task still winding down here, which this one waits for.
    superseded: asyncio.Task[None] | None = None

    def request_stop(self, reason: StopReason) -> None:
        if self.exited or self.stop_reason is not None:
            return
        self.stop_reason = reason
        if self.on_stop is not None:
            self.on_stop()


@dataclass(frozen=True)
class Launch:
    """What an attempt's process is started with."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None
    tree: worktree.Worktree | None
    log_path: Path
    token: str  # PGSWARM_RUN_TOKEN: finds the attempt's processes, escapees included


class Runner:
    def __init__(self, config: WorkerConfig, profiles: ProfileSet) -> None:
        self.config = config
        self.profiles = profiles
        self.name = config.worker_name
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.agents: list[str] = []
        self.running: dict[int, RunningTask] = {}
        self.wake = asyncio.Event()
        self.stopping = False
        self.stop_at_once = False
        self.finished_tokens: dict[str, float] = {}
        self._profile_envs: dict[str, dict[str, str]] = {}
        self._run_counter = itertools.count(1)  # numbers the attempts' run tokens
        self._completions: list[tuple[dict[str, Any], asyncio.Future[Report]]] = []
        self._completion_flusher: asyncio.Task[None] | None = None
        self.metrics = Metrics(self.name)
        self.metrics_port: int | None = None
        self.db = Database(config.dsn, self.name, on_ready=self._on_ready, on_cancel=self._on_cancel,
                           on_reconnect=self._on_reconnect, required_schema=required_schema_version(),
                           call_timeout=max(5.0, config.lease_seconds / 2))

    # -- life cycle ---------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown, sig)
        try:
            self.config.logs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--log-dir {self.config.logs}: cannot create it ({exc.strerror or exc})") from None
        orphans = process.sweep_worker(self.name)
        if orphans:
            log.warning("killed %d agent process(es) left running by an earlier worker named %s", orphans, self.name)
        await self.db.connect()
        self.agents = await self._choose_agents()
        await self._register()
        if self.config.metrics_port is not None:
            self.metrics_port = await self.metrics.serve(self.config.metrics_port)
        log.info("worker %s ready: agents %s, concurrency %d%s", self.name, ",".join(self.agents),
                 self.config.concurrency, f", metrics on :{self.metrics_port}" if self.metrics_port else "")
        background = [loop.create_task(coro) for coro in (self._heartbeat_loop(), self._reap_loop(),
                                                          self._sweep_loop())]
        try:
            await self._claim_loop()
            await self._drain_on_shutdown()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            process.sweep(set(self.finished_tokens))
            with contextlib.suppress(DatabaseDown):
                await self.db.stop_worker()
            await self.db.close()
            await self.metrics.close()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("worker %s stopped", self.name)
        return 0

    async def _choose_agents(self) -> list[str]:
        """The agents this worker claims for: --agents (each needs a profile) or all its profiles,
        minus shell without --allow-shell; each must be registered in swarm.agents."""
        known = set(await self.db.known_agents())
        available = set(self.profiles.profiles)
        if self.config.agents is not None:
            for agent in self.config.agents:
                if agent == "shell" and not self.config.allow_shell:
                    raise UsageError("the shell agent runs `sh -c PROMPT`; start the worker with --allow-shell to run it")
                if agent not in available:
                    raise UsageError(f"no profile for agent {agent!r}; built-in and configured profiles: "
                                     f"{', '.join(sorted(available))} (add one in the --config TOML file)")
                if agent not in known:
                    raise UsageError(f"agent {agent!r} is not registered in swarm.agents; "
                                     f"add it with `pgswarm agents add {agent}`")
            return list(dict.fromkeys(self.config.agents))
        chosen = sorted(a for a in available & known if a != "shell" or self.config.allow_shell)
        if not chosen:
            raise UsageError("this worker has no agent to run: no profile matches an agent in swarm.agents")
        return chosen

    async def _register(self) -> None:
        await self.db.register(self.hostname, self.pid, self.agents, self.config.queues, self.config.concurrency,
                               _package_version())

    def request_shutdown(self, sig: signal.Signals) -> None:
        if not self.stopping:
            log.info("%s: no new claims; waiting up to %.0fs for %d running attempt(s), then releasing them "
                     "(signal again to stop at once)", sig.name, self.config.shutdown_grace, len(self.running))
            self.stopping = True
        else:
            log.info("%s again: stopping running attempts now", sig.name)
            self.stop_at_once = True
            for task in self.running.values():
                task.request_stop("shutdown")
        self.wake.set()

    async def _drain_on_shutdown(self) -> None:
        jobs = [t.job for t in self.running.values() if t.job is not None]
        if jobs and not self.stop_at_once:
            await asyncio.wait(jobs, timeout=self.config.shutdown_grace)
        for task in list(self.running.values()):
            task.request_stop("shutdown")
        jobs = [t.job for t in self.running.values() if t.job is not None]
        if jobs:
            await asyncio.wait(jobs)

    # -- notifications and reconnection -------------------------------------------------------

    def _on_ready(self, agent: str) -> None:
        if agent in self.agents or not agent:
            self.wake.set()

    def _on_cancel(self, task_id: int) -> None:
        task = self.running.get(task_id)
        if task is not None:
            log.info("task %d: cancel requested; stopping it", task_id)
            task.request_stop("cancel")

    async def _on_reconnect(self) -> None:
        await self._register()
        await self._heartbeat_once()
        self.wake.set()

    # -- claiming -----------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        backlog = False  # the last claim filled every free slot: more tasks are probably waiting
        while not self.stopping:
            free = self._free_slots()
            if free <= 0 or not self.db.connected.is_set():
                # Cleared first: a wake-up that came while every slot was busy (a NOTIFY, a report
                # acknowledged) would otherwise turn this loop into a busy wait.
                self.wake.clear()
                await self._sleep_until_woken(self.config.poll_interval)
                continue
            if backlog and free < self.config.concurrency / 2:
                free = await self._gather_free_slots()
            self.wake.clear()
            try:
                rows = await self.db.claim(self.agents, self.config.queues, free, self.config.lease_seconds,
                                           self.hostname, self.pid)
            except DatabaseDown:
                continue
            for row in rows:
                self._start(row)
            backlog = len(rows) == free
            if not backlog:
                await self._sleep_until_woken(await self._idle_timeout())

    async def _gather_free_slots(self) -> int:
        """With a backlog, wait a moment (CLAIM_GATHER_SECONDS at most) for more slots to free, so
        one claim call fills several: short tasks then cost one claim per batch, not per task.
        Long tasks lose nothing (the wait is short); an idle worker never waits here."""
        deadline = time.monotonic() + CLAIM_GATHER_SECONDS
        while not self.stopping:
            free = self._free_slots()
            left = deadline - time.monotonic()
            if free >= self.config.concurrency / 2 or left <= 0:
                return free
            self.wake.clear()
            await self._sleep_until_woken(left)
        return self._free_slots()

    def _free_slots(self) -> int:
        """Slots hold processes: an attempt whose process has exited only waits for its report to
        be acknowledged, which must not keep the next task from starting."""
        return self.config.concurrency - sum(1 for task in self.running.values() if not task.exited)

    async def _idle_timeout(self) -> float:
        """Until the fallback poll, or sooner when a pending task becomes claimable."""
        try:
            seconds = await self.db.seconds_until_next_run(self.agents, self.config.queues)
        except DatabaseDown:
            return self.config.poll_interval
        if seconds is None:
            return self.config.poll_interval
        return max(0.0, min(self.config.poll_interval, seconds + 0.001))

    async def _sleep_until_woken(self, timeout: float) -> None:
        if self.stopping:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout)

    def _start(self, row: Any) -> None:
        args = json.loads(row["args"]) if isinstance(row["args"], str) else dict(row["args"] or {})
        profile = self.profiles.get(row["agent"])
        assert profile is not None, f"claimed a task for {row['agent']}, which has no profile"
        spec = TaskSpec(id=row["id"], attempt=row["attempts"], agent=row["agent"], prompt=row["prompt"] or "",
                        args=args, timeout_seconds=row["timeout_seconds"])
        task = RunningTask(id=row["id"], attempt=row["attempts"], agent=row["agent"], profile=profile, spec=spec,
                           depends_on=list(row["depends_on"] or []))
        previous = self.running.get(task.id)
        if previous is not None:
            # The engine handed this task out again, so the earlier run's claim is gone: its lease
            # expired, or (claims commit without waiting for the flush) a crash or failover lost
            # the claim. That run is stopped unreported; this one starts once it has wound down.
            log.warning("task %d: claimed again (attempt %d) while attempt %d still runs here; stopping that run",
                        task.id, task.attempt, previous.attempt)
            previous.request_stop("lost")
            task.superseded = previous.job
        self.running[task.id] = task
        self.metrics.count("claimed", task.agent)
        self.metrics.running[task.agent] += 1
        if row["started_at"] is not None:
            ready_at = max(row["run_after"], row["created_at"])
            self.metrics.pickups[task.agent].observe(max(0.0, (row["started_at"] - ready_at).total_seconds()))
        task.job = asyncio.get_running_loop().create_task(self._run_task(task), name=f"task-{task.id}")

    # -- one attempt --------------------------------------------------------------------------

    async def _run_task(self, task: RunningTask) -> None:
        try:
            if task.superseded is not None:
                await asyncio.wait({task.superseded})
            await self._execute(task)
        except Exception:
            log.exception("task %d: unexpected error in the worker", task.id)
            await self._report(task, "failed", lambda: self.db.fail(
                task.id, task.attempt, error="the worker hit an internal error running this attempt; see its log",
                exit_code=None, output_tail=None, log_path=None))
        finally:
            if self.running.get(task.id) is task:
                del self.running[task.id]
            self.metrics.running[task.agent] -= 1
            self.wake.set()

    async def _execute(self, task: RunningTask) -> None:
        launch = await self._prepare(task)
        if launch is None:
            return
        try:
            attempt = await process.spawn(launch.argv, env=launch.env, cwd=launch.cwd, log_path=launch.log_path,
                                          log_cap=self.config.log_max_bytes, token=launch.token)
        except OSError as exc:
            if exc.filename == str(launch.log_path):
                await self._report_failure(task, f"cannot write the attempt's log {launch.log_path}: "
                                                 f"{exc.strerror or exc}")
            else:
                await self._report_failure(task, f"cannot start {launch.argv[0]!r}: {exc.strerror or exc} "
                                                 f"(is it installed on {self.hostname}'s PATH?)")
            return
        started = time.monotonic()
        exit_code = await self._wait(task, attempt)
        task.exited = True
        self.wake.set()  # its slot is free
        self.finished_tokens[launch.token] = time.monotonic()
        self.metrics.durations[task.agent].observe(time.monotonic() - started)
        tail = attempt.output_tail(OUTPUT_TAIL_CHARS * 4)[-OUTPUT_TAIL_CHARS:]
        files = {"exit_code": exit_code, "output_tail": tail, "log_path": str(launch.log_path)}
        if task.stop_reason is not None:
            await self._report_stopped(task, files)
            return
        try:
            outcome = task.profile.parse_outcome(exit_code, attempt.output_tail(PARSE_BYTES), launch.log_path)
        except Exception as exc:  # a parser bug must not lose the attempt: report what we know
            log.exception("task %d: the %s profile could not read the output", task.id, task.profile.name)
            outcome = Outcome(kind="failed", error=f"could not read the agent's output ({exc}); exit code {exit_code}")
        result = dict(outcome.result) if outcome.result is not None else None
        if launch.tree is not None:
            info = await worktree.finish(launch.tree, succeeded=outcome.kind == "completed")
            result = {**(result or {}), "worktree": info}
        await self._report_outcome(task, outcome, result, files)

    async def _prepare(self, task: RunningTask) -> Launch | None:
        """The argv, environment, log file, dependency file and worktree of an attempt; None after
        reporting why the attempt cannot start."""
        profile = task.profile
        try:
            argv = profile.build_argv(task.spec)
            problem = process.argv_problem(argv)
            if problem:
                raise ValueError(problem)
            tree_spec = worktree.spec_from_args(task.spec.args) if profile.worktree else None
        except ValueError as exc:
            await self._report_failure(task, f"cannot run this task with the {profile.name} profile: {exc}",
                                       retryable=False)
            return None
        # One flat directory: no directory to make per task (a mkdir cost more than the rest of
        # preparing an attempt).
        stem = f"task-{task.id}-attempt-{task.attempt}"
        env = {**self._base_env(profile), "PGSWARM_TASK_ID": str(task.id), "PGSWARM_ATTEMPT": str(task.attempt),
               "PGSWARM_DSN": self.config.dsn, "PGSWARM_WORKER": self.name}
        if task.depends_on:
            deps = await self._with_database(task, lambda: self.db.dependency_results(task.id))
            if deps is None:
                return None  # stopped (lost, cancelled or shutdown) while the database was away
            deps_file = self.config.logs / f"{stem}-deps.json"
            try:
                with process.open_attempt_file(deps_file) as handle:
                    handle.write(json.dumps(deps, indent=2, default=str).encode())
            except OSError as exc:
                await self._report_failure(task, f"cannot write the dependencies' results to {deps_file}: {exc}")
                return None
            env["PGSWARM_DEPS_FILE"] = str(deps_file)
        tree: worktree.Worktree | None = None
        if tree_spec is not None:
            try:
                tree = await worktree.prepare(*tree_spec, task_id=task.id)
            except worktree.WorktreeError as exc:
                await self._report_failure(task, f"cannot create the git worktree: {exc}")
                return None
        return Launch(argv=argv, env=env, cwd=tree.path if tree else None, tree=tree,
                      log_path=self.config.logs / f"{stem}.log",
                      token=process.run_token(self.name, task.id, task.attempt, next(self._run_counter)))

    async def _report_stopped(self, task: RunningTask, files: dict[str, Any]) -> None:
        """Report an attempt the worker stopped: lost (nothing to say), shutdown (released without
        spending the attempt), cancel (the engine records cancelled), timeout (a failed attempt)."""
        if task.stop_reason == "lost":
            log.warning("task %d: lease lost (another worker owns it now); stopped, not reported", task.id)
            self.metrics.count("lost", task.agent)
        elif task.stop_reason == "shutdown":
            await self._report(task, "released", lambda: self.db.release(
                task.id, task.attempt, reason=f"worker {self.name} shutting down"))
        elif task.stop_reason == "cancel":
            await self._report(task, "cancelled", lambda: self.db.fail(
                task.id, task.attempt, error="cancelled while running; the process was stopped", retryable=False,
                **files))
        else:
            signals = "/".join(s.name for s in task.profile.stop_signals)
            await self._report(task, "failed", lambda: self.db.fail(
                task.id, task.attempt, error=f"timed out after {task.spec.timeout_seconds}s; the process was stopped "
                                             f"({signals}, then SIGKILL)", **files))

    async def _wait(self, task: RunningTask, attempt: process.Attempt) -> int:
        """The exit code; stops the process on timeout or a stop request first."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not woken.done():
                woken.set_result(None)

        # One future woken by whichever comes first: the exit, a stop request, the timeout.
        attempt.exited.add_done_callback(wake)
        task.on_stop = wake
        timer = loop.call_later(task.spec.timeout_seconds, wake) if task.spec.timeout_seconds else None
        if task.stop_reason is not None:
            wake()
        try:
            await woken
        finally:
            task.on_stop = None
            attempt.exited.remove_done_callback(wake)
            if timer is not None:
                timer.cancel()
        if not process.collect_if_exited(attempt):
            if task.stop_reason is None:
                task.stop_reason = "timeout"
            log.info("task %d: stopping the process (%s)", task.id, task.stop_reason)
            signals = task.profile.stop_signals if task.stop_reason != "shutdown" or not self.stop_at_once else ()
            await process.stop(attempt, signals, self.config.kill_grace)
        elif task.stop_reason is not None:
            # It ended on its own before the stop request (a worker suspended while its agent
            # finished sees both at once): its outcome is reported; the fence decides whether it counts.
            log.info("task %d: the process had already exited (%s requested); reporting its outcome",
                     task.id, task.stop_reason)
            task.stop_reason = None
        return await attempt.wait()

    async def _report_outcome(self, task: RunningTask, outcome: Outcome, result: dict[str, Any] | None,
                              files: dict[str, Any]) -> None:
        if outcome.kind == "completed":
            await self._report(task, "completed", lambda: self._complete(
                task_id=task.id, attempt=task.attempt, result=result, cost_usd=outcome.cost_usd,
                input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens, **files))
        elif outcome.kind == "usage_limit":
            until = outcome.pause_until
            reason = outcome.pause_reason or f"{task.agent} usage limit"
            log.warning("task %d: %s; pausing %s until %s", task.id, reason, task.agent, until)
            if until is not None:
                await self._with_database(task, lambda: self.db.pause_agent(task.agent, until, reason), always=True)
            await self._report(task, "released", lambda: self.db.release(
                task.id, task.attempt, reason=f"usage limit: {reason}"))
        elif outcome.kind == "tempfail":
            await self._report(task, "released", lambda: self.db.release(
                task.id, task.attempt, delay_seconds=outcome.retry_in_seconds or 0,
                reason=outcome.error or f"exit code {files['exit_code']} (EX_TEMPFAIL): try again later"))
        else:
            await self._report(task, "failed", lambda: self.db.fail(
                task.id, task.attempt, error=outcome.error or f"exit code {files['exit_code']}", result=result,
                cost_usd=outcome.cost_usd, input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
                retry_in_seconds=outcome.retry_in_seconds, retryable=outcome.retryable, **files))

    async def _complete(self, **report: Any) -> Report:
        """Queue a completion; completions that pile up while a call is in flight go together in
        one statement (one commit instead of one per task)."""
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._completions.append((report, future))
        if self._completion_flusher is None or self._completion_flusher.done():
            self._completion_flusher = asyncio.get_running_loop().create_task(self._flush_completions())
        return await future

    async def _flush_completions(self) -> None:
        while self._completions:
            batch, self._completions = self._completions, []
            try:
                if len(batch) == 1:
                    reports = [await self.db.complete(**batch[0][0])]
                else:
                    reports = await self.db.complete_many([report for report, _ in batch])
            except Exception as exc:  # DatabaseDown: each waiting report holds and retries
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), report in zip(batch, reports):
                future.set_result(report)

    async def _report_failure(self, task: RunningTask, error: str, retryable: bool = True) -> None:
        log.warning("task %d: %s", task.id, error)
        task.exited = True
        await self._report(task, "failed", lambda: self.db.fail(
            task.id, task.attempt, error=error, exit_code=None, output_tail=None, log_path=None, retryable=retryable))

    async def _report(self, task: RunningTask, metric: str, call: Any) -> None:
        """Send a report, holding it while the database is away (the fence makes a late one safe)."""
        report: Report | None = await self._with_database(task, call, always=True)
        if report is None:
            return
        if report.accepted:
            self.metrics.count(metric if report.status != "cancelled" else "cancelled", task.agent)
        else:
            log.warning("task %d attempt %d: report refused: %s", task.id, task.attempt, report.message)

    async def _with_database(self, task: RunningTask, call: Any, always: bool = False) -> Any:
        """Run call() until the database answers. Gives up (None) when the task stopped being ours,
        or, for `always`, only after a shutdown wait."""
        deadline: float | None = None
        while True:
            try:
                return await call()
            except DatabaseDown as exc:
                if not always and task.stop_reason is not None:
                    return None
                if self.stopping:
                    deadline = deadline or time.monotonic() + SHUTDOWN_REPORT_WAIT
                    if time.monotonic() > deadline:
                        log.error("task %d: database still away at shutdown; leaving the attempt to lease expiry", task.id)
                        return None
                log.info("task %d: database away (%s); holding the report", task.id, exc)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.db.connected.wait(), 1.0)

    def _base_env(self, profile: Profile) -> dict[str, str]:
        """The profile's environment (allowlist + extra variables), built once per profile."""
        env = self._profile_envs.get(profile.name)
        if env is None:
            env = self._profile_envs[profile.name] = process.build_env(profile.env_allowlist, profile.extra_env)
        return env

    # -- background duties --------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            with contextlib.suppress(DatabaseDown):
                await self._heartbeat_once()

    async def _heartbeat_once(self) -> None:
        ids = list(self.running)
        for row in await self.db.heartbeat(ids, self.config.lease_seconds):
            task = self.running.get(row["task_id"])
            if task is None:
                continue
            if not row["owned"]:
                task.request_stop("lost")
            elif row["cancel_requested"]:
                task.request_stop("cancel")

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.reap_interval * random.uniform(0.5, 1.5))
            with contextlib.suppress(DatabaseDown):
                reaped = await self.db.reap_expired()
                if reaped:
                    log.info("reaped %d expired lease(s)", reaped)
                    self.wake.set()

    async def _sweep_loop(self) -> None:
        """Kill descendants that outlived their attempt (daemons left behind, setsid escapees)."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            now = time.monotonic()
            for token, at in list(self.finished_tokens.items()):
                if now - at > SWEEP_KEEP_SECONDS:
                    del self.finished_tokens[token]
            if self.finished_tokens:
                killed = await asyncio.to_thread(process.sweep, set(self.finished_tokens))
                if killed:
                    log.info("killed %d process(es) left behind by finished attempts", killed)


def run_worker(config: WorkerConfig) -> int:
    """Run a worker until SIGTERM/SIGINT; the exit code (0 after a graceful stop)."""
    logging.basicConfig(level=os.environ.get("PGSWARM_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .profiles.custom import load_profiles

    profiles = load_profiles(config.config_file, config.allow_shell)
    process.keep_inherited_ignores_out_of_agents()
    return asyncio.run(Runner(config, profiles).run())
