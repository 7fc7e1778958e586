"""Agents: pause/resume, caps, start rate, circuit breaker, concurrency keys, budgets."""
from __future__ import annotations

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def test_paused_agent_is_not_claimed_until_resumed(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.pause("claude", reason="maintenance")
    assert swarm.claim("w1") == []
    stats = swarm.conn.execute("select paused, pause_reason from swarm.agent_stats where agent = 'claude'").fetchone()
    assert stats == (True, "maintenance")
    swarm.resume("claude")
    assert [t["id"] for t in swarm.claim("w1")] == [task_id]


def test_pause_until_a_time_ends_by_itself_and_keeps_the_longest(swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01T00:00:00Z")
    task_id = swarm.make_task("x", agent="claude")
    swarm.pause("claude", until="2030-01-01T01:00:00Z", reason="usage limit")
    swarm.pause("claude", until="2030-01-01T00:30:00Z", reason="earlier reset")
    assert swarm.scalar("select swarm.next_run_after()").isoformat().startswith("2030-01-01T01:00")
    swarm.set_now("2030-01-01T00:59:00Z")
    assert swarm.claim("w1") == []
    swarm.set_now("2030-01-01T01:00:01Z")
    assert [t["id"] for t in swarm.claim("w1")] == [task_id]


def test_pause_errors(swarm: SwarmClient) -> None:
    with pytest.raises(psycopg.Error) as info:
        swarm.pause("nobody")
    assert info.value.sqlstate == "SW001"
    with pytest.raises(psycopg.Error) as info:
        swarm.pause("claude", until="2000-01-01T00:00:00Z")
    assert info.value.sqlstate == "SW005"


def test_max_concurrent_caps_running_tasks(swarm: SwarmClient) -> None:
    swarm.set_agent("claude", max_concurrent=2)
    ids = [swarm.make_task(f"c{i}", agent="claude") for i in range(5)]
    shell = swarm.make_task("s")
    batch = swarm.claim("w1", max_tasks=10)
    assert sorted(t["id"] for t in batch) == sorted(ids[:2] + [shell])
    assert swarm.claim("w2") == []
    swarm.complete(ids[0], "w1", 1)
    assert [t["id"] for t in swarm.claim("w2")] == [ids[2]]


def test_max_starts_per_minute_is_a_sliding_window(swarm: SwarmClient) -> None:
    swarm.set_agent("codex", max_starts_per_minute=3)
    swarm.set_now("2030-01-01T00:00:00Z")
    for i in range(7):
        swarm.make_task(f"c{i}", agent="codex")
    assert len(swarm.claim("w1", max_tasks=10)) == 3
    swarm.set_now("2030-01-01T00:00:59Z")
    assert swarm.claim("w1") == []
    swarm.set_now("2030-01-01T00:01:01Z")
    assert len(swarm.claim("w1", max_tasks=10)) == 3


def test_circuit_breaker_opens_after_consecutive_failures_and_closes_after_cooldown(swarm: SwarmClient) -> None:
    swarm.set_agent("gemini", breaker_threshold=3, breaker_cooldown_seconds=600)
    swarm.set_now("2030-01-01T00:00:00Z")
    ids = [swarm.make_task(f"g{i}", agent="gemini", max_attempts=1) for i in range(5)]
    for task_id in ids[:3]:
        [t] = swarm.claim("w1")
        swarm.fail(t["id"], "w1", 1, error="crash")
    paused, reason = swarm.conn.execute(
        "select paused, pause_reason from swarm.agent_stats where agent = 'gemini'").fetchone()
    assert paused and reason == "circuit breaker: 3 consecutive failures"
    assert swarm.claim("w1") == []
    swarm.set_now("2030-01-01T00:10:01Z")
    [probe] = swarm.claim("w1")
    swarm.complete(probe["id"], "w1", 1)
    assert swarm.scalar("select consecutive_failures from swarm.agents where name = 'gemini'") == 0
    assert len(swarm.claim("w1")) == 1


def test_half_open_breaker_reopens_on_failure(swarm: SwarmClient) -> None:
    swarm.set_agent("gemini", breaker_threshold=2, breaker_cooldown_seconds=60)
    swarm.set_now("2030-01-01T00:00:00Z")
    for i in range(4):
        swarm.make_task(f"g{i}", agent="gemini", max_attempts=1)
    for _ in range(2):
        [t] = swarm.claim("w1")
        swarm.fail(t["id"], "w1", 1)
    swarm.set_now("2030-01-01T00:01:01Z")
    [probe] = swarm.claim("w1")
    swarm.fail(probe["id"], "w1", 1)
    assert swarm.claim("w1") == []


def test_concurrency_key_allows_one_running_task_per_key(swarm: SwarmClient) -> None:
    a1 = swarm.make_task("a1", concurrency_key="repo-a")
    a2 = swarm.make_task("a2", concurrency_key="repo-a")
    b1 = swarm.make_task("b1", concurrency_key="repo-b")
    free = swarm.make_task("free")
    batch = swarm.claim("w1", max_tasks=10)
    assert sorted(t["id"] for t in batch) == sorted([a1, b1, free])
    assert swarm.claim("w2") == []
    swarm.complete(a1, "w1", 1)
    assert [t["id"] for t in swarm.claim("w2")] == [a2]


def test_daily_budget_stops_claims_once_spent(swarm: SwarmClient) -> None:
    swarm.set_agent("claude", daily_budget_usd=1)
    first = swarm.make_task("a", agent="claude")
    swarm.make_task("b", agent="claude")
    [t] = swarm.claim("w1")
    swarm.complete(first, "w1", 1, cost_usd=1.5)
    assert swarm.claim("w1") == []
    assert float(swarm.scalar("select cost_usd_today from swarm.agent_stats where agent = 'claude'")) == 1.5
