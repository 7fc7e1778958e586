"""Gemini CLI: `gemini --output-format json [options] --prompt=PROMPT` (the prompt is the value
of one element, so a prompt starting with '-' is safe). The JSON document holds `response`,
`stats` and, on failure, `error`; its exit codes name the kind of failure."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Outcome, TaskSpec
from .cli import CliProfile, Repeated, agent_parser, last_line, limit_outcome, option_args, split_output

OPTIONS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "approval_mode": ("--approval-mode", str),
    "include_directories": ("--include-directories", Repeated),
    "skip_trust": ("--skip-trust", bool),
}
# gemini-cli's fatal exit codes; retrying helps with none of these but a tool failure.
# NODE_FAULTS: this node's set-up, not the task nor Google's service (faults.py).
NODE_FAULTS = {41: "not logged in", 44: "set-up", 52: "set-up", 55: "untrusted directory"}
TASK_FAULTS = {42, 53, 54}
EXIT_CODES = {
    41: ("authentication error: log in or set GEMINI_API_KEY on this node", False),
    42: ("input error: the prompt or arguments were refused", False),
    44: ("sandbox error: the sandbox could not start", False),
    52: ("configuration error: check the gemini settings files", False),
    53: ("turn limit reached: the session used its maximum number of turns", False),
    54: ("tool execution error", True),
    55: ("untrusted workspace: trust the folder or pass args.skip_trust", False),
    130: ("cancelled", True),
}


@dataclass
class GeminiProfile(CliProfile):
    name: str = "gemini"
    command: tuple[str, ...] = ("gemini",)
    env_allowlist: tuple[str, ...] = ("GEMINI_*", "GOOGLE_*", "XDG_*", "NODE_*")
    prompt_via: str | None = "stdin"  # without --prompt, gemini reads a piped stdin as the prompt

    def build_argv(self, task: TaskSpec) -> list[str]:
        resume = [f"--resume={task.resume_session}"] if task.resume_session else []  # a retry continues it
        # A task with args.repo runs in a fresh worktree, which gemini does not trust (exit 55):
        # trust it for this session only.
        trust = ["--skip-trust"] if task.args.get("repo") and self.worktree and not task.args.get("skip_trust") else []
        prompt = [] if task.prompt_file is not None else [f"--prompt={task.prompt}"]
        return [*self.command, "--output-format", "json", *option_args(task.args, OPTIONS), *resume, *trust,
                *self.extra_args, *prompt]

    def parse_outcome(self, exit_code: int, output: str, log_path: Path) -> Outcome:
        return parse_gemini(exit_code, output)


@agent_parser("gemini")
def parse_gemini(exit_code: int, output: str) -> Outcome:
    objects, plain = split_output(output)
    documents = [d for d in objects if {"response", "error", "stats"} & d.keys()]
    document = documents[-1] if documents else {}
    error = document.get("error")
    message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    stderr = "\n".join(plain[-20:])
    tokens_in, tokens_out = _tokens(document.get("stats"))
    if exit_code == 0 and not error and isinstance(document.get("response"), str):
        result = {"text": document["response"]}
        if isinstance(document.get("session_id"), str):
            result["session_id"] = document["session_id"]
        return Outcome(kind="completed", result=result, input_tokens=tokens_in, output_tokens=tokens_out)
    limited = limit_outcome("\n".join(filter(None, [message, stderr])), "gemini")
    if limited is not None:
        return limited
    meaning, retryable = EXIT_CODES.get(exit_code, ("", True))
    detail = message or last_line(stderr) or ("no response in its JSON output" if exit_code == 0 else "no output")
    label = f"gemini exited {exit_code}" + (f" ({meaning})" if meaning else "")
    if exit_code in NODE_FAULTS:
        return Outcome(kind="node_fault", fault=NODE_FAULTS[exit_code], error=f"{label}: {detail}"[:2000])
    return Outcome(kind="failed", error=f"{label}: {detail}"[:2000], retryable=retryable,
                   input_tokens=tokens_in, output_tokens=tokens_out,
                   fault="task" if exit_code in TASK_FAULTS else "service")


def _tokens(stats: Any) -> tuple[int | None, int | None]:
    if not isinstance(stats, dict) or not isinstance(stats.get("models"), dict):
        return None, None
    tokens_in = tokens_out = 0
    for model in stats["models"].values():
        tokens = model.get("tokens", {}) if isinstance(model, dict) else {}
        tokens_in += int(tokens.get("prompt") or tokens.get("input") or 0)
        tokens_out += int(tokens.get("candidates") or tokens.get("output") or 0)
    return tokens_in, tokens_out
