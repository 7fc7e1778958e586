"""Agent profiles against fake agents that print what the real CLIs print: each fake runs as a
real process with the argv its profile builds; the outcome is what the worker would report."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pgswarm.worker.errors import UsageError
from pgswarm.worker.profiles.base import Outcome, TaskSpec
from pgswarm.worker.profiles.custom import load_profiles
from tests.helpers.workers import AGENTS

PYTHON = sys.executable


def run(agent: str, prompt: str, args: dict | None = None, config: str | None = None,
        tmp_path: Path | None = None) -> Outcome:
    """Build the argv of the agent's profile with the fake as its command, run it, parse it."""
    profiles = load_profiles(None, allow_shell=True).profiles
    profile = dataclasses.replace(profiles[agent], command=(PYTHON, str(AGENTS / f"fake_{agent}.py")))
    task = TaskSpec(id=1, attempt=1, agent=agent, prompt=prompt, args=args or {}, timeout_seconds=60)
    done = subprocess.run(profile.build_argv(task), capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    return profile.parse_outcome(done.returncode, done.stdout + done.stderr, Path("/dev/null"))


@pytest.mark.parametrize("mode", ["success", "json-object", "json-array"])
def test_claude_success_shapes(mode: str) -> None:
    outcome = run("claude", f"fix it mode:{mode}")
    assert outcome.kind == "completed"
    assert outcome.result["session_id"].startswith("5f1c2d3e") and outcome.cost_usd == pytest.approx(0.0127)
    assert outcome.result["text"]


def test_claude_tokens_come_from_model_usage_summed_over_models_else_usage() -> None:
    streamed = run("claude", "mode:success")
    assert (streamed.input_tokens, streamed.output_tokens) == (1000 + 500 + 300 + 200, 400 + 20)
    single = run("claude", "mode:json-object")  # no modelUsage: usage, with cache tokens counted as input
    assert (single.input_tokens, single.output_tokens) == (1200 + 300 + 500, 420)


def test_claude_is_error_with_exit_0_is_a_failure() -> None:
    outcome = run("claude", "mode:is-error-exit0")
    assert outcome.kind == "failed" and "tool call failed" in outcome.error and outcome.retryable


def test_claude_not_logged_in_is_a_failure_that_says_so() -> None:
    outcome = run("claude", "mode:not-logged-in")
    assert outcome.kind == "failed" and "Not logged in" in outcome.error and not outcome.retryable


@pytest.mark.parametrize("mode", ["limit-epoch", "limit-resets", "limit-reset-at", "rate-limit-event"])
def test_claude_usage_limits_pause_the_agent(mode: str) -> None:
    outcome = run("claude", f"mode:{mode}")
    assert outcome.kind == "usage_limit", outcome
    assert outcome.pause_until is not None and outcome.pause_until > datetime.now(timezone.utc)
    assert outcome.pause_reason.startswith("claude usage limit")


def test_claude_epoch_reset_is_honoured_within_the_clamp() -> None:
    outcome = run("claude", "mode:limit-epoch")  # resets in 2100: clamped to eight days
    days = (outcome.pause_until - datetime.now(timezone.utc)).total_seconds() / 86400
    assert 7.9 < days <= 8.0


def test_claude_overloaded_is_a_short_free_retry_not_a_pause() -> None:
    outcome = run("claude", "mode:overloaded")
    assert outcome.kind == "tempfail" and 30 <= outcome.retry_in_seconds <= 120


def test_claude_talking_about_limits_is_not_a_limit() -> None:
    assert run("claude", "mode:talks-about-limits").kind == "completed"


def test_exit_75_is_tempfail_for_every_profile() -> None:
    assert run("claude", "mode:tempfail").kind == "tempfail"


def test_claude_argv_prompt_is_one_element_after_double_dash_and_args_become_options() -> None:
    prompt = "--dangerously-skip-permissions mode:echo-args; rm -rf / \"quoted\""
    outcome = run("claude", prompt, args={"model": "opus", "max_turns": 7, "allowed_tools": ["Bash(git:*)", "Edit"]})
    argv = json.loads(outcome.result["text"])
    assert argv[-2:] == ["--", prompt]
    assert argv[:4] == ["-p", "--output-format", "stream-json", "--verbose"]
    assert ["--model", "opus"] == argv[4:6] and "--max-turns" in argv and "Bash(git:*),Edit" in argv


def test_claude_bad_args_are_refused_clearly() -> None:
    profile = load_profiles(None, allow_shell=False).profiles["claude"]
    with pytest.raises(ValueError, match="args.max_turns must be a positive integer"):
        profile.build_argv(TaskSpec(1, 1, "claude", "x", {"max_turns": "many"}, 60))


def test_codex_success_error_and_usage_limit() -> None:
    done = run("codex", "mode:success")
    assert done.kind == "completed" and done.result["text"] == "Added the test."
    assert (done.input_tokens, done.output_tokens) == (2400, 310)
    failed = run("codex", "mode:error")
    assert failed.kind == "failed" and "stream disconnected" in failed.error
    limited = run("codex", "mode:usage-limit")
    assert limited.kind == "usage_limit"
    hours = (limited.pause_until - datetime.now(timezone.utc)).total_seconds() / 3600
    assert 2 * 24 + 3 < hours < 2 * 24 + 3.2


@pytest.mark.parametrize("code, meaning", [(41, "authentication"), (42, "input"), (44, "sandbox"),
                                           (52, "configuration"), (53, "turn limit")])
def test_gemini_exit_codes_are_named(code: int, meaning: str) -> None:
    outcome = run("gemini", f"mode:exit-{code}")
    assert outcome.kind == "failed" and f"gemini exited {code} ({meaning}" in outcome.error


def test_gemini_success_and_quota() -> None:
    done = run("gemini", "-starts with a dash mode:success")
    assert done.kind == "completed" and done.result["text"] == "Refactored the parser."
    assert (done.input_tokens, done.output_tokens) == (900, 120)
    assert run("gemini", "mode:quota").kind == "usage_limit"


def test_aider_exit_0_can_hide_a_failure() -> None:
    assert run("aider", "mode:success").kind == "completed"
    hidden = run("aider", "mode:hidden-failure")
    assert hidden.kind == "failed" and "AuthenticationError" in hidden.error


def test_toml_profile_overrides_and_new_profiles(tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    config.write_text('[profiles.claude]\ncommand = ["python3", "fake.py"]\ntimeout_seconds = 600\n'
                      'stop_signals = ["SIGTERM"]\nextra_args = ["--permission-mode", "acceptEdits"]\n'
                      '[profiles.opus]\nbase = "claude"\nextra_args = ["--model", "opus"]\n'
                      '[profiles.lint]\nargv = ["ruff", "check", "{args.path}", "--message={prompt}"]\n')
    profiles = load_profiles(config, allow_shell=False).profiles
    task = TaskSpec(1, 1, "x", "-x {args.path}", {"path": "src/"}, 60)
    claude = profiles["claude"].build_argv(task)
    assert claude[:2] == ["python3", "fake.py"] and claude[-4:] == ["--permission-mode", "acceptEdits", "--", task.prompt]
    assert profiles["claude"].timeout_seconds == 600
    assert profiles["opus"].build_argv(task)[0] == "claude" and "opus" in profiles["opus"].build_argv(task)
    assert profiles["lint"].build_argv(task) == ["ruff", "check", "src/", "--message=-x {args.path}"]
    assert "shell" not in profiles


@pytest.mark.parametrize("text, problem", [
    ("[profiles.claude]\ncomand = 'x'\n", "unknown key 'comand'"),
    ("[profiles.new]\ntimeout_seconds = 5\n", "a new profile needs argv"),
    ("[profiles.claude]\nstop_signals = ['SIGNOPE']\n", "unknown signal 'SIGNOPE'"),
    ("[profiles.x]\nargv = ['a']\nparser = 'xml'\n", "unknown parser 'xml'"),
    ("[profiles.claude]\ntimeout_seconds = 'long'\n", "timeout_seconds has the wrong type"),
    ("[profiles.claude\n", "not valid TOML"),
    ("[agents]\n", "unknown section 'agents'"),
])
def test_bad_config_is_refused_naming_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(UsageError, match=problem) as error:
        load_profiles(config, allow_shell=False)
    assert str(config) in str(error.value)
