"""swarm.why_pending: every reason a task is not running, and agreement with claim_task."""
from __future__ import annotations

import itertools
import json

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.helpers.swarm import SwarmClient

NOW = "2030-01-01T12:00:00Z"


def why(swarm: SwarmClient, task_id: int) -> list[dict]:
    cur = swarm.conn.cursor(row_factory=dict_row)
    return cur.execute("select * from swarm.why_pending(%s)", (task_id,)).fetchall()


def codes(swarm: SwarmClient, task_id: int) -> list[str]:
    return [row["code"] for row in why(swarm, task_id)]


def register(swarm: SwarmClient, name: str, agents: list[str], queues: list[str] | None = None) -> None:
    swarm.conn.execute("select swarm.register_worker(%s, 'node', 1, %s, %s, 4)", (name, agents, queues))


@pytest.fixture
def clocked(swarm: SwarmClient) -> SwarmClient:
    swarm.set_now(NOW)
    register(swarm, "node-a", ["claude", "codex"], ["default"])
    return swarm


def test_a_claimable_task_has_no_reason(clocked: SwarmClient) -> None:
    task = clocked.make_task("x", agent="claude")
    assert why(clocked, task) == []


def test_a_dependency_still_running_is_named(clocked: SwarmClient) -> None:
    first = clocked.make_task("first", agent="codex")
    [claimed] = clocked.claim("node-a", agents=["codex"])
    assert claimed["id"] == first
    second = clocked.make_task("second", agent="claude", depends_on=[first])
    [row] = why(clocked, second)
    assert row["code"] == "dependency"
    assert row["reason"] == f"waits for task {first} (running, agent codex)"
    assert row["brief"] == f"task {first}"


def test_a_paused_agent_says_until_when_and_why(clocked: SwarmClient) -> None:
    clocked.pause("claude", "2030-01-01T13:03:00Z", "breaker: 5 failures in a row")
    task = clocked.make_task("x", agent="claude")
    [row] = why(clocked, task)
    assert row["code"] == "paused"
    assert row["reason"] == ("agent claude is paused until 2030-01-01 13:03:00 UTC (in 63 minutes): "
                             "breaker: 5 failures in a row")
    assert row["brief"] == "paused until 13:03"


def test_no_live_worker_for_the_agent(clocked: SwarmClient) -> None:
    task = clocked.make_task("x", agent="gemini")
    [row] = why(clocked, task)
    assert (row["code"], row["reason"]) == ("no_worker", "no live worker runs agent gemini")


def test_no_live_worker_for_the_queue(clocked: SwarmClient) -> None:
    register(clocked, "node-b", ["gemini"], ["fast"])
    task = clocked.make_task("x", agent="gemini", queue="slow")
    [row] = why(clocked, task)
    assert (row["code"], row["reason"]) == ("no_worker", "no live worker running agent gemini takes queue slow")


def test_a_worker_silent_for_two_minutes_or_stopped_does_not_count(clocked: SwarmClient) -> None:
    task = clocked.make_task("x", agent="claude")
    clocked.set_now("2030-01-01T12:02:01Z")
    assert codes(clocked, task) == ["no_worker"]
    clocked.set_now(NOW)
    assert codes(clocked, task) == []
    clocked.conn.execute("select swarm.stop_worker('node-a')")
    assert codes(clocked, task) == ["no_worker"]


def test_an_agent_quarantined_on_every_live_worker_says_where_and_why(clocked: SwarmClient) -> None:
    task = clocked.make_task("x", agent="claude")
    quarantine = {"claude": {"kind": "not_logged_in", "reason": "claude is not logged in"}}
    clocked.conn.execute("select swarm.set_worker_quarantine('node-a', %s::jsonb)", (json.dumps(quarantine),))
    [row] = why(clocked, task)
    assert row["code"] == "quarantined" and row["brief"] == "claude quarantined on every node"
    assert row["reason"] == ("every live worker taking agent claude has quarantined it on its node "
                             "(node-a: claude is not logged in)")
    register(clocked, "node-b", ["claude"])  # another node that can run it
    assert why(clocked, task) == []


