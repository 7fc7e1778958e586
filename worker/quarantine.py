"""Agents this worker cannot run on its node: the start-up probe and the quarantine.

At start, and every PROBE_INTERVAL after, the worker probes each agent it may run: is the
profile's executable there (on PATH, or the path it names, executable), and does `--version`
run (a node script whose interpreter is missing exits 127). An agent that fails the probe, or
whose attempt ends in a node-local fault (faults.py: not logged in, offline, a fixed set-up
error), is quarantined on this worker: not claimed here until a probe after its backoff (30 s,
then doubling up to 15 min while the faults go on) lets it back. The quarantine is this node's
business: the task goes back without spending an attempt, the agent is not paused for other
nodes, and swarm.workers.quarantined shows it (`pgswarm doctor`, `top`).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .profiles.base import Profile

PROBE_INTERVAL = 300.0  # seconds between probes of the agents this worker claims
BACKOFF_BASE = 30.0  # first quarantine; doubles with each fault in a row
BACKOFF_MAX = 900.0
VERSION_TIMEOUT = 15.0


@dataclass(frozen=True)
class Probe:
    ok: bool
    reason: str = ""  # why the agent cannot start here
    version: str | None = None


@dataclass
class Entry:
    kind: str  # "missing", "not logged in", "offline", "untrusted directory", "set-up", ...
    reason: str
    since: datetime
    retry_at: datetime
    faults: int

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "since": self.since.isoformat(),
                "retry_at": self.retry_at.isoformat(), "faults": self.faults}


class Quarantine:
    """Which agents this worker does not claim now, why, and when it looks again."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self._faults: dict[str, int] = {}  # faults in a row per agent (the backoff's exponent)

    def add(self, agent: str, kind: str, reason: str, now: datetime | None = None) -> Entry:
        now = now or datetime.now(timezone.utc)
        faults = self._faults.get(agent, 0) + 1
        self._faults[agent] = faults
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (faults - 1))
        previous = self.entries.get(agent)
        entry = Entry(kind, reason[:500], previous.since if previous else now, now + timedelta(seconds=delay), faults)
        self.entries[agent] = entry
        return entry

    def lift(self, agent: str) -> None:
        """A probe passed: claim the agent again (a new fault quarantines it for longer)."""
        self.entries.pop(agent, None)

    def ran(self, agent: str) -> None:
        """An attempt of the agent ended without a node-local fault: the backoff starts over."""
        self._faults.pop(agent, None)

    def blocked(self) -> set[str]:
        return set(self.entries)

    def due(self, now: datetime | None = None) -> list[str]:
        now = now or datetime.now(timezone.utc)
        return [agent for agent, entry in self.entries.items() if entry.retry_at <= now]

    def seconds_to_next(self, now: datetime | None = None) -> float | None:
        if not self.entries:
            return None
        now = now or datetime.now(timezone.utc)
        return max(0.0, min((e.retry_at - now).total_seconds() for e in self.entries.values()))

    def as_json(self) -> dict[str, Any]:
        return {agent: entry.as_json() for agent, entry in sorted(self.entries.items())}


def executable_problem(profile: Profile, path: str | None = None) -> str | None:
    """Why the profile's executable cannot be started here, or None when it can (or the profile
    names none)."""
    command = tuple(getattr(profile, "command", ()) or ())
    if not command:
        return None
    program = command[0]
    search = path if path is not None else os.environ.get("PATH", os.defpath)
    if "/" in program:
        if not os.path.isfile(program):
            return f"{program} does not exist"
        if not os.access(program, os.X_OK):
            return f"{program} is not executable"
        return None
    if shutil.which(program, path=search) is None:
        return f"`{program}` is not on this node's PATH ({_short(search)})"
    return None


async def probe(profile: Profile, with_version: bool = True) -> Probe:
    """Whether this node can start the profile's agent; its version when `--version` says one."""
    problem = executable_problem(profile)
    if problem is not None:
        return Probe(False, problem)
    command = tuple(getattr(profile, "command", ()) or ())
    # Only a CLI named alone has a meaningful --version (a command with arguments may be an
    # interpreter running a script that would take --version as a prompt).
    if not with_version or len(command) != 1:
        return Probe(True)
    try:
        process = await asyncio.create_subprocess_exec(
            command[0], "--version", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        return Probe(False, f"cannot start {command[0]}: {exc.strerror or exc}")
    try:
        output, _ = await asyncio.wait_for(process.communicate(), VERSION_TIMEOUT)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        await process.wait()
        return Probe(True, version=None)  # slow to answer is not a fault
    text = output.decode(errors="replace").strip()
    first = text.splitlines()[0][:200] if text else None
    if process.returncode in (126, 127):  # the shell's "cannot execute" / "not found" (a missing interpreter)
        return Probe(False, f"{command[0]} --version exited {process.returncode}: {first or 'no output'}")
    return Probe(True, version=first if process.returncode == 0 else None)


def _short(path: str) -> str:
    return path if len(path) <= 120 else path[:117] + "..."
