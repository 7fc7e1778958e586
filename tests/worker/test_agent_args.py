"""Per-task pass-through of agent options (claude, codex, gemini), the opencode and cursor
profiles against their fakes, and the profiles' options agreeing with what the engine declares
(swarm.agents.task_args): an arg the engine accepts is one the worker passes, and the reverse."""
from __future__ import annotations

import json
import re

import pytest

from pgswarm.worker.profiles import aider, claude, codex, cursor, gemini, opencode
from pgswarm.worker.profiles.base import TaskSpec
from pgswarm.worker.profiles.custom import load_profiles
from tests.worker.test_profiles import run

COMMON_ARGS = {"repo", "base", "worktree_keep", "cwd", "resume_on_retry", "idle_timeout_seconds", "swarm_tools",
               "max_budget_usd"}


def test_claude_passes_mcp_settings_schema_system_prompt_effort_and_fallback() -> None:
    args = {"mcp_config": {"mcpServers": {"db": {"command": "pg-mcp"}}}, "strict_mcp_config": True,
            "settings": "team-settings.json", "json_schema": {"type": "object"}, "system_prompt": "- be terse",
            "append_system_prompt": "Answer in French.", "effort": "high", "fallback_model": "sonnet"}
    argv = json.loads(run("claude", "mode:echo-args", args=args).result["text"])
    options = argv[argv.index("--verbose") + 1:argv.index("--")]
    assert options == ["--fallback-model", "sonnet", "--system-prompt=- be terse",
                       "--append-system-prompt=Answer in French.", "--effort", "high",
                       "--mcp-config", '{"mcpServers":{"db":{"command":"pg-mcp"}}}', "--strict-mcp-config",
                       "--settings", "team-settings.json", "--json-schema", '{"type":"object"}']


def test_claude_mcp_config_files_repeat_the_flag() -> None:
    profile = load_profiles(None, allow_shell=False).profiles["claude"]
    argv = profile.build_argv(TaskSpec(1, 1, "claude", "x", {"mcp_config": ["a.json", "b.json"]}, 60))
    assert argv[argv.index("--mcp-config"):argv.index("--")] == ["--mcp-config", "a.json", "--mcp-config", "b.json"]


def test_codex_passes_config_overrides_output_schema_sandbox_and_profile() -> None:
    args = {"config": {"model_reasoning_effort": "high", "sandbox_workspace_write.network_access": True},
            "output_schema": "schema.json", "sandbox": "workspace-write", "profile": "ci"}
    argv = json.loads(run("codex", "mode:echo-args", args=args).result["text"])
    assert argv == ["exec", "--json", "--profile", "ci", "--sandbox", "workspace-write",
                    "-c", 'model_reasoning_effort="high"', "-c", "sandbox_workspace_write.network_access=true",
                    "--output-schema", "schema.json", "--", "mode:echo-args"]


def test_gemini_passes_approval_mode_and_model() -> None:
    argv = json.loads(run("gemini", "mode:echo-args", args={"approval_mode": "plan", "model": "flash"}).result["text"])
    assert argv == ["--output-format", "json", "--model", "flash", "--approval-mode", "plan", "--prompt=mode:echo-args"]


# -- opencode ----------------------------------------------------------------------------------

def test_opencode_success_sums_steps_and_keeps_the_last_text_and_session() -> None:
    outcome = run("opencode", "fix it mode:success")
    assert outcome.kind == "completed" and outcome.result["text"] == "Fixed the flaky test."
    assert outcome.result["session_id"] == "ses_494719016ffe85dkDMj0FPRbHK"
    assert outcome.cost_usd == pytest.approx(0.003)
    assert (outcome.input_tokens, outcome.output_tokens) == (2 * 1300, 2 * 250)