def test_shell_needs_a_worker_with_allow_shell(clocked: SwarmClient) -> None:
    task = clocked.make_task("echo hi", agent="shell")
    [row] = why(clocked, task)
    assert row["code"] == "shell"
    assert "--allow-shell" in row["reason"] and row["brief"] == "needs --allow-shell"
    register(clocked, "node-s", ["shell"])
    assert why(clocked, task) == []


def test_a_future_run_after_says_in_how_long(clocked: SwarmClient) -> None:
    task = clocked.make_task("x", agent="claude", run_after="2030-01-01T12:12:00Z")
    [row] = why(clocked, task)
    assert row["code"] == "run_after"
    assert row["reason"] == "run_after is in 12 minutes (2030-01-01 12:12:00 UTC)"
    assert row["brief"] == "in 12 minutes"


def test_an_agent_at_its_cap_says_n_of_m(clocked: SwarmClient) -> None:
    clocked.set_agent("claude", max_concurrent=1)
    clocked.make_task("first", agent="claude")
    assert len(clocked.claim("node-a", agents=["claude"])) == 1
    task = clocked.make_task("second", agent="claude")
    [row] = why(clocked, task)
    assert (row["code"], row["reason"], row["brief"]) == ("cap", "agent claude is at its cap: 1/1 running", "cap 1/1")


def test_an_agent_at_its_start_rate(clocked: SwarmClient) -> None:
    clocked.set_agent("claude", max_starts_per_minute=1)
    clocked.make_task("first", agent="claude")
    [first] = clocked.claim("node-a", agents=["claude"])
    clocked.complete(first["id"], "node-a", 1)
    clocked.set_now("2030-01-01T12:00:20Z")
    task = clocked.make_task("second", agent="claude")
    [row] = why(clocked, task)
    assert row["code"] == "rate"
    assert row["reason"] == ("agent claude started 1 tasks in the last minute, its limit of 1 a minute "
                             "(next start in 40 seconds)")
    clocked.set_now("2030-01-01T12:01:01Z")
    assert why(clocked, task) == []


def test_a_concurrency_key_held_names_the_holder(clocked: SwarmClient) -> None:
    holder = clocked.make_task("first", agent="codex", concurrency_key="repo-x")
    clocked.claim("node-a", agents=["codex"])
    task = clocked.make_task("second", agent="claude", concurrency_key="repo-x")
    [row] = why(clocked, task)
    assert row["code"] == "concurrency_key"
    assert row["reason"] == f"concurrency key 'repo-x' is held by task {holder}"
    assert row["brief"] == f"key: task {holder}"


def test_a_spent_daily_budget_says_spent_of_limit(clocked: SwarmClient) -> None:
    clocked.make_task("first", agent="claude")
    [first] = clocked.claim("node-a", agents=["claude"])
    clocked.complete(first["id"], "node-a", 1, cost_usd=2.5)
    clocked.set_agent("claude", daily_budget_usd=2)
    task = clocked.make_task("second", agent="claude")
    [row] = why(clocked, task)
    assert row["code"] == "budget"
    assert row["reason"] == "agent claude spent its daily budget: $2.5000 of $2 (counts again at midnight UTC)"
    assert row["detail"]["budget_usd"] == 2


def test_a_task_whose_max_budget_does_not_fit_in_what_is_left(clocked: SwarmClient) -> None:
    clocked.set_agent("claude", daily_budget_usd=1)
    big = clocked.make_task("big", agent="claude", args={"max_budget_usd": 2})
    small = clocked.make_task("small", agent="claude", args={"max_budget_usd": 0.5})
    [row] = why(clocked, big)
    assert row["code"] == "budget" and row["brief"] == "budget: needs $2"
    assert "more than agent claude has left today: $1.0000 of $1" in row["reason"]
    assert why(clocked, small) == []
    assert [t["id"] for t in clocked.claim("node-a", agents=["claude"], max_tasks=10)] == [small]


