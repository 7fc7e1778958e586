"""aider: `aider --message=PROMPT --yes-always --no-auto-commits --no-pretty [options]`.

aider prints no JSON and can exit 0 after failing (a model error, a missing key), so the last
lines of its output are checked for its fatal messages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .base import Outcome, TaskSpec
from .cli import CliProfile, Repeated, agent_parser, last_line, limit_outcome, option_args

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "files": ("--file", Repeated),
    "read": ("--read", Repeated),
    "edit_format": ("--edit-format", str),
}
FATAL = re.compile(r"(litellm\.\w*Error[^\n]*|AuthenticationError[^\n]*|API key[^\n]*(?:missing|not set|invalid)"
                   r"[^\n]*|Model [^\n]* not found[^\n]*|Unknown model[^\n]*|Unexpected error:[^\n]*"
                   r"|An uncaught exception occurred[^\n]*|The API provider is not able to authenticate you[^\n]*"
                   r"|No LLM model was specified[^\n]*)", re.I)
_TOKENS = re.compile(r"^Tokens: (?P<parts>[^\n]*?)\.\s*Cost: [^\n]*?\$(?P<session>[\d.]+) session", re.M)
_TOKEN_PART = re.compile(r"([\d.]+)([kKmM]?) (sent|received|cache write|cache hit)")


@dataclass
class AiderProfile(CliProfile):
    name: str = "aider"
    command: tuple[str, ...] = ("aider",)
    env_allowlist: tuple[str, ...] = ("AIDER_*", "OPENAI_*", "ANTHROPIC_*", "GEMINI_*", "OPENROUTER_*",
                                      "DEEPSEEK_*", "OLLAMA_*", "VIRTUAL_ENV")

    prompt_via: str | None = "file"  # --message-file

    def build_argv(self, task: TaskSpec) -> list[str]:
        message = f"--message-file={task.prompt_file}" if task.prompt_file is not None else f"--message={task.prompt}"
        return [*self.command, message, "--yes-always", "--no-auto-commits", "--no-pretty",
                *option_args(task.args, OPTIONS), *self.extra_args]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_aider(exit_code, output)


@agent_parser("aider")
def parse_aider(exit_code: int, output: str) -> Outcome:
    tail = "\n".join(output.splitlines()[-30:])
    fatal = FATAL.findall(tail)
    if exit_code != 0 or fatal:
        limited = limit_outcome(tail, "aider")
        if limited is not None:
            return limited
        distinct = list(dict.fromkeys(line.strip() for line in fatal))
        reason = " / ".join(distinct[-2:]) if distinct else last_line(tail) or "no output"
        auth = bool(re.search(r"authenticat|api key", reason, re.I))
        return Outcome(kind="failed", error=f"aider failed (exit {exit_code}): {reason}"[:2000], retryable=not auth)
    cost, tokens_in, tokens_out = _usage(output)
    return Outcome(kind="completed", result={"text": tail[-4000:]}, cost_usd=cost, input_tokens=tokens_in,
                   output_tokens=tokens_out)


def _usage(output: str) -> tuple[float | None, int | None, int | None]:
    """aider's "Tokens: 3.1k sent, 210 received. Cost: $0.01 message, $0.02 session." lines:
    tokens summed over its messages (cache reads and writes count as input), the last session cost."""
    reports = list(_TOKENS.finditer(output))
    if not reports:
        return None, None, None
    tokens_in = tokens_out = 0
    for report in reports:
        for number, unit, what in _TOKEN_PART.findall(report.group("parts")):
            count = round(float(number) * {"": 1, "k": 1000, "m": 1_000_000}[unit.lower()])
            if what == "received":
                tokens_out += count
            else:
                tokens_in += count
    return float(reports[-1].group("session")), tokens_in, tokens_out
