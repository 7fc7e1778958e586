"""OpenAI Codex CLI: `codex exec --json [options] -- PROMPT`, JSON lines on stdout.

Result: the last agent message (`item.completed` with an `agent_message` item; older versions:
`{"msg": {"type": "agent_message"}}`); tokens from `turn.completed` usage; an `error` or
`turn.failed` event is a failure, or a pause when it says the usage limit was hit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..capability import codex_mcp_overrides
from .base import Outcome, TaskSpec
from .cli import (CliProfile, KeyValues, Repeated, agent_parser, last_line, limit_outcome, option_args,
                  split_output)

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "profile": ("--profile", str),
    "sandbox": ("--sandbox", str),
    "skip_git_repo_check": ("--skip-git-repo-check", bool),
    "add_dirs": ("--add-dir", Repeated),
    "config": ("-c", KeyValues),
    "output_schema": ("--output-schema", str),
}


@dataclass
class CodexProfile(CliProfile):
    name: str = "codex"
    command: tuple[str, ...] = ("codex",)
    takes_mcp_config: bool = True  # args.swarm_tools as -c mcp_servers.pgswarm... overrides
    env_allowlist: tuple[str, ...] = ("OPENAI_*", "CODEX_*", "AZURE_OPENAI_*", "XDG_*", "RUST_LOG")
    result_marker: bytes | None = b'{"type":"turn.completed"'  # the end of `exec --json`'s last turn
    prompt_via: str | None = "stdin"  # `codex exec -` reads the prompt from stdin

    def build_argv(self, task: TaskSpec) -> list[str]:
        # A retry continues the session the engine chose: `codex exec resume <id> PROMPT`.
        resume = ["resume", task.resume_session] if task.resume_session else []
        swarm_tools = codex_mcp_overrides() if task.mcp_config else []  # args.swarm_tools
        return [*self.command, "exec", "--json", *option_args(task.args, OPTIONS), *swarm_tools, *self.extra_args,
                *resume, "--", "-" if task.prompt_file is not None else task.prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_codex(exit_code, output)


@agent_parser("codex")
def parse_codex(exit_code: int, output: str) -> Outcome:
    message: str | None = None
    thread_id: str | None = None
    errors: list[str] = []
    turn_failures: list[str] = []
    turn_completed = False
    tokens_in = tokens_out = None
    objects, plain = split_output(output)
    for event in objects:
        kind = event.get("type")
        msg = event.get("msg") if isinstance(event.get("msg"), dict) else None
        item = event.get("item") if isinstance(event.get("item"), dict) else None
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            thread_id = event["thread_id"]
        elif kind == "item.completed" and item and item.get("type") in ("agent_message", "assistant_message"):
            message = item.get("text") or message
        elif msg and msg.get("type") == "agent_message":
            message = msg.get("message") or message
        elif kind == "turn.completed":
            turn_completed = True
            usage = event.get("usage")
            if isinstance(usage, dict):  # input_tokens already include cached_input_tokens
                tokens_in = (tokens_in or 0) + int(usage.get("input_tokens") or 0)
                tokens_out = (tokens_out or 0) + int(usage.get("output_tokens") or 0)
        elif msg and msg.get("type") == "task_complete":
            turn_completed = True
        elif kind == "turn.failed":
            turn_failures.append(_error_text(event))
        elif kind == "error" or (msg and msg.get("type") in ("error", "stream_error")):
            errors.append(_error_text(event))
    stderr = "\n".join(plain[-20:])
    # "Reconnecting... 2/5 (...)" error events are codex retrying; they end the run only when no
    # turn completes after them.
    lasting = [e for e in errors if not e.startswith("Reconnecting")]
    if exit_code != 0 or turn_failures or (errors and not turn_completed):
        # The structured rate_limits windows go along: a limit without a reset time takes theirs.
        windows = [json.dumps(e) for e in objects if "rate_limits" in e][-1:]
        final = "\n".join(turn_failures[-2:] + errors[-3:] + [stderr] + windows)
        limited = limit_outcome(final, "codex")
        if limited is not None:
            return limited
        reason = (turn_failures or lasting or errors or [last_line(stderr) or "no output"])[-1]
        return Outcome(kind="failed", error=f"codex failed (exit {exit_code}): {reason}"[:2000],
                       input_tokens=tokens_in, output_tokens=tokens_out)
    if message is None:
        return Outcome(kind="failed", error="codex exited 0 without an agent message"
                       + ("" if turn_completed else " or a completed turn"))
    result: dict[str, Any] = {"text": message}
    if thread_id:
        result["session_id"] = thread_id
    return Outcome(kind="completed", result=result, input_tokens=tokens_in, output_tokens=tokens_out)


def _error_text(event: dict[str, Any]) -> str:
    for holder in (event, event.get("error"), event.get("msg")):
        if isinstance(holder, dict) and isinstance(holder.get("message"), str):
            return holder["message"]
    return str(event)[:500]
