"""The supervisor: claims what there is room for, starts attempts, and keeps the background duties.

It decides nothing about task state: every transition is a call to the SQL API (sqlapi.py), made
by the reporter (reporter.py) for each attempt's outcome (attempt.py). What the supervisor decides
is local: when to claim (a wake-up on its own channel or swarm_wake, a freed slot, the fallback
poll, the earliest future run_after), when an attempt must stop (cancel, lease lost, shutdown), and when
the worker itself cannot go on.

Which agents it claims is local too: the agents it may run (--agents, or every profile) that
this node can start (quarantine.py: probed at start and every few minutes; an agent whose attempt
met a node-local fault is quarantined here, re-probed with backoff, and never paused for others).

Background duties (heartbeat, reaping, the sweep of left-behind processes, the completion
flusher, the agent probes) run as named asyncio tasks. A duty that dies stops the worker with one clear message
and exit code 1, after stopping and releasing its attempts: a worker whose heartbeat loop died
would otherwise run agents whose leases silently expire and whose tasks run twice.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import capability, process, quarantine, schedules
from .attempt import Attempt, AttemptSettings
from .config import WorkerConfig
from .errors import DatabaseDown, UsageError, WorkerFault
from .live_output import OutputShipper, OutputStream
from .metrics import Metrics
from .profiles.base import ProfileSet
from .records import AttemptOutcome, ClaimedTask
from .reporter import Reporter
from .schema_files import required_schema_version
from .sqlapi import Database

log = logging.getLogger("pgswarm.worker")

# How long finished attempts' run tokens stay on the sweep list (descendants that outlive them).
SWEEP_KEEP_SECONDS = 60.0
SWEEP_INTERVAL = 2.0
# With a backlog and fewer than half the slots free, how long the claim loop waits for more to free.
CLAIM_GATHER_SECONDS = 0.002


def _package_version() -> str:
    try:
        return version("pgswarm")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Slot:
    """A running attempt and the asyncio task that drives it (prepare, run, report)."""

    attempt: Attempt
    job: asyncio.Task[None] | None = None
    stream: OutputStream | None = None  # its live output, shipped by the live output duty


class Supervisor:
    def __init__(self, config: WorkerConfig, profiles: ProfileSet) -> None:
        self.config = config
        self.profiles = profiles
        self.name = config.worker_name
        self.hostname = socket.gethostname()
        self.pid = os.getpid()
        self.agents: list[str] = []
        self.running: dict[int, Slot] = {}
        self._session_jobs: set[asyncio.Task[None]] = set()  # record_session calls in flight
        self.wake = asyncio.Event()
        # Tasks named by swarm_cancel notifications, waiting for the database's word: any login
        # may NOTIFY, so an attempt stops for a cancel only when a heartbeat's answer says so.
        self.cancel_hints: set[int] = set()
        self.cancel_hinted = asyncio.Event()
        self.stopping = False
        self.skip_grace = False  # stop running attempts without waiting for the shutdown grace
        self.fault: str | None = None  # why the worker stops on its own
        self.finished_tokens: dict[str, float] = {}
        self.duties: list[asyncio.Task[Any]] = []
        self.quarantine = quarantine.Quarantine()
        self.quarantine_changed = asyncio.Event()
        self.metrics = Metrics(self.name)
        self.metrics_port: int | None = None
        self.db = Database(config.dsn, self.name, on_ready=self._on_ready, on_cancel=self._on_cancel,
                           on_reconnect=self._on_reconnect, on_fatal=self.fail,
                           required_schema=required_schema_version(),
                           call_timeout=max(5.0, config.lease_seconds / 2))
        self.reporter = Reporter(self.db, self.metrics)
        self.agent_key = capability.new_agent_key()
        self.output = OutputShipper(self.db)
        self.attempt_settings = AttemptSettings(worker=self.name, hostname=self.hostname, agent_dsn=config.agent_dsn,
                                                agent_key=self.agent_key,
                                                logs=config.logs, log_max_bytes=config.log_max_bytes,
                                                kill_grace=config.kill_grace)

    # -- life cycle ---------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_shutdown, sig)
        try:
            process.make_private_dir(self.config.logs)
        except OSError as exc:
            raise UsageError(f"--log-dir {self.config.logs}: cannot create it ({exc.strerror or exc})") from None
        orphans = process.sweep_worker(self.name)
        if orphans:
            log.warning("killed %d agent process(es) left running by an earlier worker named %s", orphans, self.name)
        await self.db.connect()
        self.agents = await self._choose_agents()
        await self._register()
        if self.config.metrics_port is not None:
            self.metrics_port = await self.metrics.serve(self.config.metrics_port, self.config.metrics_host)
        log.info("worker %s ready: agents %s, concurrency %d%s", self.name, ",".join(self.agents),
                 self.config.concurrency, f", metrics on :{self.metrics_port}" if self.metrics_port else "")
        if self.config.agent_dsn is None:
            log.warning("agents get no database login (--agent-dsn): `pgswarm add` inside an agent (follow-up "
                        "tasks) cannot connect; give them a login holding only the role swarm_agent")
        self._start_duty("heartbeat", self._heartbeat_loop())
        self._start_duty("cancel check", self._cancel_check_loop())
        self._start_duty("reaper", self._reap_loop())
        self._start_duty("sweeper", self._sweep_loop())
        self._start_duty("completion reporter", self.reporter.flush_completions())
        self._start_duty("live output", self.output.run())
        self._start_duty("schedule firing", schedules.fire_schedules_forever(self.db, self.config.poll_interval))
        self._start_duty("agent probes", self._probe_loop())
        try:
            try:
                await self._claim_loop()
            except Exception as exc:
                log.exception("the claim loop failed")
                self.fail(f"the claim loop failed: {type(exc).__name__}: {exc}")
            await self._drain_on_shutdown()
        finally:
            for duty in self.duties:
                duty.cancel()
            await asyncio.gather(*self.duties, return_exceptions=True)
            process.sweep(set(self.finished_tokens))
            with contextlib.suppress(DatabaseDown):
                await self.db.stop_worker()
            await self.db.close()
            await self.metrics.close()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        if self.fault is not None:
            raise WorkerFault(f"worker {self.name} stopped: {self.fault}")
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
            chosen = list(dict.fromkeys(self.config.agents))
        else:
            chosen = sorted(a for a in available & known if a != "shell" or self.config.allow_shell)
            if not chosen:
                raise UsageError("this worker has no agent to run: no profile matches an agent in swarm.agents")
        return await self._probe_at_start(chosen)

    async def _probe_at_start(self, chosen: list[str]) -> list[str]:
        """Probe each agent: with --agents every one must start here (a clear error otherwise);
        without, those that cannot are quarantined (re-probed later) and the rest claimed."""
        probes = dict(zip(chosen, await asyncio.gather(
            *(quarantine.probe(self.profiles.profiles[agent]) for agent in chosen))))
        broken = {agent: found for agent, found in probes.items() if not found.ok}
        if broken and self.config.agents is not None:
            raise UsageError("cannot start " + "; ".join(f"agent {agent!r} on this node: {found.reason}"
                                                         for agent, found in broken.items())
                             + " (install it, fix PATH or the profile's command, or leave it out of --agents)")
        if len(broken) == len(chosen):
            raise UsageError("no agent this worker may run can start on this node: " + "; ".join(
                f"{agent}: {found.reason}" for agent, found in broken.items()))
        for agent, found in probes.items():
            if found.ok:
                log.info("agent %s: %s", agent, found.version or "found")
            else:
                self.quarantine.add(agent, "missing", found.reason)
                log.warning("agent %s cannot start on this node (%s); not claiming it here", agent, found.reason)
        return chosen

    async def _register(self) -> None:
        await self.db.register(self.hostname, self.pid, self.agents, self.config.queues, self.config.concurrency,
                               _package_version(), allowed_args=self.config.allow_args)
        await self.db.register_agent_key(self.agent_key)
        await self._declare_task_args()
        await self.db.set_quarantine(self.quarantine.as_json())

    async def _declare_task_args(self) -> None:
        """Profiles from the TOML file declare their task args where the agent has none yet, so
        the engine checks tasks for them at INSERT (and marks their widening values)."""
        from .profiles.custom import declaration

        for agent in self.agents:
            task_args, like_agent = declaration(self.profiles.get(agent))
            if (task_args is not None or like_agent is not None) \
                    and await self.db.declare_task_args(agent, task_args, like_agent):
                log.info("declared the task args of agent %s from its profile (%s)", agent,
                         f"as {like_agent}'s" if like_agent else ", ".join(task_args or {}) or "none")

    def _claimable_agents(self) -> list[str]:
        """The agents this worker claims now: its agents minus those quarantined here."""
        blocked = self.quarantine.blocked()
        return [agent for agent in self.agents if agent not in blocked]

    def request_shutdown(self, sig: signal.Signals) -> None:
        if not self.stopping:
            log.info("%s: no new claims; waiting up to %.0fs for %d running attempt(s), then releasing them "
                     "(signal again to stop at once)", sig.name, self.config.shutdown_grace, len(self.running))
            self._stop_claiming()
        else:
            log.info("%s again: stopping running attempts now", sig.name)
            self._stop_attempts_now(at_once=True)

    def fail(self, reason: str) -> None:
        """A part of the worker failed for good: stop claiming, stop every attempt now (with its
        profile's stop signals) and release it, and exit with the reason (exit code 1; systemd's
        Restart=on-failure starts it again)."""
        if self.fault is None:
            self.fault = reason
            log.error("worker %s is stopping: %s", self.name, reason)
        self._stop_attempts_now(at_once=False)

    def _stop_claiming(self) -> None:
        self.stopping = True
        self.reporter.stopping = True
        self.wake.set()

    def _stop_attempts_now(self, at_once: bool) -> None:
        """No shutdown grace: stop every running attempt now (at_once: SIGKILL, skipping the
        profile's gentler signals); each is released without spending the attempt."""
        self._stop_claiming()
        self.skip_grace = True
        for slot in self.running.values():
            slot.attempt.request_stop("shutdown", at_once=at_once)

    async def _drain_on_shutdown(self) -> None:
        jobs = [slot.job for slot in self.running.values() if slot.job is not None]
        if jobs and not self.skip_grace:
            await asyncio.wait(jobs, timeout=self.config.shutdown_grace)
        for slot in list(self.running.values()):
            slot.attempt.request_stop("shutdown")
        jobs = [slot.job for slot in self.running.values() if slot.job is not None]
        if jobs:
            await asyncio.wait(jobs)

    # -- background duties, supervised ----------------------------------------------------------

    def _start_duty(self, name: str, body: Coroutine[Any, Any, None]) -> None:
        duty = asyncio.get_running_loop().create_task(body, name=f"pgswarm-{name}")
        duty.add_done_callback(lambda finished: self._duty_ended(name, finished))
        self.duties.append(duty)

    def _duty_ended(self, name: str, duty: asyncio.Task[Any]) -> None:
        if duty.cancelled():
            return
        exc = duty.exception()
        if exc is None:
            self.fail(f"the {name} loop ended unexpectedly")
        else:
            log.error("the %s loop failed", name, exc_info=exc)
            self.fail(f"the {name} loop failed: {type(exc).__name__}: {exc}")

    # -- notifications and reconnection -------------------------------------------------------

    def _on_ready(self, agent: str) -> None:
        if agent in self.agents or not agent:
            self.wake.set()

    def _on_cancel(self, task_id: int) -> None:
        if task_id in self.running:
            self.cancel_hints.add(task_id)
            self.cancel_hinted.set()

    async def _on_reconnect(self) -> None:
        await self._register()
        await self._heartbeat_once()
        self.wake.set()

    # -- claiming -----------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        backlog = False  # the last claim filled every free slot: more tasks are probably waiting
        polling = False  # the idle sleep ended without a wake-up: ask before claiming
        while not self.stopping:
            free = self._free_slots()
            if free <= 0 or not self.db.connected.is_set():
                # Cleared first: a wake-up that came while every slot was busy (a NOTIFY, a report
                # acknowledged) would otherwise turn this loop into a busy wait.
                self.wake.clear()
                polling = False
                await self._sleep_until_woken(self.config.poll_interval)
                continue
            if backlog and free < self.config.concurrency / 2:
                free = await self._gather_free_slots()
            self.wake.clear()
            # Quarantined agents left out; none left claims nothing and keeps no wake-up for them.
            agents = self._claimable_agents()
            try:
                if polling:
                    # The fallback poll: hints go to as many idle workers as there are tasks
                    # (sql/66_wake.sql), so a poll mostly finds nothing; asking is a read, a
                    # claim writes. A fleet of idle workers then costs the database little.
                    polling = False
                    seconds = await self.db.idle_check(agents, self.config.queues)
                    if seconds is None or seconds > 0:
                        timeout, timer = self._poll_timeout(seconds)
                        polling = not await self._sleep_until_woken(timeout) and not timer
                        continue
                claimed = await self.db.claim(agents, self.config.queues, free, self.config.lease_seconds,
                                              self.hostname, self.pid)
            except DatabaseDown:
                continue
            for task in claimed:
                self._start(task)
            backlog = len(claimed) == free
            if not backlog:
                timeout, timer = await self._idle_timeout()
                polling = not await self._sleep_until_woken(timeout) and not timer

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
        be acknowledged, which must not keep the next task from starting. (Its slot frees once the
        last of its live output is shipped: no call for a short attempt, one for the others.)"""
        return self.config.concurrency - sum(1 for slot in self.running.values()
                                             if not slot.attempt.exited or slot.stream is not None)

    async def _idle_timeout(self) -> tuple[float, bool]:
        """Until the fallback poll, or sooner when a pending task becomes claimable."""
        try:
            seconds = await self.db.seconds_until_next_run(self._claimable_agents(), self.config.queues)
        except DatabaseDown:
            return self.config.poll_interval, False
        return self._poll_timeout(seconds)

    def _poll_timeout(self, seconds_until_next_run: float | None) -> tuple[float, bool]:
        """The poll interval, less up to a fifth at random (workers restarted together do not poll
        together; never longer than the interval), or sooner when a task becomes claimable; and
        whether it is that timer (then the claim goes ahead without asking first)."""
        poll = self.config.poll_interval * random.uniform(0.8, 1.0)
        if seconds_until_next_run is None or seconds_until_next_run + 0.001 >= poll:
            return poll, False
        return max(0.0, seconds_until_next_run + 0.001), True

    async def _sleep_until_woken(self, timeout: float) -> bool:
        """Whether a wake-up came (a hint, a freed slot, shutdown) before the timeout."""
        if self.stopping:
            return True
        try:
            await asyncio.wait_for(self.wake.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def _start(self, task: ClaimedTask) -> None:
        profile = self.profiles.get(task.agent)
        assert profile is not None, f"claimed a task for {task.agent}, which has no profile"
        stream = self.output.open(task.id, task.attempt)
        attempt = Attempt(task, profile, self.attempt_settings, on_exit=self._on_attempt_exit,
                          on_output=stream.write, on_session=self._record_session)
        previous = self.running.get(task.id)
        superseded: asyncio.Task[None] | None = None
        if previous is not None:
            # The engine handed this task out again, so the earlier run's claim is gone: its lease
            # expired, or (claims commit without waiting for the flush) a crash or failover lost
            # the claim. That run is stopped unreported; this one starts once it has wound down.
            log.warning("task %d: claimed again (attempt %d) while attempt %d still runs here; stopping that run",
                        task.id, task.attempt, previous.attempt.task.attempt)
            previous.attempt.request_stop("lost")
            superseded = previous.job
        slot = self.running[task.id] = Slot(attempt, stream=stream)
        self.metrics.count("claimed", task.agent)
        self.metrics.running[task.agent] += 1
        if task.claimed_at is not None and task.ready_at is not None:
            self.metrics.pickups[task.agent].observe(max(0.0, (task.claimed_at - task.ready_at).total_seconds()))
        slot.job = asyncio.get_running_loop().create_task(self._run_slot(slot, superseded), name=f"task-{task.id}")

    # -- one attempt: dependencies in, outcome out, reported ------------------------------------

    async def _run_slot(self, slot: Slot, superseded: asyncio.Task[None] | None) -> None:
        attempt = slot.attempt
        task = attempt.task
        try:
            if superseded is not None:
                await asyncio.wait({superseded})
            dependencies = None
            if task.depends_on:
                dependencies = await self.reporter.hold(task.id, lambda: self.db.dependency_results(task.id),
                                                        give_up=lambda: attempt.stop_reason is not None)
                if dependencies is None and attempt.stop_reason is not None:
                    return  # stopped (lost, cancelled or shutdown) while the database was away
            outcome = await attempt.run(dependencies)
            if outcome.kind == "node_fault":
                await self._quarantine(task.agent, outcome.fault, outcome.error or "node-local fault")
            elif outcome.kind in ("completed", "failed"):
                self.quarantine.ran(task.agent)
            if slot.stream is not None:
                # Shutting down, the last output waits a moment only (the log file has it).
                await self.output.finish(slot.stream, **({"timeout": 2.0} if self.stopping else {}))
                slot.stream = None  # the slot is free now (see _free_slots)
                self.wake.set()
            await self.reporter.report(outcome)
        except Exception:
            log.exception("task %d: unexpected error in the worker", task.id)
            try:
                await self.reporter.report(AttemptOutcome(
                    task, "failed", error="the worker hit an internal error running this attempt; see its log"))
            except Exception as exc:
                log.exception("task %d: the failure could not be reported either", task.id)
                self.fail(f"cannot report the outcome of task {task.id}: {type(exc).__name__}: {exc}")
        finally:
            if self.running.get(task.id) is slot:
                del self.running[task.id]
            self.metrics.running[task.agent] -= 1
            self.wake.set()

    def _record_session(self, attempt: Attempt, session_id: str) -> None:
        """Record the agent's session while the attempt runs (held while the database is away, given
        up once the attempt ended: its report carries the session then)."""
        task = attempt.task

        async def record() -> None:
            await self.reporter.hold(task.id, lambda: self.db.record_session(task.id, task.attempt, session_id),
                                     give_up=lambda: attempt.exited)

        job = asyncio.get_running_loop().create_task(record(), name=f"session-{task.id}")
        self._session_jobs.add(job)
        job.add_done_callback(self._session_recorded)

    def _session_recorded(self, job: asyncio.Task[None]) -> None:
        self._session_jobs.discard(job)
        if not job.cancelled() and job.exception() is not None:
            # Only a resume after a lost lease needs it; the report records the session anyway.
            log.warning("%s: could not record the agent session: %s", job.get_name(), job.exception())

    def _on_attempt_exit(self, attempt: Attempt) -> None:
        """The attempt's process is gone (or never started): its slot is free now, though its
        report may not be acknowledged yet; its run token goes on the sweep list."""
        if attempt.token is not None:
            self.finished_tokens[attempt.token] = time.monotonic()
        if attempt.run_seconds is not None:
            self.metrics.durations[attempt.task.agent].observe(attempt.run_seconds)
        self.wake.set()

    # -- the duties ---------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            with contextlib.suppress(DatabaseDown):
                await self._heartbeat_once()

    async def _cancel_check_loop(self) -> None:
        """Answer cancel notifications with a heartbeat at once (it stops what the database says
        was cancelled). Notifications that arrive meanwhile share the next call, so a flood of
        them costs one call at a time."""
        while True:
            await self.cancel_hinted.wait()
            self.cancel_hinted.clear()
            with contextlib.suppress(DatabaseDown):
                await self._heartbeat_once()

    async def _heartbeat_once(self) -> None:
        leases = {task_id: slot.attempt.task.lease_token for task_id, slot in self.running.items()}
        hinted, self.cancel_hints = self.cancel_hints, set()
        for row in await self.db.heartbeat(leases, self.config.lease_seconds):
            slot = self.running.get(row["task_id"])
            if slot is None:
                continue
            if not row["owned"]:
                slot.attempt.request_stop("lost")
            elif row["cancel_requested"]:
                log.info("task %d: cancel requested; stopping it", row["task_id"])
                slot.attempt.request_stop("cancel")
            elif row["task_id"] in hinted:
                log.warning("task %d: swarm_cancel notification, but the database has no cancel for it; "
                            "the attempt goes on (someone may be sending spoofed notifications)", row["task_id"])

    async def _quarantine(self, agent: str, kind: str, reason: str) -> None:
        """Stop claiming the agent here (before its task is released, so this worker cannot take
        it back) and show it in swarm.workers; the agent is not paused for other nodes."""
        entry = self.quarantine.add(agent, kind, reason)
        log.warning("agent %s quarantined on this worker (%s) until a probe at %s: %s", agent, kind,
                    entry.retry_at.astimezone().strftime("%H:%M:%S"), reason)
        self.quarantine_changed.set()
        with contextlib.suppress(DatabaseDown):  # sent again with the registration on reconnect
            await self.db.set_quarantine(self.quarantine.as_json())

    async def _probe_loop(self) -> None:
        """Re-probe quarantined agents when their backoff ends (a pass lets the agent back), and
        every PROBE_INTERVAL the agents this worker claims (an executable removed meanwhile)."""
        last_round = time.monotonic()
        while True:
            until_round = quarantine.PROBE_INTERVAL - (time.monotonic() - last_round)
            next_due = self.quarantine.seconds_to_next()
            wait = max(0.0, min(until_round, next_due if next_due is not None else until_round))
            self.quarantine_changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.quarantine_changed.wait(), wait)
            changed = False
            for agent in self.quarantine.due():
                found = await quarantine.probe(self.profiles.profiles[agent], with_version=False)
                if found.ok:
                    self.quarantine.lift(agent)
                    log.info("agent %s: the probe passed; claiming it again on this worker", agent)
                else:
                    self.quarantine.add(agent, "missing", found.reason)
                changed = True
            if time.monotonic() - last_round >= quarantine.PROBE_INTERVAL:
                last_round = time.monotonic()
                for agent in self._claimable_agents():
                    problem = quarantine.executable_problem(self.profiles.profiles[agent])
                    if problem is not None:
                        self.quarantine.add(agent, "missing", problem)
                        log.warning("agent %s can no longer start on this node (%s); not claiming it here",
                                    agent, problem)
                        changed = True
            if changed:
                with contextlib.suppress(DatabaseDown):
                    await self.db.set_quarantine(self.quarantine.as_json())
                self.wake.set()

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
    """Run a worker until SIGTERM/SIGINT; the exit code (0 after a graceful stop). Raises
    WorkerFault when the worker stopped because a part of it failed."""
    logging.basicConfig(level=os.environ.get("PGSWARM_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .profiles.custom import load_policy, load_profiles

    profiles = load_profiles(config.config_file, config.allow_shell)
    config.allow_args = (*config.allow_args, *load_policy(config.config_file))
    if config.allow_args:
        logging.getLogger("pgswarm.worker").info("the arg policy allows: %s", ", ".join(config.allow_args))
    process.keep_inherited_ignores_out_of_agents()
    return asyncio.run(Supervisor(config, profiles).run())
