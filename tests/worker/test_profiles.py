"""Agent profiles against fake agents that print what the real CLIs print: each fake runs as a
real process with the argv its profile builds; the outcome is what the worker would report."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pgswarm.worker.errors import UsageError
from pgswarm.worker.profiles.base import Outcome, TaskSpec
from pgswarm.worker.profiles.custom import load_profiles
from tests.helpers.workers import AGENTS

PYTHON = sys.executable


PARSE_BYTES = 256 * 1024  # what an attempt passes to parse_outcome: the tail of the log


def run(agent: str, prompt: str, args: dict | None = None, env: dict[str, str] | None = None) -> Outcome:
    """Build the argv of the agent's profile with the fake as its command, run it as an attempt
    does (stdin from /dev/null, stdout and stderr interleaved in one stream), parse its tail."""
    profiles = load_profiles(None, allow_shell=True).profiles
    profile = dataclasses.replace(profiles[agent], command=(PYTHON, str(AGENTS / f"fake_{agent}.py")))
    task = TaskSpec(id=1, attempt=1, agent=agent, prompt=prompt, args=args or {}, timeout_seconds=60)
    done = subprocess.run(profile.build_argv(task), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    output = done.stdout[-PARSE_BYTES:].decode(errors="replace")
    return profile.parse_outcome(done.returncode, output, Path("/dev/null"))


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


def test_claude_not_logged_in_is_a_node_local_fault_that_says_so() -> None:
    outcome = run("claude", "mode:not-logged-in")
    assert outcome.kind == "node_fault" and outcome.fault == "not logged in" and "Not logged in" in outcome.error


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
    assert f"gemini exited {code} ({meaning}" in outcome.error
    # This node's set-up (41 auth, 44 sandbox, 52 configuration) is node-local; 42 and 53 are the task's.
    assert (outcome.kind, outcome.fault) == (("node_fault", outcome.fault) if code in (41, 44, 52) else ("failed", "task"))


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


# -- more shapes of claude ---------------------------------------------------------------------

def test_claude_json_array_bigger_than_the_captured_tail_still_completes() -> None:
    outcome = run("claude", "mode:huge-array")  # 400 kB on one line: an attempt keeps the last 256 KiB
    assert outcome.kind == "completed" and outcome.result["text"] == "Done after a long conversation."
    assert outcome.cost_usd == pytest.approx(0.0127)


def test_claude_not_logged_in_as_the_real_cli_prints_it() -> None:
    outcome = run("claude", "say hello", env={"FAKE_MODE": "not-logged-in"})
    assert outcome.kind == "node_fault" and outcome.fault == "not logged in"
    assert "Not logged in · Please run /login" in outcome.error and "claude is not logged in" in outcome.error


def test_claude_without_a_result_fails_with_the_end_of_stderr() -> None:
    outcome = run("claude", "mode:crash")
    assert outcome.kind == "failed"
    assert "claude exited 1 without a result" in outcome.error and "ENOSPC" in outcome.error


def test_claude_weekly_limit_with_a_date_pauses_the_agent() -> None:
    outcome = run("claude", "mode:limit-weekly-date")
    assert outcome.kind == "usage_limit" and "weekly limit · resets Nov 25, 3pm" in outcome.pause_reason
    assert datetime.now(timezone.utc) < outcome.pause_until <= datetime.now(timezone.utc) + timedelta(days=8)


def test_claude_server_side_rate_limiting_is_a_short_free_retry() -> None:
    outcome = run("claude", "mode:not-your-limit")
    assert outcome.kind == "tempfail" and 30 <= outcome.retry_in_seconds <= 120
    assert "not your usage limit" in outcome.error


def test_claude_limit_messages_in_a_successful_answer_do_not_pause() -> None:
    outcome = run("claude", "mode:talks-about-limits")
    assert outcome.kind == "completed" and outcome.pause_until is None
    assert "usage limit reached|1700000000" in outcome.result["text"]


@pytest.mark.parametrize("args, problem", [
    ({"model": "--dangerously-skip-permissions"}, "args.model must not start with '-'"),
    ({"allowed_tools": [1, 2]}, "args.allowed_tools must be a string or a non-empty list of strings"),
    ({"max_turns": True}, "args.max_turns must be a positive integer"),
    ({"max_budget_usd": -1}, "args.max_budget_usd must be a positive number"),
    ({"permission_mode": ""}, "args.permission_mode must be a non-empty string"),
])
def test_claude_bad_arg_types_are_refused_naming_the_arg(args: dict, problem: str) -> None:
    profile = load_profiles(None, allow_shell=False).profiles["claude"]
    with pytest.raises(ValueError, match=re.escape(problem)):
        profile.build_argv(TaskSpec(1, 1, "claude", "x", args, 60))


def test_claude_list_args_and_worker_args() -> None:
    """add_dirs repeats its flag; args the profile does not know (the worker's repo) are left out."""
    outcome = run("claude", "mode:echo-args", args={"add_dirs": ["/a", "/b"], "repo": "/src/app"})
    argv = json.loads(outcome.result["text"])
    assert argv[4:8] == ["--add-dir", "/a", "--add-dir", "/b"] and "/src/app" not in argv


# -- codex -------------------------------------------------------------------------------------

def test_codex_reconnects_then_success_is_a_success() -> None:
    outcome = run("codex", "mode:reconnect-then-success")
    assert outcome.kind == "completed" and outcome.result["text"] == "Done despite the network."
    assert outcome.result["session_id"] == "0199a213-81c0-7800-8aa1-bbab2a035a53"


def test_codex_offline_output_is_never_a_success() -> None:
    outcome = run("codex", "mode:offline")  # exits 0 after reconnect errors, with no completed turn
    assert outcome.kind == "failed" and "Reconnecting... waiting for network" in outcome.error


def test_codex_try_again_at_a_clock_time_pauses_until_then() -> None:
    outcome = run("codex", "mode:usage-limit-at")
    assert outcome.kind == "usage_limit" and "try again at 12:16 PM" in outcome.pause_reason
    local = outcome.pause_until.astimezone()  # codex prints the machine's local time
    assert (local.hour, local.minute) == (12, 18)  # plus the two-minute margin


def test_codex_prompt_starting_with_a_dash_is_one_element_after_double_dash() -> None:
    prompt = "-m gpt-4 mode:echo-args"
    outcome = run("codex", prompt, args={"model": "o3", "skip_git_repo_check": True})
    argv = json.loads(outcome.result["text"])
    assert argv == ["exec", "--json", "--model", "o3", "--skip-git-repo-check", "--", prompt]


# -- gemini ------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, meaning, message", [
    (41, "authentication error", "Please set an Auth method"),
    (54, "tool execution error", "Tool run_shell_command failed"),
    (55, "untrusted workspace", "not running in a trusted directory"),
])
def test_gemini_error_names_the_exit_code_and_quotes_its_json_error(code: int, meaning: str, message: str) -> None:
    outcome = run("gemini", f"mode:exit-{code}")
    assert outcome.error.startswith(f"gemini exited {code} ({meaning}")
    assert message in outcome.error  # from the pretty-printed JSON on stderr, not a stray '}'
    assert outcome.kind == ("failed" if code == 54 else "node_fault")  # 41 and 55: this node's set-up