def test_several_reasons_at_once(clocked: SwarmClient) -> None:
    dep = clocked.make_task("dep", agent="codex", queue="elsewhere")
    clocked.pause("claude", "2030-01-01T14:00:00Z", "operator: maintenance")
    clocked.set_agent("claude", max_concurrent=0)
    task = clocked.make_task("x", agent="claude", queue="nightly", depends_on=[dep],
                             run_after="2030-01-01T15:00:00Z")
    assert codes(clocked, task) == ["dependency", "paused", "cap", "run_after", "no_worker"]
    assert clocked.task(task)["status"] == "waiting"


def test_running_finished_archived_and_unknown_tasks(clocked: SwarmClient) -> None:
    task = clocked.make_task("x", agent="claude")
    clocked.claim("node-a")
    assert why(clocked, task) == []
    clocked.complete(task, "node-a", 1)
    [row] = why(clocked, task)
    assert (row["code"], row["reason"]) == ("finished", f"task {task} is completed")
    with pytest.raises(psycopg.Error) as refused:
        why(clocked, 999999)
    assert refused.value.sqlstate == "SW002"


def test_monitor_enqueue_and_worker_roles_may_ask(clocked: SwarmClient, dsn: str) -> None:
    task = clocked.make_task("x", agent="gemini")
    for role in ("swarm_monitor", "swarm_enqueue", "swarm_worker"):
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f"set role {role}")
            c.execute("select set_config('swarm.now', %s, false)", (NOW,))
            assert [r[0] for r in c.execute("select code from swarm.why_pending(%s)", (task,))] == ["no_worker"]


# -- agreement with claim_task ------------------------------------------------------------------
# Every combination of the rules on a small state: the task why_pending calls claimable (no row)
# is the one a live worker's claim returns, and every task it gives a reason for is not claimed.
WORKERS = {
    "none": None,
    "live": (["claude", "codex"], ["default"], NOW),
    "other queue": (["claude", "codex"], ["other"], NOW),
    "other agent": (["codex"], None, NOW),
    "silent": (["claude"], None, "2030-01-01T11:57:00Z"),
}


@pytest.mark.slow
def test_why_pending_agrees_with_claim_task_on_every_small_state(swarm: SwarmClient) -> None:
    swarm.set_now(NOW)
    conn = swarm.conn
    checked = 0
    for paused, budget, cap, rate, future, key, dep, worker in itertools.product(
            (False, True), ("none", "spent", "too big"), (False, True), (False, True), (False, True),
            ("none", "free", "held"), (False, True), WORKERS):
        with conn.transaction(force_rollback=True):
            if paused:
                swarm.pause("claude", "2030-01-01T13:00:00Z", "test")
            swarm.set_agent("claude", daily_budget_usd={"none": None, "spent": 0, "too big": 1}[budget],
                            max_concurrent=0 if cap else None,
                            max_starts_per_minute=0 if rate else None)
            if key == "held":
                swarm.make_task("holder", agent="codex", queue="keys", concurrency_key="k")
                assert len(swarm.claim("setup", agents=["codex"], queues=["keys"])) == 1
            depends_on = [swarm.make_task("dep", agent="codex", queue="deps")] if dep else []
            task = swarm.make_task("x", agent="claude", concurrency_key=None if key == "none" else "k",
                                   args={"max_budget_usd": 2},
                                   depends_on=depends_on,
                                   run_after="2030-01-01T12:30:00Z" if future else "2030-01-01T11:00:00Z")
            claimed: set[int] = set()
            if WORKERS[worker] is not None:
                agents, queues, heartbeat = WORKERS[worker]
                swarm.set_now(heartbeat)
                register(swarm, "w", agents, queues)
                swarm.set_now(NOW)
            reasons = codes(swarm, task)
            for name, agents, queues in conn.execute(
                    "select worker, agents, queues from swarm.worker_stats where alive").fetchall():
                claimed |= {t["id"] for t in swarm.claim(name, agents=agents, queues=queues, max_tasks=100)}
            state = dict(paused=paused, budget=budget, cap=cap, rate=rate, future=future, key=key, dep=dep,
                         worker=worker)
            assert (reasons == []) == (task in claimed), (state, reasons, claimed)
            if reasons == []:
                checked += 1
    assert checked == 2  # live worker, nothing else in the way: key none or free
