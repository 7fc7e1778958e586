"""The shell profile: `sh -c PROMPT`, only on workers started with --allow-shell.

A prompt that is one plain command (words of safe characters only: no quoting, expansion,
globbing, redirection, pipes, separators or assignments) whose first word is not a shell
builtin is executed directly, without the shell in between: what `sh -c` would end up running
anyway, one exec cheaper. Everything else goes through `sh -c`.
"""
from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from pathlib import Path

from .base import Outcome, TaskSpec
from .cli import CliProfile

EX_TEMPFAIL = 75
_PLAIN_COMMAND = re.compile(r"[A-Za-z0-9_./:,+@%-]+(?: [A-Za-z0-9_./:=,+@%-]+)*")
# POSIX special and regular builtins, and the utilities dash also builds in (echo and test
# differ from /bin's), so that `exit 3`, `cd x`, `true`, `echo -n` keep the shell's meaning.
_BUILTINS = frozenset("""
    . : break continue eval exec exit export readonly return set shift times trap unset
    alias bg cd command false fg getopts hash jobs kill newgrp pwd read true type ulimit umask unalias wait
    echo printf test [ local
""".split())


def direct_argv(prompt: str) -> list[str] | None:
    """The argv `sh -c prompt` would exec, when the prompt is one plain external command."""
    if not _PLAIN_COMMAND.fullmatch(prompt):
        return None
    words = prompt.split(" ")
    return None if words[0] in _BUILTINS else words


def exit_code_outcome(exit_code: int, output: str) -> Outcome:
    """The outcome of a process that reports only through its exit code."""
    tail = output[-2000:]
    if exit_code == 0:
        return Outcome(kind="completed", result={"output": tail})
    if exit_code == EX_TEMPFAIL:
        return Outcome(kind="tempfail", error="exit code 75 (EX_TEMPFAIL): the agent asked to be run again later")
    if exit_code < 0:
        return Outcome(kind="failed", error=f"killed by {signal.Signals(-exit_code).name}", fault="task")
    last = next((line for line in reversed(tail.splitlines()) if line.strip()), "")
    # An exit code says something about the command, never about a service: not the breaker's.
    return Outcome(kind="failed", error=f"exited {exit_code}" + (f": {last.strip()[:300]}" if last else ""),
                   fault="task")


@dataclass
class ShellProfile(CliProfile):
    name: str = "shell"
    command: tuple[str, ...] = ("sh", "-c")
    worktree: bool = False

    def build_argv(self, task: TaskSpec) -> list[str]:
        if self.command == ("sh", "-c") and not self.extra_args:
            direct = direct_argv(task.prompt)
            if direct is not None:
                return direct
        return [*self.command, *self.extra_args, task.prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return exit_code_outcome(exit_code, output)
