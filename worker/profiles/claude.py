"""Claude Code: `claude -p --output-format stream-json --verbose [options] -- PROMPT`.

The outcome comes from the last `type == "result"` object (stream-json lines, or the object or
array that `--output-format json` prints) together with the exit code: `is_error: true` is a
failure even with exit 0. A rejected `rate_limit_event`, or a usage-limit message in the final
result or the last lines of stderr, pauses the agent. A successful run is a limit only when its
result text *is* a limit message (starts with one: claude #79500 reports limits as successes) or
a rejected `rate_limit_event` came with an empty result; an answer that merely mentions limits is
an answer.
"""
from __future__ import annotations

import json
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Outcome, TaskSpec
from .cli import (CliProfile, JsonOrRepeated, Repeated, Text, agent_parser, limit_outcome, option_args,
                  split_output, success_limit_outcome)

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "fallback_model": ("--fallback-model", str),
    "max_turns": ("--max-turns", int),
    "allowed_tools": ("--allowedTools", list),
    "disallowed_tools": ("--disallowedTools", list),
    "permission_mode": ("--permission-mode", str),
    "system_prompt": ("--system-prompt", Text),
    "append_system_prompt": ("--append-system-prompt", Text),
    "resume": ("--resume", str),
    "add_dirs": ("--add-dir", Repeated),
    "effort": ("--effort", str),
    "max_budget_usd": ("--max-budget-usd", float),
    "mcp_config": ("--mcp-config", JsonOrRepeated),
    "strict_mcp_config": ("--strict-mcp-config", bool),
    "settings": ("--settings", JsonOrRepeated),
    "json_schema": ("--json-schema", JsonOrRepeated),
}
AUTH_HINTS = ("not logged in", "please run /login", "invalid api key", "authentication_error", "oauth token")


