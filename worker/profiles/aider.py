"""aider: `aider --message=PROMPT --yes-always --no-auto-commits --no-pretty [options]`.

aider prints no JSON and can exit 0 after failing (a model error, a missing key), so the last
lines of its output are checked for its fatal messages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pgswarm.worker.profiles.base import Outcome, TaskSpec
from pgswarm.worker.profiles.cli import CliProfile, common_outcome, last_line, limit_outcome, option_args

OPTIONS: dict[str, tuple[str, type]] = {"model": ("--model", str), "files": ("--file", list)}
FATAL = re.compile(r"(litellm\.\w*Error[^\n]*|AuthenticationError[^\n]*|API key[^\n]*(?:missing|not set|invalid)"
                   r"[^\n]*|Model [^\n]* not found[^\n]*|Unknown model[^\n]*)", re.I)


@dataclass
class AiderProfile(CliProfile):
    name: str = "aider"
    command: tuple[str, ...] = ("aider",)
    env_allowlist: tuple[str, ...] = ("AIDER_*", "OPENAI_*", "ANTHROPIC_*", "GEMINI_*", "OPENROUTER_*",
                                      "DEEPSEEK_*", "OLLAMA_*", "VIRTUAL_ENV")

    def build_argv(self, task: TaskSpec) -> list[str]:
        return [*self.command, f"--message={task.prompt}", "--yes-always", "--no-auto-commits", "--no-pretty",
                *option_args(task.args, OPTIONS), *self.extra_args]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_aider(exit_code, output)


def parse_aider(exit_code: int, output: str) -> Outcome:
    common = common_outcome(exit_code, "aider")
    if common is not None:
        return common
    tail = "\n".join(output.splitlines()[-30:])
    fatal = FATAL.findall(tail)
    if exit_code != 0 or fatal:
        limited = limit_outcome(tail, "aider")
        if limited is not None:
            return limited
        reason = fatal[-1].strip() if fatal else last_line(tail) or "no output"
        return Outcome(kind="failed", error=f"aider failed (exit {exit_code}): {reason}"[:2000])
    return Outcome(kind="completed", result={"text": tail[-4000:]})
