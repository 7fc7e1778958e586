"""What an agent prints never costs its outcome: NUL bytes and lone surrogates are stored (as
U+2400 and U+FFFD), and a usage limit reported as a success pauses the agent in one call."""
from __future__ import annotations

import psycopg
import pytest

from tests.helpers.workers import Workers, wait_for, wait_status
from tests.worker.conftest import add
from tests.worker.test_worker_agents import fake_config


def test_nul_and_lone_surrogates_in_a_result_keep_the_outcome(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:nul", agent="claude", max_attempts=3)
    workers.start(config=fake_config("claude"))
    row = wait_status(workers.dsn, task_id, {"completed", "failed"}, workers=workers)
    assert row["status"] == "completed" and row["attempts"] == 1, row["error"]
    assert row["result"]["text"] == "bytes: a\u2400b, a lone \ufffd surrogate"
    assert float(row["cost_usd"]) == pytest.approx(0.0127) and row["output_tokens"] == 420
    assert "progress \u2400 raw byte" in row["output_tail"] and row["log_path"]


def test_nul_in_a_failed_run_keeps_its_error_and_tail(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:nul-error", agent="claude", max_attempts=1)
    workers.start(config=fake_config("claude"))
    row = wait_status(workers.dsn, task_id, {"completed", "failed"}, workers=workers)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert "failed at \u2400" in row["error"] and "the worker hit an internal error" not in row["error"]
    assert "fatal: \u2400 in stderr" in row["output_tail"] and float(row["cost_usd"]) == pytest.approx(0.0127)


@pytest.mark.parametrize("agent, mode", [("claude", "limit-as-success"), ("claude", "rate-limit-as-success"),
                                         ("codex", "usage-limit-429")])
def test_usage_limit_reported_as_success_pauses_and_spends_no_attempt(workers: Workers, db: psycopg.Connection,
                                                                      agent: str, mode: str) -> None:
    task_id = add(db, f"mode:{mode}", agent=agent, max_attempts=1)
    workers.start(config=fake_config(agent))
    wait_for(lambda: db.execute("select paused_until from swarm.agents where name = %s", (agent,)).fetchone()[0],
             30, f"{agent} to be paused", diagnostics=workers.logs)
    row = wait_status(workers.dsn, task_id, "pending", workers=workers)
    assert (row["attempts"], row["free_releases"], row["result"]) == (0, 1, None)
    assert "usage limit" in row["error"]
    released = db.execute("select count(*) from swarm.task_events where task_id = %s and event = 'released'",
                          (task_id,)).fetchone()[0]
    assert released == 1


def test_ansi_escape_codes_are_stripped_from_the_stored_error(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:ansi-error", agent="claude", max_attempts=1)
    workers.start(config=fake_config("claude"))
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert "Error: config file is broken" in row["error"] and "\x1b" not in row["error"], row["error"]
    assert "\x1b[31m" in row["output_tail"]  # the tail keeps what the agent printed