def test_opencode_argv_puts_the_prompt_after_double_dash() -> None:
    prompt = "--help mode:echo-args"
    argv = json.loads(run("opencode", prompt, args={"model": "anthropic/claude-sonnet-4", "files": ["a.py"]})
                      .result["text"])
    assert argv == ["run", "--format", "json", "--model", "anthropic/claude-sonnet-4", "--file", "a.py", "--", prompt]


def test_opencode_error_event_fails_and_a_usage_limit_pauses() -> None:
    failed = run("opencode", "mode:error")
    assert failed.kind == "failed" and "APIError: Invalid API key" in failed.error
    assert run("opencode", "mode:limit").kind == "usage_limit"


# -- cursor ------------------------------------------------------------------------------------

def test_cursor_success_and_session() -> None:
    outcome = run("cursor", "rename it mode:success")
    assert outcome.kind == "completed" and outcome.result["text"].startswith("Renamed the helper")
    assert outcome.result["session_id"] == "c6b62c6f-7ead-4fd6-9922-e952131177ff"


def test_cursor_argv_and_failures() -> None:
    argv = json.loads(run("cursor", "mode:echo-args", args={"model": "gpt-5", "force": True}).result["text"])
    assert argv == ["-p", "--output-format", "json", "--model", "gpt-5", "--force", "mode:echo-args"]
    assert run("cursor", "mode:is-error").error == "cursor failed (exit 1): The edit could not be applied"
    not_logged_in = run("cursor", "mode:not-logged-in")
    assert not not_logged_in.retryable and "cursor-agent login" in not_logged_in.error
    assert run("cursor", "mode:limit").kind == "usage_limit"
    profile = load_profiles(None, allow_shell=False).profiles["cursor"]
    with pytest.raises(ValueError, match="cannot start with '-'"):
        profile.build_argv(TaskSpec(1, 1, "cursor", "--force rm", {}, 60))


# -- the declaration -----------------------------------------------------------------------------

@pytest.mark.parametrize("agent, options", [
    ("claude", claude.OPTIONS), ("codex", codex.OPTIONS), ("gemini", gemini.OPTIONS), ("aider", aider.OPTIONS),
    ("opencode", opencode.OPTIONS), ("cursor", cursor.OPTIONS), ("shell", {}),
])
def test_the_engine_declares_exactly_the_args_the_profile_passes(conn, agent: str, options: dict) -> None:
    declared = conn.execute("select task_args from swarm.agents where name = %s", (agent,)).fetchone()[0]
    common = conn.execute("select swarm._common_task_args()").fetchone()[0]
    assert set(common) == COMMON_ARGS
    # max_budget_usd is common (budgets read it) and claude passes it on.
    assert set(declared) == set(options) - COMMON_ARGS, agent


# -- the arg policy's configuration ----------------------------------------------------------------

def test_the_policy_table_and_allow_arg_entries_are_checked(tmp_path) -> None:
    from pgswarm.worker.config import WorkerConfig
    from pgswarm.worker.errors import UsageError
    from pgswarm.worker.profiles.custom import load_policy

    good = tmp_path / "good.toml"
    good.write_text('[policy]\nallow_args = ["permission_mode=bypassPermissions", "add_dirs", "add_dirs"]\n')
    assert load_policy(good) == ("permission_mode=bypassPermissions", "add_dirs")
    assert load_policy(None) == ()
    for text, says in (('[policy]\nallow_args = "add_dirs"\n', "allow_args must be a list"),
                       ('[policy]\nallow_args = ["add dirs"]\n', "must be NAME or NAME=VALUE"),
                       ('[policy]\nallow = ["x"]\n', "unknown key 'allow'"),
                       ('[polcy]\n', "unknown section 'polcy'")):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(UsageError, match=re.escape(says)):
            load_policy(bad) if "polcy" not in text else load_profiles(bad, allow_shell=False)
    with pytest.raises(UsageError, match="--allow-arg '=x' must be NAME or NAME=VALUE"):
        WorkerConfig(dsn="", allow_args=("=x",))
