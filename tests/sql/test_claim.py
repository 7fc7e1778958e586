"""Claiming: order, batches, run_after, and the plan behind it."""
from __future__ import annotations

import json

import psycopg

from tests.helpers.swarm import SwarmClient


def test_claim_order_is_priority_then_run_after_then_id(swarm: SwarmClient) -> None:
    low = swarm.make_task("low", priority=-5)
    late = swarm.make_task("late", priority=10, run_after="2000-01-02T00:00:00Z")
    early = swarm.make_task("early", priority=10, run_after="2000-01-01T00:00:00Z")
    tie_a = swarm.make_task("tie-a", priority=3)
    tie_b = swarm.make_task("tie-b", priority=3)
    order = [swarm.claim("w1")[0]["id"] for _ in range(5)]
    assert order == [early, late, tie_a, tie_b, low]
    assert swarm.claim("w1") == []


def test_batch_claim_returns_up_to_max_tasks_in_order(swarm: SwarmClient) -> None:
    ids = [swarm.make_task(f"t{i}", priority=i % 3) for i in range(10)]
    batch = swarm.claim("w1", max_tasks=4)
    assert len(batch) == 4
    assert [t["priority"] for t in batch] == [2, 2, 2, 1]
    rest = swarm.claim("w2", max_tasks=100)
    assert len(rest) == 6
    assert {t["id"] for t in batch} | {t["id"] for t in rest} == set(ids)


def test_future_run_after_is_not_claimable_until_its_time(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("later", run_after="2100-01-01T00:00:00Z")
    assert swarm.claim("w1") == []
    assert swarm.scalar("select swarm.next_run_after()").year == 2100
    swarm.set_now("2100-01-01T00:00:01Z")
    assert [t["id"] for t in swarm.claim("w1")] == [task_id]


def test_claim_filters_by_agent_and_queue(swarm: SwarmClient) -> None:
    shell_task = swarm.make_task("s")
    claude_task = swarm.make_task("c", agent="claude")
    other_queue = swarm.make_task("q", queue="batch")
    assert [t["id"] for t in swarm.claim("w1", agents=["claude"])] == [claude_task]
    assert [t["id"] for t in swarm.claim("w1", queues=["batch"])] == [other_queue]
    assert [t["id"] for t in swarm.claim("w1", agents=["shell"], queues=["default"])] == [shell_task]


def test_claim_records_owner_and_lease(swarm: SwarmClient) -> None:
    swarm.make_task("x")
    [task] = swarm.claim("node-a:1", lease_seconds=30, hostname="node-a", pid=4242)
    assert (task["worker"], task["hostname"], task["pid"]) == ("node-a:1", "node-a", 4242)
    lease = (task["lease_expires_at"] - task["started_at"]).total_seconds()
    assert lease == 30


def test_a_claim_that_need_not_be_durable_commits_without_waiting_for_the_flush(swarm: SwarmClient, dsn: str) -> None:
    """durable => false makes the claim's own transaction commit asynchronously (what the worker
    asks for); by default, or when the transaction wrote before the claim, the commit stays
    synchronous. The setting ends with the transaction."""
    for i in range(3):
        swarm.make_task(f"t{i}")

    def claim_in_a_transaction(durable: bool, write_first: bool = False) -> tuple[int, str, str]:
        with psycopg.connect(dsn) as c:
            if write_first:
                c.execute("insert into swarm.agent_tasks (prompt, queue) values ('first', 'other')")
            claimed = c.execute("select id from swarm.claim_task('w', durable => %s)", (durable,)).fetchall()
            during = c.execute("show synchronous_commit").fetchone()[0]
            c.commit()
            after = c.execute("show synchronous_commit").fetchone()[0]
        return len(claimed), during, after

    assert claim_in_a_transaction(durable=False) == (1, "off", "on")
    assert claim_in_a_transaction(durable=True) == (1, "on", "on")
    assert claim_in_a_transaction(durable=False, write_first=True) == (1, "on", "on")
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'running'") == 3


def test_a_claim_by_the_earlier_positional_signature_is_not_ambiguous(swarm: SwarmClient) -> None:
    """Adding `durable` dropped the old signature, so calls written for it still name one function."""
    swarm.make_task("x")
    [task] = swarm.conn.execute("select id, worker, hostname, pid from swarm.claim_task('w', null, null, 1, 60, 'h', 7)"
                                ).fetchall()
    assert task[1:] == ("w", "h", 7)


def test_bad_claim_arguments_are_refused(swarm: SwarmClient, conn) -> None:
    import psycopg
    import pytest
    for sql, words in [("select swarm.claim_task('')", "worker must be a non-empty name"),
                       ("select swarm.claim_task('w', max_tasks => 0)", "max_tasks 0 is out of range"),
                       ("select swarm.claim_task('w', lease_seconds => 0)", "lease_seconds 0 must be at least 1")]:
        with pytest.raises(psycopg.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == "SW005" and words in str(info.value)


def test_claim_uses_the_partial_index_over_many_terminal_rows(swarm: SwarmClient, conn) -> None:
    conn.execute("set swarm.api = 'on'")  # load terminal history quickly, as the API would leave it
    conn.execute("""
        insert into swarm.agent_tasks (prompt) select 'done ' || g from generate_series(1, 50000) as g""")
    conn.execute("""
        update swarm.agent_tasks set status = 'running', attempts = 1, worker = 'w', lease_expires_at = now()""")
    conn.execute("update swarm.agent_tasks set status = 'completed', finished_at = now(), lease_expires_at = null")
    conn.execute("set swarm.api = ''")
    swarm.make_task("fresh")
    conn.execute("analyze swarm.agent_tasks")
    plan = conn.execute("""
        explain (format json)
        select task.id from swarm.agent_tasks as task
         where task.status = 'pending' and swarm._claim_rank(task.priority, task.run_after) >= 0
           and task.run_after <= now() and task.agent = any('{shell}') and task.concurrency_key is null
         order by swarm._claim_rank(task.priority, task.run_after), task.run_after, task.id
         limit 1 for update skip locked""").fetchone()[0]
    text = json.dumps(plan)
    assert "agent_tasks_claim_idx" in text
    assert '"Seq Scan"' not in text and '"Sort"' not in text
    assert swarm.claim("w1")[0]["prompt"] == "fresh"
