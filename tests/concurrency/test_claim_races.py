"""Many real connections claiming at once: no double claim, caps and keys hold."""
from __future__ import annotations

import threading

import psycopg

from tests.helpers.claims import run_claimers
from tests.helpers.swarm import SwarmClient


def test_16_connections_claiming_5000_tasks_never_double_claim(swarm: SwarmClient, dsn: str) -> None:
    swarm.conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 5000)")
    seen: dict[int, list[int]] = {}

    def body(c: psycopg.Connection, i: int) -> None:
        mine = seen.setdefault(i, [])
        while True:
            rows = c.execute("select id, attempts, lease_token from swarm.claim_task(%s, max_tasks => %s)",
                             (f"w{i}", 1 + i % 4)).fetchall()
            if not rows:
                return
            for task_id, attempt, token in rows:
                mine.append(task_id)
                c.execute("select accepted from swarm.complete_task(%s, %s, %s, lease_token => %s)",
                          (task_id, f"w{i}", attempt, token))
    run_claimers(dsn, body)
    claimed = [t for ids in seen.values() for t in ids]
    assert len(claimed) == 5000 and len(set(claimed)) == 5000
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'completed'") == 5000
    assert swarm.scalar("""select count(*) from (select task_id, attempt from swarm.task_events
                            where event = 'claimed' group by 1, 2 having count(*) > 1) as dup""") == 0
    assert swarm.scalar("select count(*) from swarm.task_events where event = 'stale_report'") == 0


def test_max_concurrent_is_never_exceeded_by_16_claimers(swarm: SwarmClient, dsn: str) -> None:
    swarm.set_agent("claude", max_concurrent=3)
    swarm.conn.execute("insert into swarm.agent_tasks (agent, prompt) select 'claude', 'x' from generate_series(1, 300)")
    peak = [0]
    lock = threading.Lock()

    def body(c: psycopg.Connection, i: int) -> None:
        idle_rounds = 0
        while idle_rounds < 50:
            rows = c.execute("select id, attempts, lease_token from swarm.claim_task(%s, max_tasks => 2)",
                             (f"w{i}",)).fetchall()
            if not rows:
                idle_rounds += 1
                if c.execute("select count(*) from swarm.agent_tasks where status in ('pending', 'running')").fetchone()[0] == 0:
                    return
                continue
            running = c.execute("select count(*) from swarm.agent_tasks where status = 'running'").fetchone()[0]
            with lock:
                peak[0] = max(peak[0], running)
            for task_id, attempt, token in rows:
                c.execute("select accepted from swarm.complete_task(%s, %s, %s, lease_token => %s)",
                          (task_id, f"w{i}", attempt, token))
    run_claimers(dsn, body)
    assert peak[0] <= 3
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'completed'") == 300


def test_one_running_task_per_concurrency_key_under_concurrency(swarm: SwarmClient, dsn: str) -> None:
    swarm.conn.execute("insert into swarm.agent_tasks (prompt, concurrency_key) "
                       "select 'x', 'repo-' || (g % 4) from generate_series(1, 200) as g")
    violations: list[str] = []

    def body(c: psycopg.Connection, i: int) -> None:
        while True:
            rows = c.execute("select id, attempts, lease_token from swarm.claim_task(%s, max_tasks => 3)",
                             (f"w{i}",)).fetchall()
            if not rows:
                if c.execute("select count(*) from swarm.agent_tasks where status in ('pending', 'running')").fetchone()[0] == 0:
                    return
                continue
            dup = c.execute("""select concurrency_key from swarm.agent_tasks where status = 'running'
                                group by 1 having count(*) > 1""").fetchall()
            violations.extend(k for (k,) in dup)
            for task_id, attempt, token in rows:
                c.execute("select accepted from swarm.complete_task(%s, %s, %s, lease_token => %s)",
                          (task_id, f"w{i}", attempt, token))
    run_claimers(dsn, body)
    assert violations == []
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'completed'") == 200
