"""Profiles from a worker's TOML file (`--config`): overrides of built-ins and new profiles."""
from __future__ import annotations

import dataclasses
import signal
import tomllib
from pathlib import Path
from typing import Any

from pgswarm.worker.errors import UsageError
from pgswarm.worker.profiles.base import Outcome, Profile, ProfileSet, TaskSpec
from pgswarm.worker.profiles.shell import ShellProfile, exit_code_outcome

OVERRIDE_KEYS = {"command", "timeout_seconds", "env_allowlist", "env", "stop_signals", "worktree", "extra_args"}


def builtin_profiles(allow_shell: bool) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    if allow_shell:
        profiles["shell"] = ShellProfile()
    return profiles


@dataclasses.dataclass
class TemplateProfile:
    """A profile defined by an argv template: {prompt} and {args.NAME} fill whole elements."""

    name: str
    argv: list[str]
    stop_signals: tuple[signal.Signals, ...] = (signal.SIGTERM,)
    worktree: bool = False
    env_allowlist: tuple[str, ...] = ()
    extra_env: dict[str, str] = dataclasses.field(default_factory=dict)
    timeout_seconds: int | None = None

    def build_argv(self, task: TaskSpec) -> list[str]:
        out = []
        for element in self.argv:
            if element == "{prompt}":
                out.append(task.prompt)
            elif element.startswith("{args.") and element.endswith("}"):
                key = element[6:-1]
                if key not in task.args:
                    raise ValueError(f"the {self.name} profile needs args.{key}")
                out.append(str(task.args[key]))
            else:
                out.append(element)
        return out

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return exit_code_outcome(exit_code, output)


def _signals(names: Any, where: str) -> tuple[signal.Signals, ...]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UsageError(f"{where}: stop_signals must be a list of signal names like [\"SIGINT\", \"SIGTERM\"]")
    try:
        return tuple(signal.Signals[n if n.startswith("SIG") else f"SIG{n}"] for n in names)
    except KeyError as exc:
        raise UsageError(f"{where}: unknown signal {exc.args[0]}") from None


def load_profiles(path: Path | None, allow_shell: bool) -> ProfileSet:
    profiles = builtin_profiles(allow_shell)
    if path is None:
        return ProfileSet(profiles)
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read worker config {path}: {exc}") from None
    for name, table in data.get("profiles", {}).items():
        where = f"{path}: [profiles.{name}]"
        if name == "shell" and not allow_shell:
            continue
        base = profiles.get(name)
        if "argv" in table:
            argv = table["argv"]
            base = TemplateProfile(name=name, argv=list(argv))
        elif base is None:
            raise UsageError(f"{where}: a new profile needs argv")
        changes: dict[str, Any] = {}
        for key, value in table.items():
            if key in ("argv", "parser"):
                continue
            if key not in OVERRIDE_KEYS:
                raise UsageError(f"{where}: unknown key {key!r}")
            if key == "env":
                changes["extra_env"] = dict(value)
            elif key == "env_allowlist":
                changes["env_allowlist"] = tuple(value)
            elif key == "stop_signals":
                changes["stop_signals"] = _signals(value, where)
            elif key == "command":
                changes["command"] = tuple([value] if isinstance(value, str) else value)
            else:
                changes[key] = value
        profiles[name] = dataclasses.replace(base, **changes)  # type: ignore[type-var]
    return ProfileSet(profiles)
