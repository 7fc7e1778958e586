"""Budgets that hold: daily_budget_usd counts what running attempts may still spend (a reservation
per attempt, settled by its report), and agents that report tokens but no cost are priced."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers.swarm import SwarmClient


def spent(swarm: SwarmClient, agent: str = "claude") -> Decimal:
    return swarm.scalar("select swarm._spent_today(%s, swarm.now())", (agent,))


def reserved(swarm: SwarmClient) -> list[float]:
    return [float(r) for (r,) in swarm.conn.execute(
        "select reserved_usd from swarm.task_attempts where finished_at is null order by id")]


def test_the_overshoot_of_the_issue_no_longer_happens(swarm: SwarmClient) -> None:
    """$0.2068 was spent against a $0.1776 budget: claims saw only finished tasks, so four workers
    started four attempts each time the spend was under the budget."""
    swarm.set_now("2030-01-01 09:00+00")
    swarm.set_agent("claude", daily_budget_usd=0.1776)
    for n in range(20):
        swarm.make_task(f"task {n}", agent="claude")
    cost = 0.0296
    while running := [t for w in ("w1", "w2", "w3", "w4") for t in swarm.claim(w, agents=["claude"], max_tasks=2)]:
        for task in running:
            swarm.complete(task["id"], task["worker"], task["attempts"], cost_usd=cost)
    assert spent(swarm) <= Decimal("0.1776")
    assert spent(swarm) == Decimal("0.1776"), "the budget should still be used, all of it"


def test_a_first_attempt_without_history_runs_alone(swarm: SwarmClient) -> None:
    swarm.set_agent("claude", daily_budget_usd=1)
    for n in range(3):
        swarm.make_task(f"task {n}", agent="claude")
    [first] = swarm.claim("w1", agents=["claude"], max_tasks=3)
    assert reserved(swarm) == [1.0] and swarm.claim("w2", agents=["claude"]) == []
    swarm.complete(first["id"], "w1", 1, cost_usd=0.4)
    # Now the agent's typical attempt costs $0.40: $0.60 left holds one more, not two.
    assert len(swarm.claim("w1", agents=["claude"], max_tasks=3)) == 1 and reserved(swarm) == [0.4]


def test_an_explicit_max_budget_is_the_reservation(swarm: SwarmClient) -> None:
    swarm.set_agent("claude", daily_budget_usd=1)
    for n in range(5):
        swarm.make_task(f"task {n}", agent="claude", args={"max_budget_usd": 0.3})
    claimed = swarm.claim("w1", agents=["claude"], max_tasks=5)
    assert len(claimed) == 3 and reserved(swarm) == [0.3, 0.3, 0.3]
    swarm.complete(claimed[0]["id"], "w1", 1, cost_usd=0.1)  # settled: $0.10 spent, $0.60 held
    assert len(swarm.claim("w1", agents=["claude"], max_tasks=5)) == 1
    assert (spent(swarm), reserved(swarm)) == (Decimal("0.1"), [0.3, 0.3, 0.3])


def test_a_reservation_ends_with_its_attempt_however_it_ends(swarm: SwarmClient) -> None:
    swarm.set_agent("claude", daily_budget_usd=1)
    task_id = swarm.make_task("x", agent="claude", args={"max_budget_usd": 1})
    swarm.claim("w1", agents=["claude"], lease_seconds=1)
    other = swarm.make_task("y", agent="claude", args={"max_budget_usd": 1})
    assert swarm.claim("w2", agents=["claude"]) == [], "the running attempt holds the whole budget"
    reason = swarm.conn.execute("select reason from swarm.why_pending(%s)", (other,)).fetchone()[0]
    assert reason == ("agent claude spent its daily budget: $0.0000 of $1, $1.0000 more held by running "
                      "attempts (counts again at midnight UTC)")
    swarm.release(task_id, "w1", 1, reason="shutdown")
    assert reserved(swarm) == [] and len(swarm.claim("w2", agents=["claude"])) == 1


def test_a_daily_budget_stops_codex_too_priced_from_tokens(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="codex")
    swarm.claim("w1", agents=["codex"])
    swarm.complete(task_id, "w1", 1, input_tokens=1_000_000, output_tokens=100_000)
    assert float(swarm.task(task_id)["cost_usd"]) == pytest.approx(1.25 + 1.0)
    swarm.set_agent("codex", daily_budget_usd=2)
    swarm.make_task("y", agent="codex")
    assert swarm.claim("w1", agents=["codex"]) == [], "codex spent $2.25 of its $2"


def test_prices_follow_the_model_and_the_operator(swarm: SwarmClient) -> None:
    mini = swarm.make_task("x", agent="codex", args={"model": "gpt-5-mini"})
    swarm.claim("w1", agents=["codex"])
    swarm.fail(mini, "w1", 1, error="boom", input_tokens=1_000_000, output_tokens=0, retry_in_seconds=0)
    assert float(swarm.task(mini)["cost_usd"]) == 0.25
    swarm.conn.execute("update swarm.agent_prices set input_usd_per_mtok = 0.5 where agent = 'codex' and model = ''")
    unknown = swarm.make_task("y", agent="codex", args={"model": "some-new-model"})
    [t] = swarm.claim("w1", agents=["codex"], max_tasks=1)
    assert t["id"] == mini
    swarm.complete(mini, "w1", 2, input_tokens=1_000_000, cost_usd=0.01)  # a reported cost wins
    assert float(swarm.task(mini)["cost_usd"]) == 0.26
    swarm.claim("w1", agents=["codex"])
    swarm.complete(unknown, "w1", 1, input_tokens=1_000_000)
    assert float(swarm.task(unknown)["cost_usd"]) == 0.5, "an unknown model is priced as the agent's default"