@dataclass
class ClaudeProfile(CliProfile):
    name: str = "claude"
    command: tuple[str, ...] = ("claude",)
    stop_signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
    env_allowlist: tuple[str, ...] = ("ANTHROPIC_*", "CLAUDE_*", "AWS_*", "CLOUD_ML_REGION", "GOOGLE_*",
                                      "DISABLE_*", "MCP_*", "NODE_*", "XDG_*")
    takes_mcp_config: bool = True
    # stream-json's last event (claude #25629: the process may hang after printing it).
    result_marker: bytes | None = b'{"type":"result"'
    prompt_via: str | None = "stdin"  # `claude -p` without a prompt argument reads it from stdin

    def build_argv(self, task: TaskSpec) -> list[str]:
        # A retry continues the session the engine chose, forked so two runs never share a transcript.
        resume = ["--resume", task.resume_session, "--fork-session"] if task.resume_session and not task.args.get(
            "resume") else []
        swarm_tools = ["--mcp-config", task.mcp_config] if task.mcp_config else []
        prompt = [] if task.prompt_file is not None else ["--", task.prompt]
        return [*self.command, "-p", "--output-format", "stream-json", "--verbose",
                *option_args(task.args, OPTIONS), *resume, *swarm_tools, *self.extra_args, *prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_claude(exit_code, output)


@agent_parser("claude")
def parse_claude(exit_code: int, output: str) -> Outcome:
    objects, plain = split_output(output)
    results = [o for o in objects if o.get("type") == "result"] or _cut_result(output)
    limit_events = [o for o in objects if o.get("type") == "rate_limit_event"]
    # The assistant message of a failed API call names the kind of error (authentication_failed,
    # rate_limit, overloaded, billing_error, ...).
    api_errors = [str(o["error"]) for o in objects if o.get("type") == "assistant" and o.get("error")]
    stderr = "\n".join(plain[-20:])
    if results:
        final = results[-1]
        text = final.get("result") if isinstance(final.get("result"), str) else ""
        failed = bool(final.get("is_error")) or exit_code != 0 or str(final.get("subtype", "")).startswith("error")
        cost, tokens_in, tokens_out = _usage(final)
        if not failed:
            # claude #79500: a usage limit reported as a success (is_error false, exit 0).
            limited = success_limit_outcome(text, "\n".join(_event_line(e) for e in limit_events), "claude")
            if limited is not None:
                return limited
            return Outcome(kind="completed", result=_result_fields(final, text), cost_usd=cost,
                           input_tokens=tokens_in, output_tokens=tokens_out)
        limit_text = "\n".join([*(_event_line(e) for e in limit_events[-1:]), text or "", stderr])
        limited = limit_outcome(limit_text, "claude")
        if limited is not None:
            return limited
        what = text or final.get("subtype") or "error result"
        auth = bool({"authentication_failed", "oauth_org_not_allowed"} & set(api_errors[-1:])) or any(
            hint in what.lower() for hint in AUTH_HINTS)
        if auth:  # a node-local fault: this node's claude has no working login
            return Outcome(kind="node_fault", fault="not logged in",
                           error=f"claude reported an error (exit {exit_code}): {what} (claude is not logged in "
                                 "on this node: run `claude /login` or set ANTHROPIC_API_KEY)"[:2000])
        if api_errors[-1:] == ["billing_error"]:
            what = f"{what} (billing: check the plan or credit balance)"
        return Outcome(kind="failed", error=f"claude reported an error (exit {exit_code}): {what}"[:2000],
                       result=_result_fields(final, text), cost_usd=cost, input_tokens=tokens_in,
                       output_tokens=tokens_out, retryable=api_errors[-1:] != ["billing_error"],
                       # An error result without a failed API call is the task's own (a tool failed,
                       # the turn limit, a refusal); a failed API call is the service's.
                       fault="service" if api_errors else "task")
    limited = limit_outcome("\n".join([*(_event_line(e) for e in limit_events[-1:]), stderr]), "claude")
    if limited is not None:
        return limited
    if exit_code == 0:
        return Outcome(kind="failed", error="claude exited 0 without a result object (was --output-format changed?)")
    return Outcome(kind="failed", error=f"claude exited {exit_code} without a result: {stderr[-1500:] or 'no output'}")


def _cut_result(output: str) -> list[dict[str, Any]]:
    """The result object inside a line whose start was cut off (a huge `--output-format json`
    array bigger than the captured tail)."""
    at = output.rfind('{"type":"result"')
    if at < 0:
        return []
    try:
        value, _ = json.JSONDecoder().raw_decode(output, at)
    except ValueError:
        return []
    return [value] if isinstance(value, dict) else []


def _event_line(event: dict[str, Any]) -> str:
    return json.dumps(event)


def _result_fields(final: dict[str, Any], text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"text": text}
    for key in ("session_id", "num_turns", "duration_ms", "subtype", "structured_output"):
        if key in final:
            fields[key] = final[key]
    return fields


def _usage(final: dict[str, Any]) -> tuple[float | None, int | None, int | None]:
    """(cost, input tokens, output tokens): modelUsage summed over models when present, else usage.
    Input counts cache reads and writes: they are tokens the model took in."""
    cost = final.get("total_cost_usd", final.get("cost_usd"))
    cost = float(cost) if isinstance(cost, (int, float)) else None
    models = final.get("modelUsage")
    if isinstance(models, dict) and models:
        tokens_in = sum(int(m.get(k) or 0) for m in models.values() if isinstance(m, dict)
                        for k in ("inputTokens", "cacheReadInputTokens", "cacheCreationInputTokens"))
        tokens_out = sum(int(m.get("outputTokens") or 0) for m in models.values() if isinstance(m, dict))
        return cost, tokens_in, tokens_out
    usage = final.get("usage")
    if isinstance(usage, dict):
        tokens_in = sum(int(usage.get(k) or 0) for k in ("input_tokens", "cache_read_input_tokens",
                                                         "cache_creation_input_tokens"))
        return cost, tokens_in, int(usage.get("output_tokens") or 0)
    return cost, None, None
