"""The profiles a worker knows: the built-ins, changed or extended by its TOML file (`--config`).

    agent_dsn = "postgresql://agent@db/app"   # top level: the agents' own login (as --agent-dsn)

    [profiles.claude]              # override a built-in: any of the OVERRIDE_KEYS
    command = ["python3", "fake_claude.py"]
    timeout_seconds = 3600

    [profiles.mytool]              # a new profile: an argv template and an output parser
    argv = ["mytool", "--model", "{args.model}", "--", "{prompt}"]
    parser = "plain"

    [profiles.claude-opus]         # or a built-in's argv and parser under another name
    base = "claude"
    extra_args = ["--model", "opus"]

    [policy]                       # the arg policy, as --allow-arg gives it
    allow_args = ["permission_mode=bypassPermissions", "add_dirs"]

Bad input raises UsageError naming the file, the profile and the key.
"""
from __future__ import annotations

import dataclasses
import re
import signal
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import check_allow_args
from ..errors import UsageError
from .aider import AiderProfile, parse_aider
from .base import Outcome, ProfileSet, TaskSpec
from .claude import ClaudeProfile, parse_claude
from .cli import CliProfile, agent_parser
from .codex import CodexProfile, parse_codex
from .cursor import CursorProfile, parse_cursor
from .gemini import GeminiProfile, parse_gemini
from .opencode import OpencodeProfile, parse_opencode
from .shell import ShellProfile, exit_code_outcome

BUILTINS: dict[str, type[CliProfile]] = {"claude": ClaudeProfile, "codex": CodexProfile, "gemini": GeminiProfile,
                                         "aider": AiderProfile, "opencode": OpencodeProfile,
                                         "cursor": CursorProfile, "shell": ShellProfile}
PARSERS: dict[str, Callable[[int, str], Outcome]] = {
    "claude-json": parse_claude, "codex-jsonl": parse_codex, "gemini-json": parse_gemini, "aider": parse_aider,
    "opencode-jsonl": parse_opencode, "cursor-json": parse_cursor,
    "plain": agent_parser("agent")(exit_code_outcome),
}
OVERRIDE_KEYS = {"command": (str, list), "timeout_seconds": int, "env_allowlist": list, "env": dict,
                 "stop_signals": list, "worktree": bool, "extra_args": list, "idle_timeout_seconds": int,
                 "result_grace_seconds": (int, float)}
# Top-level keys of the worker TOML file besides the [profiles.NAME] tables.
# The agents' login (as --agent-dsn); the arg policy, [policy] allow_args (as --allow-arg).
WORKER_KEYS: dict[str, type] = {"agent_dsn": str, "policy": dict}
_PLACEHOLDER = re.compile(r"\{(prompt|args\.[A-Za-z_][A-Za-z0-9_]*)\}")


@dataclasses.dataclass
class TemplateProfile(CliProfile):
    """A profile defined by an argv template; {prompt} and {args.NAME} are substituted inside
    each element, so every element stays one argument whatever the values hold (the template is
    the whole command line: command and extra_args do not apply)."""

    argv: tuple[str, ...] = ()
    parser: str = "plain"
    worktree: bool = False

    def build_argv(self, task: TaskSpec) -> list[str]:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "prompt":
                return task.prompt
            key = name.removeprefix("args.")
            if key not in task.args or task.args[key] is None:
                raise ValueError(f"the {self.name} profile needs args.{key}")
            value = task.args[key]
            if isinstance(value, (dict, list)):
                raise ValueError(f"args.{key} must be a string or a number for the {self.name} profile")
            return str(value)

        return [_PLACEHOLDER.sub(fill, element) for element in self.argv]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return PARSERS[self.parser](exit_code, output)


def worker_setting(path: Path | None, key: str) -> Any:
    """A top-level setting of the worker TOML file (one of WORKER_KEYS), or None."""
    return None if path is None else _read_file(path).get(key)


def declaration(profile: Any) -> tuple[dict[str, Any] | None, str | None]:
    """What a profile from the TOML file declares of its task args (swarm.declare_task_args):
    (the declaration, or None) and (the built-in whose declaration it shares, or None). Built-ins
    under their own names are declared by the engine's seed."""
    if isinstance(profile, TemplateProfile):
        names = [m.group(1).removeprefix("args.") for e in profile.argv for m in _PLACEHOLDER.finditer(e)]
        return {n: {"type": "scalar"} for n in names if n != "prompt"}, None
    base = next((name for name, cls in BUILTINS.items() if type(profile) is cls), None)
    if base is None or base == profile.name:
        return None, None
    return None, base


def builtin_profiles(allow_shell: bool) -> dict[str, CliProfile]:
    return {name: cls() for name, cls in BUILTINS.items() if name != "shell" or allow_shell}


