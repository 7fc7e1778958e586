"""Leases: heartbeats and expiry."""
from __future__ import annotations

import threading

import psycopg

from tests.helpers.swarm import SwarmClient


def test_heartbeat_extends_owned_leases_and_reports_lost_ones(swarm: SwarmClient) -> None:
    a, b = swarm.make_task("a"), swarm.make_task("b")
    swarm.claim("w1", lease_seconds=10)
    swarm.claim("w2", lease_seconds=10)
    before = swarm.task(a)["lease_expires_at"]
    answer = swarm.heartbeat("w1", [a, b, 999], lease_seconds=120)
    assert answer == {a: (True, False), b: (False, False), 999: (False, False)}
    assert (swarm.task(a)["lease_expires_at"] - before).total_seconds() >= 100
    assert swarm.task(b)["worker"] == "w2"


def test_expired_lease_is_retried_then_failed_with_events(swarm: SwarmClient) -> None:
    swarm.set_agent("shell", retry_backoff_base_seconds=1, retry_backoff_max_seconds=1)
    task_id = swarm.make_task("x", max_attempts=2)
    swarm.set_now("2030-01-01T00:00:00Z")
    swarm.claim("w1", lease_seconds=30)
    swarm.set_now("2030-01-01T00:00:29Z")
    assert swarm.reap() == 0
    swarm.set_now("2030-01-01T00:00:31Z")
    assert swarm.reap() == 1
    task = swarm.task(task_id)
    assert task["status"] == "pending" and task["lease_expires_at"] is None
    assert "worker w1 stopped renewing" in task["error"]
    assert swarm.complete(task_id, "w1", 1).accepted is False, "the dead worker's late report is refused"
    swarm.set_now("2030-01-01T00:01:00Z")
    swarm.claim("w2", lease_seconds=30)
    swarm.set_now("2030-01-01T00:02:00Z")
    assert swarm.reap() == 1
    assert swarm.status(task_id) == "failed"
    assert swarm.events(task_id) == ["created", "claimed", "lease_expired", "stale_report", "claimed", "lease_expired"]


def test_reap_expired_is_safe_when_called_concurrently(swarm: SwarmClient, conn, dsn: str) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 300)")
    swarm.claim("dead", max_tasks=300, lease_seconds=1)
    conn.execute("update swarm.settings set test_clock = true")
    conn.execute("alter database " + conn.info.dbname + " set swarm.now = '2100-01-01'")
    barrier = threading.Barrier(8)
    counts: list[int] = []

    def reap() -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            barrier.wait()
            counts.append(c.execute("select swarm.reap_expired()").fetchone()[0])
    threads = [threading.Thread(target=reap) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    conn.execute("alter database " + conn.info.dbname + " reset swarm.now")
    assert sum(counts) == 300
    assert swarm.scalar("select count(*) from swarm.task_events where event = 'lease_expired'") == 300
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'running'") == 0


def test_heartbeat_is_a_hot_update(swarm: SwarmClient, conn) -> None:
    """Renewing a lease touches no index, so a busy worker fleet does not bloat the indexes."""
    ids = [swarm.make_task(f"t{i}") for i in range(20)]
    swarm.claim("w1", max_tasks=20)
    before = conn.execute("select n_tup_hot_upd from pg_stat_user_tables where relname = 'agent_tasks'").fetchone()[0]
    for _ in range(5):
        swarm.heartbeat("w1", ids)
    conn.execute("select pg_stat_force_next_flush()") if swarm.scalar("show server_version_num") >= "150000" else None
    after = conn.execute("select n_tup_hot_upd from pg_stat_user_tables where relname = 'agent_tasks'").fetchone()[0]
    assert after - before >= 80
