"""What the agent CLI profiles share: the configurable fields, argv options from task args, JSON
lines from output, and the outcomes every profile gives the same way (EX_TEMPFAIL, signals,
usage limits)."""
from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pgswarm.worker.profiles.base import Outcome
from pgswarm.worker.usage_limits import THROTTLE_BACKOFF_SECONDS, detect_usage_limit, pause_window

EX_TEMPFAIL = 75


@dataclass
class CliProfile:
    """Fields a TOML file may override (see custom.py); subclasses build argv and parse output."""

    name: str = ""
    command: tuple[str, ...] = ()
    stop_signals: tuple[signal.Signals, ...] = (signal.SIGTERM,)
    worktree: bool = True
    env_allowlist: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int | None = None
    extra_args: tuple[str, ...] = ()


def option_args(args: dict[str, Any], options: dict[str, tuple[str, type]]) -> list[str]:
    """argv options for the task args this profile knows: {arg: (flag, type)}; a list value of a
    `list` option becomes one comma-separated element. Wrong types raise ValueError."""
    argv: list[str] = []
    for arg, (flag, kind) in options.items():
        if arg not in args or args[arg] is None:
            continue
        value = args[arg]
        if kind is list:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"args.{arg} must be a string or a list of strings")
            argv += [flag, ",".join(value)]
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"args.{arg} must be a positive integer (got {value!r})")
            argv += [flag, str(value)]
        elif kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"args.{arg} must be true or false (got {value!r})")
            if value:
                argv.append(flag)
        else:
            if not isinstance(value, str) or not value:
                raise ValueError(f"args.{arg} must be a non-empty string (got {value!r})")
            argv += [flag, value]
    return argv


def json_objects(output: str) -> list[dict[str, Any]]:
    """The JSON objects in the output: one per line (JSONL), or one document that is an object or
    an array of objects. Lines that are not JSON (stderr, progress) are skipped."""
    text = output.strip()
    if text.startswith(("[", "{")):
        try:
            whole = json.loads(text)
        except ValueError:
            pass
        else:
            items = whole if isinstance(whole, list) else [whole]
            return [item for item in items if isinstance(item, dict)]
    objects = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                objects.append(value)
    return objects


def plain_lines(output: str, count: int = 20) -> str:
    """The last lines of output that are not JSON objects (what the CLI printed to stderr)."""
    lines = [line for line in output.splitlines() if line.strip() and not line.lstrip().startswith(("{", "["))]
    return "\n".join(lines[-count:])


def common_outcome(exit_code: int, agent: str) -> Outcome | None:
    """EX_TEMPFAIL and death by signal mean the same for every agent."""
    if exit_code == EX_TEMPFAIL:
        return Outcome(kind="tempfail", error=f"{agent} exited 75 (EX_TEMPFAIL): it asked to be run again later")
    if exit_code < 0:
        return Outcome(kind="failed", error=f"{agent} was killed by {signal.Signals(-exit_code).name}")
    return None


def limit_outcome(text: str, agent: str, now: datetime | None = None) -> Outcome | None:
    """A usage limit (pause the agent) or a throttle (a short free retry) found in final text."""
    now = now or datetime.now(timezone.utc)
    limit = detect_usage_limit(text, now)
    if limit is None:
        return None
    if limit.kind == "throttle":
        return Outcome(kind="tempfail", error=f"{agent} throttled: {limit.reason}",
                       retry_in_seconds=THROTTLE_BACKOFF_SECONDS)
    until = pause_window(limit, now)
    return Outcome(kind="usage_limit", pause_until=until, pause_reason=f"{agent} usage limit: {limit.reason}",
                   error=f"{agent} usage limit: {limit.reason}")


def last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")

