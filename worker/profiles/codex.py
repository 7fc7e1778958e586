"""OpenAI Codex CLI: `codex exec --json [options] -- PROMPT`, JSON lines on stdout.

Result: the last agent message (`item.completed` with an `agent_message` item; older versions:
`{"msg": {"type": "agent_message"}}`); tokens from `turn.completed` usage; an `error` or
`turn.failed` event is a failure, or a pause when it says the usage limit was hit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgswarm.worker.profiles.base import Outcome, TaskSpec
from pgswarm.worker.profiles.cli import (CliProfile, common_outcome, json_objects, last_line, limit_outcome,
                                         option_args, plain_lines)

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "profile": ("--profile", str),
    "sandbox": ("--sandbox", str),
    "skip_git_repo_check": ("--skip-git-repo-check", bool),
}


@dataclass
class CodexProfile(CliProfile):
    name: str = "codex"
    command: tuple[str, ...] = ("codex",)
    env_allowlist: tuple[str, ...] = ("OPENAI_*", "CODEX_*", "AZURE_OPENAI_*", "XDG_*", "RUST_LOG")

    def build_argv(self, task: TaskSpec) -> list[str]:
        return [*self.command, "exec", "--json", *option_args(task.args, OPTIONS), *self.extra_args, "--",
                task.prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_codex(exit_code, output)


def parse_codex(exit_code: int, output: str) -> Outcome:
    common = common_outcome(exit_code, "codex")
    if common is not None:
        return common
    message: str | None = None
    errors: list[str] = []
    tokens_in = tokens_out = None
    for event in json_objects(output):
        kind = event.get("type")
        msg = event.get("msg") if isinstance(event.get("msg"), dict) else None
        item = event.get("item") if isinstance(event.get("item"), dict) else None
        if kind == "item.completed" and item and item.get("type") in ("agent_message", "assistant_message"):
            message = item.get("text") or message
        elif msg and msg.get("type") == "agent_message":
            message = msg.get("message") or message
        elif kind == "turn.completed" and isinstance(event.get("usage"), dict):
            usage: dict[str, Any] = event["usage"]
            tokens_in = (tokens_in or 0) + int(usage.get("input_tokens") or 0)
            tokens_out = (tokens_out or 0) + int(usage.get("output_tokens") or 0)
        elif kind in ("error", "turn.failed") or (msg and msg.get("type") in ("error", "stream_error")):
            errors.append(_error_text(event))
    stderr = plain_lines(output)
    if errors or exit_code != 0:
        final = "\n".join(errors[-3:] + [stderr])
        limited = limit_outcome(final, "codex")
        if limited is not None:
            return limited
        reason = errors[-1] if errors else last_line(stderr) or "no output"
        return Outcome(kind="failed", error=f"codex failed (exit {exit_code}): {reason}"[:2000],
                       input_tokens=tokens_in, output_tokens=tokens_out)
    if message is None:
        return Outcome(kind="failed", error="codex exited 0 without an agent message")
    return Outcome(kind="completed", result={"text": message}, input_tokens=tokens_in, output_tokens=tokens_out)


def _error_text(event: dict[str, Any]) -> str:
    for holder in (event, event.get("error"), event.get("msg")):
        if isinstance(holder, dict) and isinstance(holder.get("message"), str):
            return holder["message"]
    return str(event)[:500]
