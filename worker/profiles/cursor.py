"""Cursor's agent CLI: `cursor-agent -p --output-format json [options] PROMPT`.

It prints one JSON object, `{"type": "result", "subtype": "success", "is_error": false,
"result": ..., "session_id": ...}` (no cost or tokens); a failure is a non-zero exit with the
reason on stderr, or `is_error: true`. The prompt is the last element: cursor-agent takes no
`--` separator, so a prompt starting with '-' is refused before the start.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Outcome, TaskSpec
from .cli import CliProfile, agent_parser, last_line, limit_outcome, option_args, split_output

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "force": ("--force", bool),
}
AUTH_HINTS = ("not logged in", "cursor-agent login", "authentication", "api key")


@dataclass
class CursorProfile(CliProfile):
    name: str = "cursor"
    command: tuple[str, ...] = ("cursor-agent",)
    env_allowlist: tuple[str, ...] = ("CURSOR_*", "XDG_*", "NODE_*")

    def build_argv(self, task: TaskSpec) -> list[str]:
        if task.prompt.startswith("-"):
            raise ValueError("a cursor prompt cannot start with '-' (cursor-agent would read it as an option)")
        return [*self.command, "-p", "--output-format", "json", *option_args(task.args, OPTIONS), *self.extra_args,
                task.prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_cursor(exit_code, output)


@agent_parser("cursor")
def parse_cursor(exit_code: int, output: str) -> Outcome:
    objects, plain = split_output(output)
    results = [o for o in objects if o.get("type") == "result"]
    stderr = "\n".join(plain[-20:])
    final = results[-1] if results else None
    text = final.get("result") if final and isinstance(final.get("result"), str) else ""
    if final is not None and exit_code == 0 and not final.get("is_error"):
        result: dict[str, Any] = {"text": text}
        for key in ("session_id", "duration_ms", "request_id"):
            if key in final:
                result[key] = final[key]
        return Outcome(kind="completed", result=result)
    limited = limit_outcome("\n".join(filter(None, [text if final else "", stderr])), "cursor")
    if limited is not None:
        return limited
    reason = text or last_line(stderr) or ("no result object" if exit_code == 0 else "no output")
    auth = any(hint in reason.lower() for hint in AUTH_HINTS)
    if auth:
        reason += " (cursor-agent is not logged in on this node: run `cursor-agent login` or set CURSOR_API_KEY)"
    return Outcome(kind="failed", error=f"cursor failed (exit {exit_code}): {reason}"[:2000], retryable=not auth)