def test_gemini_daily_quota_pauses_until_midnight_pacific() -> None:
    outcome = run("gemini", "mode:quota-daily")
    assert outcome.kind == "usage_limit" and "exhausted your daily quota" in outcome.pause_reason
    pacific = outcome.pause_until.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (pacific.hour, pacific.minute) == (0, 2)


def test_gemini_prompt_is_the_value_of_one_element_and_session_is_recorded() -> None:
    prompt = "--yolo mode:echo-args"
    outcome = run("gemini", prompt, args={"model": "gemini-2.5-pro"})
    assert json.loads(outcome.result["text"]) == ["--output-format", "json", "--model", "gemini-2.5-pro",
                                                  f"--prompt={prompt}"]
    assert outcome.result["session_id"] == "e3347beb-5a6c-4bb9-bb7e-ce3dbfeba26d"


# -- aider -------------------------------------------------------------------------------------

def test_aider_tokens_and_cost_come_from_its_report_lines() -> None:
    outcome = run("aider", "mode:success")
    assert (outcome.input_tokens, outcome.output_tokens) == (3100 + 4200 + 1500, 210 + 95)
    assert outcome.cost_usd == pytest.approx(0.03)


def test_aider_hidden_auth_failure_is_not_retried_and_files_repeat_the_flag() -> None:
    assert not run("aider", "mode:hidden-failure").retryable
    argv = json.loads(run("aider", "-x mode:echo-args", args={"files": ["a.py", "b.py"]}).result["text"])
    assert argv == ["--message=-x mode:echo-args", "--yes-always", "--no-auto-commits", "--no-pretty",
                    "--file", "a.py", "--file", "b.py"]


