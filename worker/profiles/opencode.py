"""opencode: `opencode run --format json [options] -- PROMPT`, JSON lines on stdout.

Events: `step_start`, `text` (a finished text part), `tool_use`, `step_finish` (tokens and cost
of the step) and `error`, each with the `sessionID`. The result is the text of the last step
(the text parts after the last `step_start`); tokens and cost are summed over the steps; an
`error` event is a failure, or a pause when it says a usage limit was hit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Outcome, TaskSpec
from .cli import CliProfile, Repeated, agent_parser, last_line, limit_outcome, option_args, split_output

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "agent": ("--agent", str),
    "files": ("--file", Repeated),
}


@dataclass
class OpencodeProfile(CliProfile):
    name: str = "opencode"
    command: tuple[str, ...] = ("opencode",)
    env_allowlist: tuple[str, ...] = ("OPENCODE_*", "ANTHROPIC_*", "OPENAI_*", "GEMINI_*", "GOOGLE_*",
                                      "OPENROUTER_*", "AWS_*", "AZURE_*", "XDG_*")
    prompt_via: str | None = "stdin"  # `opencode run` without a message reads a piped stdin

    def build_argv(self, task: TaskSpec) -> list[str]:
        prompt = [] if task.prompt_file is not None else ["--", task.prompt]
        return [*self.command, "run", "--format", "json", *option_args(task.args, OPTIONS), *self.extra_args,
                *prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_opencode(exit_code, output)


@agent_parser("opencode")
def parse_opencode(exit_code: int, output: str) -> Outcome:
    objects, plain = split_output(output)
    session: str | None = None
    texts: list[str] = []
    errors: list[str] = []
    cost = 0.0
    tokens_in = tokens_out = 0
    steps = 0
    for event in objects:
        kind = event.get("type")
        part: dict[str, Any] = event["part"] if isinstance(event.get("part"), dict) else {}
        if isinstance(event.get("sessionID"), str):
            session = event["sessionID"]
        if kind == "step_start":
            texts = []
        elif kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "step_finish":
            steps += 1
            if isinstance(part.get("cost"), (int, float)):
                cost += float(part["cost"])
            tokens: dict[str, Any] = part["tokens"] if isinstance(part.get("tokens"), dict) else {}
            cache: dict[str, Any] = tokens["cache"] if isinstance(tokens.get("cache"), dict) else {}
            tokens_in += int(tokens.get("input") or 0) + int(cache.get("read") or 0) + int(cache.get("write") or 0)
            tokens_out += int(tokens.get("output") or 0) + int(tokens.get("reasoning") or 0)
        elif kind == "error":
            errors.append(_error_text(event))
    usage: dict[str, Any] = {"cost_usd": cost if steps else None, "input_tokens": tokens_in if steps else None,
                             "output_tokens": tokens_out if steps else None}
    stderr = "\n".join(plain[-20:])
    if errors or exit_code != 0:
        limited = limit_outcome("\n".join(errors[-3:] + [stderr]), "opencode")
        if limited is not None:
            return limited
        reason = (errors or [last_line(stderr) or "no output"])[-1]
        return Outcome(kind="failed", error=f"opencode failed (exit {exit_code}): {reason}"[:2000], **usage)
    if not steps:
        return Outcome(kind="failed", error="opencode exited 0 without finishing a step (was --format changed?)")
    result: dict[str, Any] = {"text": "".join(texts)}
    if session:
        result["session_id"] = session
    return Outcome(kind="completed", result=result, **usage)


def _error_text(event: dict[str, Any]) -> str:
    error = event.get("error")
    if isinstance(error, dict):
        data: dict[str, Any] = error["data"] if isinstance(error.get("data"), dict) else {}
        message = data.get("message") or error.get("message")
        if isinstance(message, str):
            return f"{error.get('name')}: {message}" if isinstance(error.get("name"), str) else message
    if isinstance(event.get("message"), str):
        return event["message"]
    return str(error or event)[:500]
