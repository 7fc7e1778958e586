"""What the agent CLI profiles share: the configurable fields, argv options from task args, JSON
lines from output, and the outcomes every profile gives the same way (EX_TEMPFAIL, signals,
usage limits)."""
from __future__ import annotations

import functools
import json
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .base import Outcome
from ..usage_limits import UsageLimit, detect_usage_limit, limit_in_success, pause_window, throttle_seconds

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
    # Whether build_argv passes TaskSpec.mcp_config to the agent (args.swarm_tools).
    takes_mcp_config: bool = False
    # Watchdogs: stop an agent that printed nothing for this long (args.idle_timeout_seconds wins;
    # None: off), and one that printed its final result (result_marker) but has not exited
    # within result_grace_seconds: that attempt completes with its result.
    idle_timeout_seconds: int | None = None
    result_marker: bytes | None = None
    result_grace_seconds: float = 10.0
    # How a prompt too big for one argument (128 KiB) reaches the agent: "stdin" (the process
    # reads TaskSpec.prompt_file on stdin) or "file" (build_argv names TaskSpec.prompt_file);
    # None: such a prompt cannot run with this profile.
    prompt_via: str | None = None


class Repeated:
    """An option type: a list value repeats the flag once per item (`--file a --file b`)."""


class Text:
    """An option type: free text, one element `--flag=VALUE` (so a value may start with '-')."""


class JsonOrRepeated:
    """An option type: a JSON object becomes one element of compact JSON; a string or a list of
    strings (file paths) repeats the flag per item (`--mcp-config a.json --mcp-config b.json`)."""


class KeyValues:
    """An option type: a JSON object, the flag once per key with `key=VALUE`, VALUE in JSON (which
    codex's `-c key=value` reads as TOML: strings, numbers, booleans and arrays alike)."""


def option_args(args: dict[str, Any], options: dict[str, tuple[str, type]]) -> list[str]:
    """argv options for the task args this profile knows: {arg: (flag, type)}. A `list` value
    becomes one comma-separated element, a `Repeated` one the flag per item; `bool` true adds the
    bare flag. Args the profile does not know are left alone (the worker reads args.repo and
    friends). Wrong types, and values starting with '-' (they would read as options), raise
    ValueError naming the arg."""
    argv: list[str] = []
    for arg, (flag, kind) in options.items():
        if arg not in args or args[arg] is None:
            continue
        value = args[arg]
        if kind is JsonOrRepeated and isinstance(value, dict):
            argv += [flag, json.dumps(value, separators=(",", ":"))]
        elif kind is KeyValues:
            if not isinstance(value, dict) or not value:
                raise ValueError(f"args.{arg} must be a non-empty JSON object of settings (got {value!r})")
            _no_dash(arg, *value)
            argv += [x for key, item in value.items() for x in (flag, f"{key}={json.dumps(item)}")]
        elif kind is Text:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"args.{arg} must be a non-empty string (got {value!r})")
            argv.append(f"{flag}={value}")
        elif kind is list or kind is Repeated or kind is JsonOrRepeated:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"args.{arg} must be a string or a non-empty list of strings (got {value!r})")
            _no_dash(arg, *value)
            argv += [flag, ",".join(value)] if kind is list else [x for v in value for x in (flag, v)]
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"args.{arg} must be a positive integer (got {value!r})")
            argv += [flag, str(value)]
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"args.{arg} must be a positive number (got {value!r})")
            argv += [flag, str(value)]
        elif kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"args.{arg} must be true or false (got {value!r})")
            if value:
                argv.append(flag)
        else:
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"args.{arg} must be a non-empty string (got {value!r})")
            _no_dash(arg, value)
            argv += [flag, value]
    return argv


def _no_dash(arg: str, *values: str) -> None:
    for value in values:
        if value.startswith("-"):
            raise ValueError(f"args.{arg} must not start with '-' (got {value!r}): it would read as an option")


def split_output(output: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The JSON objects in the output and the other lines, in order. A JSON document starts at
    the beginning of a line and may span lines (pretty-printed) or be an array of objects; JSON
    lines (JSONL) are one document each. Text around them (stderr, progress, a line cut off at
    the start of the captured tail) stays in the other lines."""
    decoder = json.JSONDecoder()
    objects: list[dict[str, Any]] = []
    plain: list[str] = []
    position, size = 0, len(output)
    while position < size:
        end = output.find("\n", position)
        end = size if end < 0 else end
        if output.startswith(("{", "["), position):
            try:
                value, stop = decoder.raw_decode(output, position)
            except ValueError:
                pass
            else:
                items = value if isinstance(value, list) else [value]
                objects += [item for item in items if isinstance(item, dict)]
                rest_end = output.find("\n", stop)
                rest_end = size if rest_end < 0 else rest_end
                rest = output[stop:rest_end].strip()
                if rest:
                    plain.append(rest)
                position = rest_end + 1
                continue
        line = output[position:end]
        if line.strip():
            plain.append(line.rstrip())
        position = end + 1
    return objects, plain


def json_objects(output: str) -> list[dict[str, Any]]:
    """The JSON objects in the output (see split_output)."""
    return split_output(output)[0]


def plain_lines(output: str, count: int = 20) -> str:
    """The last lines of output that are not JSON (what the CLI printed to stderr)."""
    return "\n".join(split_output(output)[1][-count:])


def common_outcome(exit_code: int, agent: str) -> Outcome | None:
    """EX_TEMPFAIL and death by signal mean the same for every agent."""
    if exit_code == EX_TEMPFAIL:
        return Outcome(kind="tempfail", error=f"{agent} exited 75 (EX_TEMPFAIL): it asked to be run again later")
    if exit_code < 0:
        return Outcome(kind="failed", error=f"{agent} was killed by {signal.Signals(-exit_code).name}")
    return None


Parser = Callable[[int, str], Outcome]


def agent_parser(agent: str) -> Callable[[Parser], Parser]:
    """Decorates an agent's parser of (exit code, output): EX_TEMPFAIL and death by signal are
    answered first, the same for every agent (common_outcome); the parser sees the rest."""
    def decorate(parse: Parser) -> Parser:
        @functools.wraps(parse)
        def parse_outcome(exit_code: int, output: str) -> Outcome:
            return common_outcome(exit_code, agent) or parse(exit_code, output)
        return parse_outcome
    return decorate


def limit_outcome(text: str, agent: str, now: datetime | None = None) -> Outcome | None:
    """A usage limit (pause the agent) or a throttle (a short free retry) found in final text."""
    now = now or datetime.now(timezone.utc).astimezone()  # local: agents print local clock times
    return _limit_outcome(detect_usage_limit(text, now), agent, now)


def success_limit_outcome(result_text: str, events_text: str, agent: str,
                          now: datetime | None = None) -> Outcome | None:
    """A usage limit behind a run that reported success (usage_limits.limit_in_success)."""
    now = now or datetime.now(timezone.utc).astimezone()
    return _limit_outcome(limit_in_success(result_text, events_text, now), agent, now)


def _limit_outcome(limit: UsageLimit | None, agent: str, now: datetime) -> Outcome | None:
    if limit is None:
        return None
    if limit.kind == "throttle":
        return Outcome(kind="tempfail", error=f"{agent} throttled: {limit.reason}",
                       retry_in_seconds=throttle_seconds(limit, now))
    until = pause_window(limit, now)
    return Outcome(kind="usage_limit", pause_until=until, pause_reason=f"{agent} usage limit: {limit.reason}",
                   error=f"{agent} usage limit: {limit.reason}")


def last_line(text: str) -> str:
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")