# -- every profile -----------------------------------------------------------------------------

@pytest.mark.parametrize("agent", ["claude", "codex", "gemini", "aider", "shell"])
def test_exit_75_and_death_by_signal_mean_the_same_for_every_profile(agent: str) -> None:
    profile = load_profiles(None, allow_shell=True).profiles[agent]
    assert profile.parse_outcome(75, "try later\n", Path("/dev/null")).kind == "tempfail"
    killed = profile.parse_outcome(-signal.SIGKILL, '{"type":"turn.started"}\n', Path("/dev/null"))
    assert killed.kind == "failed" and "killed by SIGKILL" in killed.error


def test_a_killed_fake_agent_is_reported_killed() -> None:
    profile = dataclasses.replace(load_profiles(None, allow_shell=False).profiles["claude"],
                                  command=(PYTHON, str(AGENTS / "fake_claude.py")))
    process = subprocess.Popen(profile.build_argv(TaskSpec(1, 1, "claude", "mode:slow", {}, 60)),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    process.terminate()
    output = process.communicate(timeout=30)[0].decode()
    outcome = profile.parse_outcome(process.returncode, output, Path("/dev/null"))
    assert outcome.kind == "failed" and outcome.error == "claude was killed by SIGTERM"


def test_shell_profile_exists_only_with_allow_shell_and_reports_its_exit_code() -> None:
    assert "shell" not in load_profiles(None, allow_shell=False).profiles
    shell = load_profiles(None, allow_shell=True).profiles["shell"]
    task = TaskSpec(1, 1, "shell", "echo one; echo two >&2; exit 3", {}, 60)
    assert shell.build_argv(task) == ["sh", "-c", task.prompt]
    done = subprocess.run(shell.build_argv(task), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=30)
    outcome = shell.parse_outcome(done.returncode, done.stdout.decode(), Path("/dev/null"))
    assert outcome.kind == "failed" and outcome.error == "exited 3: two"


def test_template_profile_rejects_keys_that_do_not_apply(tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    config.write_text('[profiles.lint]\nargv = ["ruff", "{prompt}"]\nextra_args = ["-v"]\n')
    with pytest.raises(UsageError, match="extra_args does not apply to an argv template"):
        load_profiles(config, allow_shell=False)
    config.write_text('[profiles.claude]\ntimeout_seconds = true\n')
    with pytest.raises(UsageError, match="timeout_seconds has the wrong type"):
        load_profiles(config, allow_shell=False)


def test_missing_template_arg_is_named() -> None:
    from pgswarm.worker.profiles.custom import TemplateProfile
    profile = TemplateProfile(name="lint", argv=("ruff", "{args.path}"))
    with pytest.raises(ValueError, match="the lint profile needs args.path"):
        profile.build_argv(TaskSpec(1, 1, "lint", "x", {}, 60))


# -- the real CLIs, offline and logged out (scripts/install-agent-clis.sh) ------------------------

REAL_CLIS = Path(__file__).resolve().parents[2] / ".tools" / "agents" / "node_modules" / ".bin"


def real_cli(tool: str) -> str:
    """The installed CLI: .tools/agents (install-agent-clis.sh) or PATH; skipped when absent,
    except in CI, where it must be there."""
    found = REAL_CLIS / tool if (REAL_CLIS / tool).exists() else shutil.which(tool)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is not installed in {REAL_CLIS} nor on PATH: run scripts/install-agent-clis.sh")
        pytest.skip(f"{tool} is not installed (bash scripts/install-agent-clis.sh)")
    return str(found)


def run_real(tool: str, prompt: str, home: Path, seconds: float, args: dict | None = None) -> tuple[int, str]:
    """Run the real CLI with its profile's argv in its own process group, HOME empty, stdin
    closed; kill the group at the deadline (as an attempt would) and return (exit code, output)."""
    profile = dataclasses.replace(load_profiles(None, allow_shell=False).profiles[tool], command=(real_cli(tool),))
    argv = profile.build_argv(TaskSpec(1, 1, tool, prompt, args or {}, int(seconds)))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env, cwd=home, start_new_session=True)
    try:
        output = process.communicate(timeout=seconds)[0]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output = process.communicate(timeout=30)[0]
    return process.returncode, output[-PARSE_BYTES:].decode(errors="replace")


def test_real_claude_without_login_is_a_failure_saying_not_logged_in(tmp_path: Path) -> None:
    exit_code, output = run_real("claude", "-say hello", tmp_path, 60)
    outcome = load_profiles(None, allow_shell=False).profiles["claude"].parse_outcome(exit_code, output, Path("x"))
    assert outcome.kind == "node_fault" and outcome.fault == "not logged in", (exit_code, output[-2000:])
    assert "not logged in" in outcome.error.lower()


def test_real_gemini_without_auth_fails_naming_exit_41(tmp_path: Path) -> None:
    exit_code, output = run_real("gemini", "-say hello", tmp_path, 60)
    outcome = load_profiles(None, allow_shell=False).profiles["gemini"].parse_outcome(exit_code, output, Path("x"))
    assert outcome.kind == "node_fault" and outcome.fault == "not logged in", (exit_code, output[-2000:])
    assert outcome.error.startswith("gemini exited 41 (authentication error") and "Auth method" in outcome.error


def test_real_codex_offline_is_never_called_a_success(tmp_path: Path) -> None:
    """codex reconnects for ever without network: killed at the deadline, its partial output is a
    failure whether it is read with the kill's exit code or as if it had exited 0."""
    exit_code, output = run_real("codex", "-say hello", tmp_path, 20, args={"skip_git_repo_check": True})
    codex = load_profiles(None, allow_shell=False).profiles["codex"]
    assert exit_code != 0 and "thread.started" in output, output[-2000:]
    assert codex.parse_outcome(exit_code, output, Path("x")).kind == "failed"
    as_if_done = codex.parse_outcome(0, output, Path("x"))
    assert as_if_done.kind == "failed" and "codex failed" in as_if_done.error


# -- usage limits on the success path (issue 15, defect 2) -------------------------------------

@pytest.mark.parametrize("mode, reason", [
    ("limit-as-success", "Claude AI usage limit reached|4102444800"),
    ("rate-limit-as-success", "API Error: Rate limit reached"),
    ("rejected-event-empty-result", "rate_limit_event rejected (seven_day)"),
])
def test_claude_limit_reported_as_a_success_pauses(mode: str, reason: str) -> None:
    """claude #79500: is_error false, exit 0, and the result is the limit message."""
    outcome = run("claude", f"mode:{mode}")
    assert outcome.kind == "usage_limit" and reason in outcome.pause_reason, outcome


def test_claude_rate_limit_as_success_takes_its_reset_from_the_structured_event() -> None:
    outcome = run("claude", "mode:rate-limit-as-success")  # resetsAt 2100: clamped to 8 days
    assert outcome.pause_until - datetime.now(timezone.utc) > timedelta(days=7)


@pytest.mark.parametrize("mode", ["usage-limit-429", "usage-limit-429-exit0"])
def test_codex_429_usage_limit_reached_pauses_until_its_reset(mode: str) -> None:
    outcome = run("codex", f"mode:{mode}")
    assert outcome.kind == "usage_limit" and "usage_limit_reached" in outcome.pause_reason, outcome
    wait = outcome.pause_until - datetime.now(timezone.utc)
    if mode == "usage-limit-429":  # resets_in_seconds 7200 in the body, plus the margin
        assert timedelta(hours=2) < wait < timedelta(hours=2, minutes=3)
    else:  # no reset in the body: the rate_limits window at 100 % says 2100, clamped to 8 days
        assert wait > timedelta(days=7)


def test_a_long_pause_reason_is_never_cut_in_the_middle_of_json() -> None:
    from pgswarm.worker.usage_limits import detect_usage_limit
    body = json.dumps({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
                                 "plan_type": "plus", "resets_in_seconds": 60, "padding": "x" * 400}})
    limit = detect_usage_limit(f"unexpected status 429 Too Many Requests: {body}", datetime.now(timezone.utc))
    assert limit is not None and len(limit.reason) <= 300
    assert "{" not in limit.reason and "The usage limit has been reached" in limit.reason, limit.reason
