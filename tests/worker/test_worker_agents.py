"""Agents end to end through a real worker: costs and tokens recorded, usage limits pause the
agent cluster-wide without spending attempts, and the real CLIs' offline errors become clear
failed outcomes (not a success, not a hang)."""
from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from tests.helpers.workers import AGENTS, Workers, task_row, wait_for, wait_status
from tests.worker.conftest import add

REPO = Path(__file__).resolve().parents[2]
REAL_CLIS = REPO / ".tools" / "agents" / "node_modules" / ".bin"


def fake_config(*agents: str) -> str:
    return "".join(f'[profiles.{a}]\ncommand = ["{sys.executable}", "{AGENTS / f"fake_{a}.py"}"]\n' for a in agents)


def test_claude_result_cost_and_tokens_are_recorded(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "fix the flaky test mode:success", agent="claude")
    workers.start(config=fake_config("claude"))
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    assert row["result"]["text"].startswith("Fixed the flaky test")
    assert row["result"]["session_id"].startswith("5f1c2d3e")
    assert float(row["cost_usd"]) == pytest.approx(0.0127)
    assert (row["input_tokens"], row["output_tokens"]) == (2000, 420)


def test_usage_limit_pauses_the_agent_everywhere_and_spends_no_attempt(workers: Workers,
                                                                      db: psycopg.Connection) -> None:
    limited = add(db, "mode:limit-resets", agent="claude", max_attempts=1)
    workers.start(config=fake_config("claude"), name="w1")
    wait_for(lambda: db.execute("select paused_until from swarm.agents where name = 'claude'").fetchone()[0],
             30, "claude to be paused", diagnostics=workers.logs)
    until, reason = db.execute("select paused_until, pause_reason from swarm.agents where name = 'claude'").fetchone()
    assert "resets 3:45pm (Europe/Berlin)" in reason
    assert timedelta(0) < until - datetime.now(timezone.utc) <= timedelta(days=1, minutes=3)
    row = wait_status(workers.dsn, limited, "pending", workers=workers)
    assert row["attempts"] == 0 and row["free_releases"] == 1, "the usage limit did not spend the attempt"
    # Another worker, another claude task: nobody claims claude while it is paused; shell still runs.
    later = add(db, "mode:success", agent="claude")
    shell = add(db, "echo still working")
    workers.start(config=fake_config("claude"), name="w2")
    wait_status(workers.dsn, shell, "completed", workers=workers)
    assert task_row(workers.dsn, later)["status"] == "pending"
    # When the pause ends (here: an operator resumes early) work goes on by itself.
    db.execute("select swarm.resume_agent('claude')")
    wait_status(workers.dsn, later, "completed", workers=workers)
    wait_status(workers.dsn, limited, {"pending", "running", "completed", "failed"}, workers=workers)


def test_codex_and_gemini_outcomes_through_the_worker(workers: Workers, db: psycopg.Connection) -> None:
    codex = add(db, "add a test mode:success", agent="codex")
    gemini = add(db, "mode:exit-42", agent="gemini", max_attempts=1)
    unauthenticated = add(db, "mode:exit-41", agent="gemini")
    workers.start(config=fake_config("codex", "gemini"))
    assert wait_status(workers.dsn, codex, "completed", workers=workers)["result"]["text"] == "Added the test."
    row = wait_status(workers.dsn, gemini, "failed", workers=workers)
    assert "gemini exited 42 (input error" in row["error"] and row["attempts"] == 1
    # Exit 41 is this node's missing login: released without spending the attempt (test_worker_node_faults.py).
    wait_for(lambda: (row := task_row(workers.dsn, unauthenticated))["free_releases"] == 1 and row, 60,
             "the exit-41 task to be released", diagnostics=workers.logs)
    assert "gemini exited 41 (authentication error" in task_row(workers.dsn, unauthenticated)["error"]


def _real_clis() -> Path:
    if not all((REAL_CLIS / tool).exists() for tool in ("claude", "codex", "gemini")):
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real agent CLIs are missing from {REAL_CLIS}: scripts/install-agent-clis.sh")
        pytest.skip("the real agent CLIs are not installed (bash scripts/install-agent-clis.sh)")
    if shutil.which("node") is None:
        pytest.fail("node is missing, so the npm agent CLIs cannot run")
    return REAL_CLIS


def test_real_codex_offline_times_out_naming_its_last_error(workers: Workers, db: psycopg.Connection,
                                                            tmp_path: Path) -> None:
    """codex without network reconnects until the timeout: the error names what it last printed,
    and a network failure retried until the timeout is this node's fault: the task goes back
    without spending its attempt. (claude and gemini: test_worker_node_faults.py.)"""
    bin_dir = _real_clis()
    config = f'[profiles.codex]\ncommand = ["{bin_dir / "codex"}"]\n'
    home = tmp_path / "home"
    home.mkdir()
    codex = add(db, "say hello", agent="codex", max_attempts=1, timeout_seconds=15,
                args=psycopg.types.json.Jsonb({"skip_git_repo_check": True}))
    workers.start("--kill-grace", "2", config=config, concurrency=1, env={"HOME": str(home)})
    row = wait_for(lambda: (row := task_row(workers.dsn, codex))["error"] and row["status"] != "running" and row,
                   90, "the codex attempt to end", diagnostics=workers.logs)
    assert row["error"].startswith("timed out after 15s; the last error it printed: "), row["error"]
    assert "Reconnecting" in row["error"] or "stream disconnected" in row["error"]