def load_profiles(path: Path | None, allow_shell: bool) -> ProfileSet:
    profiles = builtin_profiles(allow_shell)
    if path is not None:
        for name, table in _read(path).items():
            where = f"{path}: [profiles.{name}]"
            if not isinstance(table, dict):
                raise UsageError(f"{where} must be a table")
            if name == "shell" and not allow_shell:
                continue  # shell stays off without --allow-shell, whatever the file says
            profiles[name] = _profile(name, table, profiles, where)
    return ProfileSet(dict(profiles))


def load_policy(path: Path | None) -> tuple[str, ...]:
    """The [policy] table: `allow_args = ["permission_mode=bypassPermissions", "add_dirs"]`, what
    --allow-arg gives on the command line."""
    if path is None:
        return ()
    policy = _read_file(path).get("policy", {})
    if not isinstance(policy, dict):
        raise UsageError(f"{path}: policy must be a table: [policy]")
    unknown = set(policy) - {"allow_args"}
    if unknown:
        raise UsageError(f"{path}: [policy] has an unknown key {sorted(unknown)[0]!r} (known: allow_args)")
    entries = policy.get("allow_args", [])
    if not isinstance(entries, list):
        raise UsageError(f"{path}: [policy] allow_args must be a list of strings")
    return check_allow_args(entries, f"{path}: [policy] allow_args entry")


def _read(path: Path) -> dict[str, Any]:
    data = _read_file(path)
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise UsageError(f"{path}: profiles must be tables: [profiles.NAME]")
    return profiles


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise UsageError(f"cannot read worker config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"worker config {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {"profiles", *WORKER_KEYS}
    if unknown:
        raise UsageError(f"{path}: unknown section {sorted(unknown)[0]!r} (only [profiles.NAME] tables and "
                         f"{', '.join(WORKER_KEYS)})")
    for key, kind in WORKER_KEYS.items():
        if key in data and not isinstance(data[key], kind):
            raise UsageError(f"{path}: {key} must be a {kind.__name__}")
    return data


def _profile(name: str, table: dict[str, Any], known: dict[str, CliProfile], where: str) -> CliProfile:
    if "argv" in table:
        argv = table["argv"]
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise UsageError(f"{where}: argv must be a non-empty list of strings")
        parser = table.get("parser", "plain")
        if parser not in PARSERS:
            raise UsageError(f"{where}: unknown parser {parser!r}; one of {', '.join(PARSERS)}")
        start: CliProfile = TemplateProfile(name=name, argv=tuple(argv), parser=parser)
        if "base" in table:
            raise UsageError(f"{where}: give either argv (a new command line) or base (a built-in's), not both")
    elif "base" in table:
        base = table["base"]
        if base not in BUILTINS:
            raise UsageError(f"{where}: base must be one of {', '.join(BUILTINS)} (got {base!r})")
        start = BUILTINS[base](name=name)
    elif name in known:
        start = known[name]
    else:
        raise UsageError(f"{where}: a new profile needs argv (a command line template) or base (a built-in)")
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("argv", "parser", "base"):
            continue
        expected = OVERRIDE_KEYS.get(key)
        if expected is None:
            raise UsageError(f"{where}: unknown key {key!r}; known: argv, parser, base, {', '.join(OVERRIDE_KEYS)}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise UsageError(f"{where}: {key} has the wrong type ({type(value).__name__})")
        if key in ("command", "extra_args") and isinstance(start, TemplateProfile):
            raise UsageError(f"{where}: {key} does not apply to an argv template; put it in argv")
        changes.update(_change(key, value, where))
    return dataclasses.replace(start, **changes)


def _change(key: str, value: Any, where: str) -> dict[str, Any]:
    if key == "command":
        command = [value] if isinstance(value, str) else value
        if not command or not all(isinstance(c, str) and c for c in command):
            raise UsageError(f"{where}: command must be a program or a non-empty list of strings")
        return {"command": tuple(command)}
    if key == "env":
        if not all(isinstance(v, str) for v in value.values()):
            raise UsageError(f"{where}: env values must be strings")
        return {"extra_env": dict(value)}
    if key == "stop_signals":
        return {"stop_signals": _signals(value, where)}
    if key in ("env_allowlist", "extra_args"):
        if not all(isinstance(v, str) for v in value):
            raise UsageError(f"{where}: {key} must be a list of strings")
        return {key: tuple(value)}
    if key in ("timeout_seconds", "idle_timeout_seconds") and value < 1:
        raise UsageError(f"{where}: {key} must be at least 1")
    if key == "result_grace_seconds" and value < 0:
        raise UsageError(f"{where}: result_grace_seconds cannot be negative")
    return {key: value}


def _signals(names: list[Any], where: str) -> tuple[signal.Signals, ...]:
    chosen = []
    for n in names:
        if not isinstance(n, str):
            raise UsageError(f"{where}: stop_signals must be signal names like \"SIGINT\"")
        try:
            chosen.append(signal.Signals[n if n.upper().startswith("SIG") else f"SIG{n}"])
        except KeyError:
            raise UsageError(f"{where}: unknown signal {n!r} in stop_signals") from None
    return tuple(chosen)
