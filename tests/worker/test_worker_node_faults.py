"""Node-local faults: a node that cannot run an agent (executable missing, not logged in,
offline, a fixed set-up error) gives its tasks back without spending attempts, stops claiming
the agent itself (quarantine, visible in swarm.workers) and never pauses the agent for other
nodes; the circuit breaker counts only failures that say something about the agent's service."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers.workers import AGENTS, Workers, wait_for, wait_status
from tests.worker.conftest import add
from tests.worker.test_worker_agents import _real_clis, fake_config

# A PATH with the system's tools but no agent CLI.
NO_AGENTS_PATH = "/usr/local/bin:/usr/bin:/bin"


def agent_row(db: psycopg.Connection, agent: str) -> tuple:
    return db.execute("select paused_until, pause_reason, consecutive_failures from swarm.agents where name = %s",
                      (agent,)).fetchone()


def quarantined(db: psycopg.Connection, worker: str) -> dict:
    row = db.execute("select quarantined from swarm.workers where name = %s", (worker,)).fetchone()
    return row[0] if row else {}


def claims_by(db: psycopg.Connection, worker: str) -> int:
    return db.execute("select count(*) from swarm.task_events where event = 'claimed' and worker = %s",
                      (worker,)).fetchone()[0]


def test_a_node_without_claude_never_claims_it_while_another_runs_all(workers: Workers,
                                                                      db: psycopg.Connection) -> None:
    """The issue's end-to-end case: two workers, one whose PATH has no `claude` (built-in
    profiles, no --agents), one with the fake claude; 20 claude tasks all complete on the
    second, no attempt is spent on the first, claude is never paused."""
    assert not any((Path(d) / "claude").exists() for d in NO_AGENTS_PATH.split(":"))
    tasks = [add(db, f"task {n} mode:success", agent="claude") for n in range(20)]
    bare = workers.start(name="bare", concurrency=4, env={"PATH": NO_AGENTS_PATH})
    wait_for(lambda: "claude" in quarantined(db, "bare"), 60, "the bare worker to quarantine claude",
             diagnostics=workers.logs)
    entry = quarantined(db, "bare")["claude"]
    assert entry["kind"] == "missing" and "`claude` is not on this node's PATH" in entry["reason"]
    workers.start(name="equipped", config=fake_config("claude"), concurrency=4)
    for task_id in tasks:
        row = wait_status(workers.dsn, task_id, "completed", workers=workers)
        assert row["worker"] == "equipped" and row["attempts"] == 1
    assert claims_by(db, "bare") == 0
    assert agent_row(db, "claude")[0] is None
    assert bare.alive(), bare.output()[-2000:]


def test_agents_flag_naming_an_agent_this_node_cannot_start_is_a_start_up_error(workers: Workers,
                                                                                 tmp_path: Path) -> None:
    worker = workers.start("--agents", "claude", name="cannot", env={"PATH": NO_AGENTS_PATH})
    assert worker.process.wait(60) == 2
    assert "cannot start agent 'claude' on this node: `claude` is not on this node's PATH" in worker.output()


def test_not_logged_in_releases_quarantines_here_and_pauses_nobody(workers: Workers,
                                                                   db: psycopg.Connection) -> None:
    """Today: 6 of 8 claude tasks failed for good in 2 s and the breaker paused claude for every
    node. Now: each task goes back without spending an attempt, this worker stops claiming claude,
    claude is not paused, and a worker that can run claude completes them all."""
    tasks = [add(db, f"mode:not-logged-in {n}", agent="claude", max_attempts=3) for n in range(8)]
    workers.start(name="no-login", config=fake_config("claude"), concurrency=2)
    wait_for(lambda: "claude" in quarantined(db, "no-login"), 60, "claude to be quarantined",
             diagnostics=workers.logs)
    entry = quarantined(db, "no-login")["claude"]
    assert entry["kind"] == "not logged in" and "Not logged in" in entry["reason"]
    wait_for(lambda: db.execute("select count(*) from swarm.agent_tasks where status = 'running'").fetchone()[0] == 0,
             30, "the faulted attempts to be released", diagnostics=workers.logs)
    claimed = claims_by(db, "no-login")
    assert 1 <= claimed <= 2, "claimed again after the quarantine"
    rows = db.execute("select status, attempts, error from swarm.agent_tasks where id = any(%s)", (tasks,)).fetchall()
    assert all(status == "pending" and attempts == 0 for status, attempts, _ in rows), rows
    assert any("node-local" in (error or "") or "not logged in" in (error or "") for _, _, error in rows)
    assert agent_row(db, "claude") == (None, None, 0)
    # Another node with a working claude runs them (the fake, told by FAKE_MODE to succeed).
    workers.start(name="logged-in", config=fake_config("claude") + 'env = { FAKE_MODE = "success" }\n', concurrency=4)
    for task_id in tasks:
        assert wait_status(workers.dsn, task_id, "completed", workers=workers)["worker"] == "logged-in"
    assert claims_by(db, "no-login") == claimed


def test_a_tasks_own_failures_never_open_the_breaker(workers: Workers, db: psycopg.Connection) -> None:
    db.execute("update swarm.agents set breaker_threshold = 2 where name in ('shell', 'claude')")
    failing = [add(db, "exit 3", max_attempts=1) for _ in range(3)]
    workers.start(config=fake_config("claude"))
    for task_id in failing:
        assert wait_status(workers.dsn, task_id, "failed", workers=workers)["error"].startswith("exited 3")
    refused = [add(db, "mode:is-error-exit0", agent="claude", max_attempts=1) for _ in range(3)]
    for task_id in refused:
        wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert agent_row(db, "shell") == (None, None, 0)
    assert agent_row(db, "claude") == (None, None, 0)
    # A failure of the agent's service still counts: two crashes open the breaker.
    crashes = [add(db, "mode:crash", agent="claude", max_attempts=1) for _ in range(2)]
    for task_id in crashes:
        wait_status(workers.dsn, task_id, "failed", workers=workers)
    paused_until, reason, failures = agent_row(db, "claude")
    assert paused_until is not None and "circuit breaker" in reason and failures == 2


def test_a_timeout_names_the_last_error_and_a_network_retry_loop_is_node_local(workers: Workers,
                                                                               db: psycopg.Connection) -> None:
    overloaded = add(db, "mode:api-retry-overloaded", agent="claude", max_attempts=1, timeout_seconds=3)
    offline = add(db, "mode:api-retry-offline", agent="claude", max_attempts=1, timeout_seconds=3)
    workers.start("--kill-grace", "1", config=fake_config("claude"), concurrency=2)
    row = wait_status(workers.dsn, overloaded, "failed", workers=workers)
    assert row["error"].startswith("timed out after 3s; the last error it printed: API retry 3/10: overloaded "
                                   "(HTTP 529)"), row["error"]
    wait_for(lambda: "claude" in quarantined(db, "w1"), 30, "claude to be quarantined", diagnostics=workers.logs)
    row = wait_status(workers.dsn, offline, "pending", workers=workers)
    assert row["attempts"] == 0 and "no response" in row["error"] and "timed out after 3s" in row["error"]
    assert quarantined(db, "w1")["claude"]["kind"] == "offline"
    assert agent_row(db, "claude")[0] is None


def test_codex_untrusted_directory_is_node_local(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:untrusted", agent="codex", max_attempts=1)
    workers.start(config=fake_config("codex"))
    wait_for(lambda: "codex" in quarantined(db, "w1"), 30, "codex to be quarantined", diagnostics=workers.logs)
    row = wait_status(workers.dsn, task_id, "pending", workers=workers)
    assert row["attempts"] == 0 and "Not inside a trusted directory" in row["error"]
    assert quarantined(db, "w1")["codex"]["kind"] == "untrusted directory"


def test_profile_timeout_applies_when_the_task_sets_none(workers: Workers, db: psycopg.Connection) -> None:
    """Precedence: the task's timeout_seconds, else the profile's, else 1800 s."""
    config = fake_config("claude") + "timeout_seconds = 2\n"
    by_profile = add(db, "mode:slow", agent="claude", max_attempts=1)
    by_task = add(db, "mode:slow", agent="claude", max_attempts=1, timeout_seconds=1)
    workers.start("--kill-grace", "1", config=config, concurrency=2)
    assert wait_status(workers.dsn, by_profile, "failed", workers=workers)["error"].startswith("timed out after 2s")
    assert wait_status(workers.dsn, by_task, "failed", workers=workers)["error"].startswith("timed out after 1s")
    assert db.execute("select timeout_seconds from swarm.agent_tasks where id = %s", (by_profile,)).fetchone()[0] is None


def test_real_clis_offline_release_without_attempts_and_pause_nobody(workers: Workers, db: psycopg.Connection,
                                                                     tmp_path: Path) -> None:
    """The real claude (not logged in) and gemini (no auth, exit 41) with an empty HOME: each
    task ends pending with its attempts unchanged, the agent quarantined on this worker and not
    paused cluster-wide."""
    bin_dir = _real_clis()
    config = "".join(f'[profiles.{tool}]\ncommand = ["{bin_dir / tool}"]\n' for tool in ("claude", "gemini"))
    home = tmp_path / "home"
    home.mkdir()
    claude = add(db, "say hello", agent="claude", max_attempts=1)
    gemini = add(db, "say hello", agent="gemini", max_attempts=1)
    workers.start("--agents", "claude,gemini", config=config, concurrency=2, env={"HOME": str(home)})
    wait_for(lambda: {"claude", "gemini"} <= set(quarantined(db, "w1")), 120, "claude and gemini quarantined",
             diagnostics=workers.logs)
    faults = quarantined(db, "w1")
    assert faults["claude"]["kind"] == "not logged in" and faults["gemini"]["kind"] == "not logged in"
    for task_id in (claude, gemini):
        row = wait_status(workers.dsn, task_id, "pending", workers=workers)
        assert row["attempts"] == 0 and row["free_releases"] == 1
    assert claims_by(db, "w1") == 2
    for agent in ("claude", "gemini"):
        assert agent_row(db, agent) == (None, None, 0)
