"""One attempt of a claimed task on this node: prepare it, run its process, say how it ended.

No database calls here: the supervisor hands over the claimed task (and its dependencies'
results, fetched before) and gets back an AttemptOutcome, which the reporter sends. What an
attempt decides is local: its argv, environment, log and working directory, when to stop its
process (its timeout, or a stop the supervisor asks for: cancel, lease lost, shutdown), and what
its output says (the profile's parser).
"""
from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from . import capability, process, sessions, worktree
from .faults import last_printed_error, node_fault_reason
from .profiles.base import Outcome, Profile, TaskSpec
from .records import AttemptOutcome, ClaimedTask

log = logging.getLogger("pgswarm.worker")

OUTPUT_TAIL_CHARS = 8192
SESSION_WATCH = 120.0  # how long an attempt's log is watched for the agent's session id
# A task's timeout when neither the task nor its agent's profile sets one (task > profile > this).
DEFAULT_TIMEOUT_SECONDS = 1800
PARSE_BYTES = 256 * 1024

# idle: printed nothing for idle_timeout_seconds; result_hang: printed its final result and did
# not exit within the profile's grace (reported as the result it printed).
StopReason = Literal["timeout", "cancel", "lost", "shutdown", "idle", "result_hang"]

_run_counter = itertools.count(1)  # numbers this process's run tokens
_profile_envs: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class AttemptSettings:
    """What every attempt of one worker shares."""

    worker: str
    hostname: str
    # The agents' own login (--agent-dsn), never the worker's; None: agents get no database login.
    agent_dsn: str | None
    agent_key: bytes  # registered with swarm.register_agent_key: the attempts' tokens are made with it
    logs: Path
    log_max_bytes: int
    kill_grace: float


@dataclass(frozen=True)
class Launch:
    """What an attempt's process is started with."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path | None
    tree: worktree.Worktree | None
    log_path: Path
    stdin: Path | None = None  # the prompt file, for a prompt too big for one argument


def attempt_environment(profile: Profile, task: ClaimedTask, settings: AttemptSettings,
                        deps_file: Path | None) -> dict[str, str]:
    """The environment of an attempt's process; the only place it is built. The profile's part
    (the allowlisted variables of the worker's environment and the profile's own) is read once
    per profile."""
    base = _profile_envs.get(profile.name)
    if base is None:
        base = _profile_envs[profile.name] = process.build_env(profile.env_allowlist, profile.extra_env)
    env = {**base, "PGSWARM_TASK_ID": str(task.id), "PGSWARM_ATTEMPT": str(task.attempt),
           "PGSWARM_WORKER": settings.worker}
    # The worker's own DSN never reaches an agent (it could complete, fail or cancel any task):
    # the agent gets its attempt's capability and, when the operator gave one, a login of its own.
    for name in process.DSN_ENV:
        env.pop(name, None)
    if settings.agent_dsn:
        env["PGSWARM_DSN"] = settings.agent_dsn
    if task.claimed_at is not None:
        env[capability.TOKEN_VAR] = capability.task_token(settings.agent_key, task.id, task.attempt, task.claimed_at)
    if deps_file is not None:
        env["PGSWARM_DEPS_FILE"] = str(deps_file)
    return env


def _write_private(path: Path, data: bytes) -> None:
    """A file only the worker's user reads (it holds a task token), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _cwd_arg(args: dict[str, Any], worktree_too: bool) -> Path | None:
    """args.cwd (SPEC 3): the agent's working directory; with a worktree (args.repo), a directory
    inside it, relative. ValueError when it cannot be one."""
    cwd = args.get("cwd")
    if cwd is None:
        return None
    if not isinstance(cwd, str) or not cwd:
        raise ValueError(f"args.cwd must be a directory path (got {cwd!r})")
    path = Path(cwd)
    if worktree_too and (path.is_absolute() or ".." in path.parts):
        raise ValueError(f"args.cwd {cwd!r} must be a relative path inside the task's worktree (args.repo is set)")
    if not worktree_too and not path.is_absolute():
        raise ValueError(f"args.cwd {cwd!r} must be an absolute path (the worker's own directory means nothing "
                         "to the task)")
    return path


