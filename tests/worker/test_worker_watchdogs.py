"""Watchdogs: an agent that prints nothing for args.idle_timeout_seconds (or its profile's default)
is stopped and the attempt fails saying so (claude #17248); one that printed its final result
and does not exit within the profile's grace is stopped and the attempt completes with that
result (claude #25629)."""
from __future__ import annotations

import sys
import time

import psycopg
from psycopg.types.json import Jsonb

from tests.helpers.workers import AGENTS, Workers, wait_status
from tests.worker.conftest import add


def claude_config(**settings: object) -> str:
    lines = "".join(f"{key} = {value!r}\n" for key, value in settings.items())
    return f'[profiles.claude]\ncommand = ["{sys.executable}", "{AGENTS / "fake_claude.py"}"]\n{lines}'


def test_a_silent_agent_is_stopped_and_the_attempt_fails_saying_so(workers: Workers,
                                                                    db: psycopg.Connection) -> None:
    task_id = add(db, "echo started; sleep 60", max_attempts=1, args=Jsonb({"idle_timeout_seconds": 2}))
    workers.start()
    started = time.monotonic()
    row = wait_status(workers.dsn, task_id, "failed", timeout=40, workers=workers)
    assert "no output for 2s (idle_timeout_seconds)" in row["error"], row["error"]
    assert time.monotonic() - started < 30, "stopped long before its 60 s sleep ended"
    assert "started" in row["output_tail"]


def test_the_profile_default_idle_timeout_applies_and_output_keeps_an_agent_alive(workers: Workers,
                                                                                  db: psycopg.Connection) -> None:
    stalled = add(db, "mode:stall", agent="claude", max_attempts=1)
    chatty = add(db, "for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done", max_attempts=1,
                 args=Jsonb({"idle_timeout_seconds": 2}))
    workers.start(config=claude_config(idle_timeout_seconds=2))
    row = wait_status(workers.dsn, stalled, "failed", timeout=40, workers=workers)
    assert "no output for 2s" in row["error"]
    assert wait_status(workers.dsn, chatty, "completed", timeout=40, workers=workers)["exit_code"] == 0


def test_an_agent_hanging_after_its_result_completes_with_that_result(workers: Workers,
                                                                      db: psycopg.Connection) -> None:
    task_id = add(db, "mode:hang-after-result", agent="claude", max_attempts=1)
    workers.start(config=claude_config(result_grace_seconds=1))
    started = time.monotonic()
    row = wait_status(workers.dsn, task_id, "completed", timeout=40, workers=workers)
    assert time.monotonic() - started < 30, "the hung process was waited for"
    assert row["result"]["text"] == "Done; then the process hung."
    assert "did not exit within 1s" in row["result"]["watchdog"]
    assert float(row["cost_usd"]) > 0
