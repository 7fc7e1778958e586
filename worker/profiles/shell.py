"""The shell profile: `sh -c PROMPT`, only on workers started with --allow-shell."""
from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

from pgswarm.worker.profiles.base import Outcome, TaskSpec

EX_TEMPFAIL = 75


def exit_code_outcome(exit_code: int, output: str) -> Outcome:
    """The outcome of a process that reports only through its exit code."""
    tail = output[-2000:]
    if exit_code == 0:
        return Outcome(kind="completed", result={"output": tail})
    if exit_code == EX_TEMPFAIL:
        return Outcome(kind="tempfail", error="exit code 75 (EX_TEMPFAIL): the agent asked to be run again later")
    if exit_code < 0:
        return Outcome(kind="failed", error=f"killed by {signal.Signals(-exit_code).name}")
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
    return Outcome(kind="failed", error=f"exited {exit_code}" + (f": {last.strip()[:300]}" if last else ""))


@dataclass
class ShellProfile:
    name: str = "shell"
    command: tuple[str, ...] = ("sh", "-c")
    stop_signals: tuple[signal.Signals, ...] = (signal.SIGTERM,)
    worktree: bool = False
    env_allowlist: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    timeout_seconds: int | None = None

    def build_argv(self, task: TaskSpec) -> list[str]:
        return [*self.command, task.prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return exit_code_outcome(exit_code, output)