class Attempt:
    """One run of a claimed task here. The supervisor may ask it to stop at any time."""

    def __init__(self, task: ClaimedTask, profile: Profile, settings: AttemptSettings,
                 on_exit: Callable[[Attempt], None] | None = None,
                 on_output: Callable[[bytes], None] | None = None,
                 on_session: Callable[[Attempt, str], None] | None = None) -> None:
        self.task = task
        self.profile = profile
        self.settings = settings
        self.stop_reason: StopReason | None = None
        self.stop_at_once = False  # a stop skips the profile's gentle signals: SIGKILL
        self.exited = False  # the process is gone (or never started): its slot is free
        self.token: str | None = None  # PGSWARM_RUN_TOKEN, once a process was started
        self.run_seconds: float | None = None
        self._on_exit = on_exit
        self._on_output = on_output  # sees the process's output as it comes (live output)
        # Told the agent's session as soon as its output names it (recorded at once, so that a
        # retry after a lost lease resumes it too).
        self.on_session = on_session
        self.session_id: str | None = None
        self._built_spec: TaskSpec | None = None
        self._wake_on_stop: Callable[[], None] | None = None  # set while the process runs
        self._mcp_config: Path | None = None  # args.swarm_tools: removed when the attempt ends
        # task > profile > default: the task's column is null unless the task set it.
        self.timeout_seconds: int = task.timeout_seconds or profile.timeout_seconds or DEFAULT_TIMEOUT_SECONDS

    def request_stop(self, reason: StopReason, at_once: bool = False) -> None:
        """Stop the process (if it runs) and report the attempt as this reason says."""
        if at_once:
            self.stop_at_once = True
        if self.exited or self.stop_reason is not None:
            return
        self.stop_reason = reason
        if self._wake_on_stop is not None:
            self._wake_on_stop()

    async def run(self, dependencies: Any = None) -> AttemptOutcome:
        """Run the attempt to its end; never raises for what the agent did."""
        try:
            prepared = await self._prepare(dependencies)
            if isinstance(prepared, AttemptOutcome):
                return prepared
            return await self._execute(prepared)
        finally:
            self._mark_exited()
            if self._mcp_config is not None:
                self._mcp_config.unlink(missing_ok=True)

    # -- preparing --------------------------------------------------------------------------

    async def _prepare(self, dependencies: Any) -> Launch | AttemptOutcome:
        """The argv, environment, log file, dependency file and worktree of the attempt, or the
        failed outcome saying why it cannot start."""
        task, profile = self.task, self.profile
        # One flat directory: no directory to make per task (a mkdir cost more than the rest of
        # preparing an attempt).
        stem = f"task-{task.id}-attempt-{task.attempt}"
        swarm_tools = task.args.get("swarm_tools", False)
        mcp_config = self.settings.logs / f"{stem}-mcp.json" if swarm_tools is True else None
        prompt_file: Path | None = None
        try:
            if not isinstance(swarm_tools, bool):
                raise ValueError(f"args.swarm_tools must be true or false, not {swarm_tools!r}")
            if swarm_tools and not getattr(profile, "takes_mcp_config", False):
                raise ValueError("args.swarm_tools needs a profile that takes an MCP configuration (claude, codex)")
            if swarm_tools and not self.settings.agent_dsn:
                raise ValueError(f"args.swarm_tools needs a database login for agents: start the worker on "
                                 f"{self.settings.hostname} with --agent-dsn")
            spec = self._spec(str(mcp_config) if mcp_config else None)
            argv = profile.build_argv(spec)
            problem = process.argv_problem(argv)
            if problem and getattr(profile, "prompt_via", None):
                # Too big for one argument: the prompt goes in a file, on stdin or named in argv.
                prompt_file = self.settings.logs / f"{stem}-prompt.txt"
                spec = dataclasses.replace(spec, prompt_file=prompt_file)
                argv = profile.build_argv(spec)
                problem = process.argv_problem(argv)
            if problem:
                raise ValueError(problem)
            self._built_spec = spec  # what argv was built from (a fresh run after a refused resume)
            tree_spec = worktree.spec_from_args(task.args) if profile.worktree else None
            cwd_arg = _cwd_arg(task.args, worktree_too=tree_spec is not None)
        except ValueError as exc:
            return self._cannot_start(f"cannot run this task with the {profile.name} profile: {exc}",
                                      retryable=False)
        if prompt_file is not None:
            try:
                with process.open_attempt_file(prompt_file) as handle:
                    handle.write(task.prompt.encode())
            except OSError as exc:
                return self._cannot_start(f"cannot write the prompt to {prompt_file}: {exc}")
        deps_file: Path | None = None
        if task.depends_on:
            deps_file = self.settings.logs / f"{stem}-deps.json"
            try:
                with process.open_attempt_file(deps_file) as handle:
                    handle.write(json.dumps(dependencies, indent=2, default=str).encode())
            except OSError as exc:
                return self._cannot_start(f"cannot write the dependencies' results to {deps_file}: {exc}")
        tree: worktree.Worktree | None = None
        if tree_spec is not None:
            try:
                tree = await worktree.prepare(*tree_spec, task_id=task.id)
            except worktree.WorktreeError as exc:
                return self._cannot_start(f"cannot create the git worktree: {exc}")
        env = attempt_environment(profile, task, self.settings, deps_file)
        if mcp_config is not None:
            try:
                self._mcp_config = mcp_config
                _write_private(mcp_config, json.dumps(capability.mcp_config(env), indent=2).encode())
            except OSError as exc:
                return self._cannot_start(f"cannot write the MCP configuration {mcp_config}: {exc}")
        cwd = tree.path if tree else None
        if cwd_arg is not None:
            cwd = cwd / cwd_arg if cwd is not None else cwd_arg
            if not cwd.is_dir():
                return self._cannot_start(f"args.cwd {cwd} is not a directory on {self.settings.hostname}")
        return Launch(argv=argv, env=env, cwd=cwd, tree=tree, log_path=self.settings.logs / f"{stem}.log",
                      stdin=prompt_file if getattr(profile, "prompt_via", None) == "stdin" else None)

    def _spec(self, mcp_config: str | None = None) -> TaskSpec:
        task = self.task
        return TaskSpec(id=task.id, attempt=task.attempt, agent=task.agent, prompt=task.prompt, args=task.args,
                        timeout_seconds=self.timeout_seconds, resume_session=task.resume_session,
                        mcp_config=mcp_config)

    def _cannot_start(self, error: str, retryable: bool = True) -> AttemptOutcome:
        log.warning("task %d: %s", self.task.id, error)
        return AttemptOutcome(self.task, "failed", error=error, retryable=retryable)

    # -- running ----------------------------------------------------------------------------

    async def _execute(self, launch: Launch) -> AttemptOutcome:
        self.token = process.run_token(self.settings.worker, self.task.id, self.task.attempt, next(_run_counter))
        try:
            child = await process.spawn(launch.argv, env=launch.env, cwd=launch.cwd, log_path=launch.log_path,
                                        log_cap=self.settings.log_max_bytes, token=self.token,
                                        result_marker=getattr(self.profile, "result_marker", None),
                                        on_output=self._on_output, stdin_path=launch.stdin)
        except OSError as exc:
            self.token = None
            if exc.filename == str(launch.log_path):
                return self._cannot_start(f"cannot write the attempt's log {launch.log_path}: {exc.strerror or exc}")
            error = f"cannot start {launch.argv[0]!r}: {exc.strerror or exc} (is it installed on {self.settings.hostname}'s PATH?)"
            log.warning("task %d: %s", self.task.id, error)
            command = tuple(getattr(self.profile, "command", ()) or ())
            if command and launch.argv[0] != command[0]:
                # The task's own command (a shell task run directly), not the agent's executable.
                return AttemptOutcome(self.task, "failed", error=error, fault="task")
            # A node-local fault: the task goes back untouched, the agent is quarantined here.
            return AttemptOutcome(self.task, "node_fault", error=error, fault="missing")
        started = time.monotonic()
        exit_code = await self._wait(child)
        if self.stop_reason is None and sessions.resume_refused(self.task.resume_session, child.output_tail(8192)):
            # The session to resume is not on this node (its files were cleaned up, or another
            # HOME): run afresh in the same attempt rather than fail it.
            log.warning("task %d: %s cannot resume session %s here; starting a new session", self.task.id,
                        self.task.agent, self.task.resume_session)
            self.task = dataclasses.replace(self.task, resume_session=None)
            fresh = dataclasses.replace(self._built_spec or self._spec(), resume_session=None)
            return await self._execute(dataclasses.replace(launch, argv=self.profile.build_argv(fresh)))
        self.run_seconds = time.monotonic() - started
        self._mark_exited()
        tail = child.output_tail(OUTPUT_TAIL_CHARS * 4)[-OUTPUT_TAIL_CHARS:]
        files = {"exit_code": exit_code, "output_tail": tail, "log_path": str(launch.log_path)}
        hung_after_result = self.stop_reason == "result_hang"
        if hung_after_result:
            # It printed its result and then hung (claude #25629): the result is the outcome.
            log.warning("task %d: the agent printed its result but did not exit within %.0fs; stopped it",
                        self.task.id, self._result_grace())
            self.stop_reason = None
        if self.stop_reason is not None:
            return self._with_session(
                self._stopped(files, child.output_tail(PARSE_BYTES) if self.stop_reason == "timeout" else ""),
                launch, child)
        try:
            outcome = self.profile.parse_outcome(0 if hung_after_result else exit_code,
                                                 child.output_tail(PARSE_BYTES), launch.log_path)
        except Exception as exc:  # a parser bug must not lose the attempt: report what we know
            log.exception("task %d: the %s profile could not read the output", self.task.id, self.profile.name)
            outcome = Outcome(kind="failed", error=f"could not read the agent's output ({exc}); exit code {exit_code}")
        result = dict(outcome.result) if outcome.result is not None else None
        if hung_after_result and result is not None:
            result["watchdog"] = (f"the agent printed this result and did not exit within "
                                  f"{self._result_grace():g}s; the worker stopped it")
        if launch.tree is not None:
            info = await worktree.finish(launch.tree, succeeded=outcome.kind == "completed")
            result = {**(result or {}), "worktree": info}
        return self._with_session(self._from_profile(outcome, result, files), launch, child)

    def _with_session(self, outcome: AttemptOutcome, launch: Launch, child: process.AgentProcess) -> AttemptOutcome:
        """The outcome with the agent session the attempt ran in (for the ledger, and a resume)."""
        session = sessions.session_of_attempt(launch.log_path, child.output_tail(sessions.SESSION_SCAN_BYTES),
                                              outcome.result)
        return dataclasses.replace(outcome, session_id=session) if session else outcome

    async def _wait(self, child: process.AgentProcess) -> int:
        """The exit code; stops the process on timeout or a stop request first."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not woken.done():
                woken.set_result(None)

        # One future woken by whichever comes first: the exit, a stop request, the timeout.
        child.exited.add_done_callback(wake)
        self._wake_on_stop = wake
        timeout = self.timeout_seconds
        timer = loop.call_later(timeout, wake) if timeout else None
        watchdog = self._watch(child, wake, child.log.path)
        if self.stop_reason is not None:
            wake()
        try:
            await woken
        finally:
            self._wake_on_stop = None
            child.exited.remove_done_callback(wake)
            if timer is not None:
                timer.cancel()
            watchdog.stop()
        if not process.collect_if_exited(child):
            if self.stop_reason is None:
                self.stop_reason = "timeout"
            log.info("task %d: stopping the process (%s)", self.task.id, self.stop_reason)
            signals = () if self.stop_at_once else self.profile.stop_signals
            await process.stop(child, signals, self.settings.kill_grace)
        elif self.stop_reason is not None:
            # It ended on its own before the stop request (a worker suspended while its agent
            # finished sees both at once): its outcome is reported; the fence decides whether it counts.
            log.info("task %d: the process had already exited (%s requested); reporting its outcome",
                     self.task.id, self.stop_reason)
            self.stop_reason = None
        return await child.wait()

    def _idle_timeout(self) -> float | None:
        """args.idle_timeout_seconds, else the profile's default (None: no idle watchdog)."""
        value = self.task.args.get("idle_timeout_seconds")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
        default = getattr(self.profile, "idle_timeout_seconds", None)
        return float(default) if default else None

    def _result_grace(self) -> float:
        return float(getattr(self.profile, "result_grace_seconds", 10.0))

    def _watch(self, child: process.AgentProcess, wake: Callable[[], None], log_path: Path | None) -> _Watchdog:
        return _Watchdog(self, child, wake, self._idle_timeout(),
                         self._result_grace() if getattr(self.profile, "result_marker", None) else None,
                         log_path if self.on_session is not None else None)

    def _spot_session(self, log_path: Path) -> bool:
        """Look for the agent's session at the head of the log; tell on_session once found."""
        found = sessions.session_of_attempt(log_path, "", None)
        if found is None:
            return False
        self.session_id = found
        if self.on_session is not None:
            self.on_session(self, found)
        return True

    def _mark_exited(self) -> None:
        if not self.exited:
            self.exited = True
            if self._on_exit is not None:
                self._on_exit(self)

    # -- the outcome ------------------------------------------------------------------------

    def _stopped(self, files: dict[str, Any], output: str) -> AttemptOutcome:
        """An attempt the worker stopped: lost (nothing to say), shutdown (released without
        spending the attempt), cancel (the engine records cancelled), timeout (a failed attempt
        naming the last error the agent printed; a node-local fault when that error says this
        node is offline: an agent retrying a network failure until the timeout)."""
        task = self.task
        if self.stop_reason == "lost":
            return AttemptOutcome(task, "lost", **files)
        if self.stop_reason == "shutdown":
            return AttemptOutcome(task, "released", error=f"worker {self.settings.worker} shutting down",
                                  retry_in_seconds=0, **files)
        if self.stop_reason == "cancel":
            return AttemptOutcome(task, "cancelled", error="cancelled while running; the process was stopped",
                                  retryable=False, **files)
        signals = "/".join(s.name for s in self.profile.stop_signals)
        if self.stop_reason == "idle":
            return AttemptOutcome(task, "failed", error=f"no output for {self._idle_timeout():g}s "
                                                        f"(idle_timeout_seconds); the process was stopped ({signals}, "
                                                        f"then SIGKILL)", **files)
        stopped = f"the process was stopped ({signals}, then SIGKILL)"
        last = last_printed_error(output)
        if last is None:
            return AttemptOutcome(task, "failed", error=f"timed out after {self.timeout_seconds}s; {stopped}",
                                  fault="task", **files)
        error = f"timed out after {self.timeout_seconds}s; the last error it printed: {last}; {stopped}"
        node = node_fault_reason(last)
        if node is not None:
            return AttemptOutcome(task, "node_fault", error=error, fault=node, **files)
        return AttemptOutcome(task, "failed", error=error, fault="service", **files)

    def _from_profile(self, outcome: Outcome, result: dict[str, Any] | None,
                      files: dict[str, Any]) -> AttemptOutcome:
        task = self.task
        usage = {"cost_usd": outcome.cost_usd, "input_tokens": outcome.input_tokens,
                 "output_tokens": outcome.output_tokens}
        if outcome.kind == "completed":
            return AttemptOutcome(task, "completed", result=result, **usage, **files)
        if outcome.kind == "usage_limit":
            reason = outcome.pause_reason or f"{task.agent} usage limit"
            return AttemptOutcome(task, "usage_limit", error=f"usage limit: {reason}", pause_until=outcome.pause_until,
                                  pause_reason=reason, **files)
        if outcome.kind == "node_fault" or (outcome.kind == "failed" and node_fault_reason(outcome.error or "")):
            fault = outcome.fault if outcome.kind == "node_fault" else node_fault_reason(outcome.error or "")
            return AttemptOutcome(task, "node_fault", error=outcome.error or f"{task.agent} cannot run on this node",
                                  fault=fault or "set-up", **files)
        if outcome.kind == "tempfail":
            return AttemptOutcome(task, "released", retry_in_seconds=outcome.retry_in_seconds,
                                  error=outcome.error or f"exit code {files['exit_code']} (EX_TEMPFAIL): try again later",
                                  **files)
        return AttemptOutcome(task, "failed", error=outcome.error or f"exit code {files['exit_code']}", result=result,
                              retry_in_seconds=outcome.retry_in_seconds, retryable=outcome.retryable,
                              fault=outcome.fault, **usage, **files)


