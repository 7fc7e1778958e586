"""Releases that back off (an agent exiting 75 over and over) and the usage limit's pause and
release in one call."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def release_for_usage_limit(swarm: SwarmClient, task_id: int, worker: str, attempt: int, until: datetime,
                            reason: str = "claude usage limit: resets 3pm") -> tuple:
    return swarm.conn.execute("select * from swarm.release_for_usage_limit(%s, %s, %s, %s, %s, lease_token => %s)",
                              (task_id, worker, attempt, until, reason, swarm.tokens.get(task_id))).fetchone()


def test_releases_without_a_delay_back_off_growing_then_bounded(swarm: SwarmClient) -> None:
    """Exit 75 ten times in a row used to take 0.88 s: each free release now waits the agent's
    backoff for that release number (10 s, 20 s, 40 s ... capped), and the 11th spends the attempt."""
    swarm.set_agent("shell", retry_backoff_base_seconds=10, retry_backoff_max_seconds=100)
    task_id = swarm.make_task("x", max_attempts=1)
    now = T0
    swarm.set_now(now.isoformat())
    waits = []
    for release in range(1, 11):
        [t] = swarm.claim("w1")
        assert t["attempts"] == 1
        report = swarm.release(task_id, "w1", 1, delay_seconds=None, reason="exit 75 (EX_TEMPFAIL)")
        assert report.status == "pending"
        run_after = swarm.task(task_id)["run_after"]
        wait = (run_after - now).total_seconds()
        step = min(100, 10 * 2 ** (release - 1))
        assert step / 2 <= wait <= step, (release, wait)
        waits.append(wait)
        assert swarm.claim("w1") == [], "claimable before its backoff ended"
        now = run_after
        swarm.set_now(now.isoformat())
    assert waits[2] > waits[0] and max(waits) <= 100
    [t] = swarm.claim("w1")
    assert swarm.release(task_id, "w1", 1, delay_seconds=None, reason="exit 75").status == "failed"


def test_an_explicit_delay_is_kept_and_zero_is_immediate(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.set_now(T0.isoformat())
    swarm.claim("w1")
    swarm.release(task_id, "w1", 1, delay_seconds=0, reason="worker shutting down")
    assert swarm.task(task_id)["run_after"] == T0
    [t] = swarm.claim("w1")
    swarm.release(task_id, "w1", t["attempts"], delay_seconds=45, reason="throttled")
    assert swarm.task(task_id)["run_after"] == T0 + timedelta(seconds=45)


def test_usage_limit_pauses_and_releases_in_one_call(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude", max_attempts=1)
    swarm.set_now(T0.isoformat())
    [t] = swarm.claim("w1", agents=["claude"])
    until = T0 + timedelta(hours=2)
    accepted, status, message, paused_until = release_for_usage_limit(swarm, task_id, "w1", t["attempts"], until)
    assert (accepted, status, message, paused_until) == (True, "pending", None, until)
    task = swarm.task(task_id)
    assert (task["status"], task["attempts"], task["free_releases"]) == ("pending", 0, 1)
    agent = swarm.conn.execute("select paused_until, pause_reason from swarm.agents where name = 'claude'").fetchone()
    assert agent == (until, "claude usage limit: resets 3pm")
    assert swarm.claim("w2", agents=["claude"]) == [], "claimed while its agent is paused"


def test_usage_limit_from_a_stale_attempt_still_pauses_but_changes_no_task(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.set_now(T0.isoformat())
    [t] = swarm.claim("w1", agents=["claude"])
    accepted, status, message, _ = release_for_usage_limit(swarm, task_id, "intruder", t["attempts"],
                                                           T0 + timedelta(hours=1))
    assert not accepted and status == "running" and "stale report" in message
    assert swarm.conn.execute("select paused_until from swarm.agents where name = 'claude'").fetchone()[0] \
        == T0 + timedelta(hours=1)


def test_usage_limit_whose_reset_the_database_sees_as_past_still_pauses(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.set_now(T0.isoformat())
    [t] = swarm.claim("w1", agents=["claude"])
    accepted, status, _, paused_until = release_for_usage_limit(swarm, task_id, "w1", t["attempts"],
                                                                T0 - timedelta(minutes=5))
    assert accepted and status == "pending" and paused_until == T0 + timedelta(minutes=1)


def test_usage_limit_release_of_an_unknown_task_is_refused_and_pauses_nothing(swarm: SwarmClient) -> None:
    with pytest.raises(psycopg.Error) as info:
        release_for_usage_limit(swarm, 999999, "w1", 1, T0 + timedelta(hours=1))
    assert info.value.sqlstate == "SW002"
    assert swarm.conn.execute("select paused_until from swarm.agents where name = 'claude'").fetchone()[0] is None
