"""The psql views and swarm.stats() on a known workload."""
from __future__ import annotations

from decimal import Decimal

from tests.helpers.swarm import SwarmClient


def test_stats_on_a_known_workload(swarm: SwarmClient, conn) -> None:
    swarm.set_now("2030-01-01T00:00:00Z")
    ids = [swarm.make_task(f"t{i}", agent="claude", max_attempts=1) for i in range(4)]
    swarm.make_task("later", agent="claude")
    swarm.set_now("2030-01-01T00:00:10Z")  # every task waited 10 s
    claimed = swarm.claim("w1", agents=["claude"], max_tasks=3)
    assert [t["id"] for t in claimed] == ids[:3]
    conn.execute("select swarm.register_worker('w1', 'node-a', 123, '{claude}', null, 4)")
    swarm.set_now("2030-01-01T00:00:40Z")  # each ran 30 s
    swarm.complete(ids[0], "w1", 1, cost_usd=0.5)
    swarm.complete(ids[1], "w1", 1, cost_usd=0.25)
    swarm.fail(ids[2], "w1", 1, error="x")

    rows = {(r[0], r[1], r[2]): r[3] for r in conn.execute(
        "select queue, agent, status, tasks from swarm.queue_stats")}
    assert rows == {("default", "claude", "completed"): 2, ("default", "claude", "failed"): 1,
                    ("default", "claude", "pending"): 2}
    age = swarm.scalar("select oldest_pending_age from swarm.queue_stats where status = 'pending'")
    assert age.total_seconds() == 40

    agent = conn.execute("select running, pending, completed_24h, failed_24h, success_rate_24h, cost_usd_24h "
                         "from swarm.agent_stats where agent = 'claude'").fetchone()
    assert agent == (0, 2, 2, 1, Decimal("0.667"), Decimal("0.750000"))

    worker = conn.execute("select worker, hostname, running, alive from swarm.worker_stats").fetchone()
    assert worker == ("w1", "node-a", 0, True)

    stats = conn.cursor(row_factory=__import__("psycopg").rows.dict_row).execute(
        "select * from swarm.stats('1 hour')").fetchone()
    assert (stats["created"], stats["claimed"], stats["completed"], stats["failed"]) == (5, 3, 2, 1)
    assert stats["wait_p50"] == Decimal("10.000") and stats["run_p50"] == Decimal("30.000")
    assert stats["cost_usd"] == Decimal("0.750000")