class _Watchdog:
    """Checks a running attempt's output clock: once a second at most, re-armed for the next
    moment something can be due, so an attempt without watchdogs costs nothing."""

    def __init__(self, attempt: Attempt, child: process.AgentProcess, wake: Callable[[], None],
                 idle: float | None, result_grace: float | None, session_log: Path | None = None) -> None:
        self.attempt, self.child, self.wake = attempt, child, wake
        self.idle, self.result_grace = idle, result_grace
        # Until the agent's session shows in this log (for SESSION_WATCH seconds at most).
        self.session_log = session_log
        self.session_until = time.monotonic() + SESSION_WATCH
        self._handle: asyncio.TimerHandle | None = None
        if idle is not None or result_grace is not None or session_log is not None:
            self._arm(min(idle or 1.0, 1.0, 0.25 if session_log is not None else 1.0))

    def _arm(self, delay: float) -> None:
        self._handle = asyncio.get_running_loop().call_later(max(delay, 0.05), self._check)

    def _check(self) -> None:
        now = time.monotonic()
        child = self.child
        if not child.running or self.attempt.stop_reason is not None:
            return
        if self.session_log is not None and (self.attempt._spot_session(self.session_log)
                                             or now > self.session_until):
            self.session_log = None
        if self.idle is None and self.result_grace is None and self.session_log is None:
            return
        if self.result_grace is not None and child.result_seen is not None:
            if now - child.result_seen >= self.result_grace:
                self.attempt.stop_reason = "result_hang"
                self.attempt.stop_at_once = True  # its work is done: no gentle signals
                self.wake()
                return
        if self.idle is not None and now - child.last_output >= self.idle:
            self.attempt.stop_reason = "idle"
            self.wake()
            return
        delay = 1.0 if self.idle is None else min(1.0, self.idle - (now - child.last_output))
        self._arm(min(delay, 0.5) if self.session_log is not None else delay)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

