"""Failover with a real HA manager: workers follow the primary through a Patroni switchover and a
crash failover to the synchronous standby, and every committed task completes exactly once.

The cluster (tests/ha/cluster.py): etcd + two PostgreSQL 15 nodes under Patroni with
synchronous_mode on. Workers and the enqueuer use the multi-host DSN with
target_session_attrs=read-write. Needs scripts/install-ha.sh (Debian patroni, etcd-server).
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.faults.checks import assert_each_completed_once
from tests.ha.cluster import PatroniCluster, ha_available, start_cluster
from tests.helpers.workers import Workers, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def cluster() -> Iterator[PatroniCluster]:
    """A fresh cluster per test (each test leaves a node dead or frozen)."""
    reason = ha_available()
    if reason:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI must run the failover test: {reason}")
        pytest.skip(reason)
    from pgswarm.client.migrate import migrate

    started = start_cluster()
    try:
        migrate(started.dsn())
        yield started
    finally:
        started.destroy()


class Enqueuer(threading.Thread):
    """Enqueues small batches through the multi-host DSN for as long as it runs, reconnecting
    across failovers. `committed` holds the ids whose commit PostgreSQL acknowledged; a batch
    whose commit was cut off is `in_doubt` (it may or may not exist: both are fine)."""

    def __init__(self, dsn: str, batch: int = 20, every: float = 0.1) -> None:
        super().__init__(name="ha-enqueuer", daemon=True)
        self.dsn, self.batch, self.every = dsn, batch, every
        self.committed: list[int] = []
        self.in_doubt = 0
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self.halt.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=3)
                rows = conn.execute("insert into swarm.agent_tasks (prompt, max_attempts) "
                                    "select 'true', 10 from generate_series(1, %s) returning id",
                                    (self.batch,)).fetchall()
                self.committed += [row[0] for row in rows]
            except psycopg.Error:
                self.errors += 1
                self.in_doubt += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.2)
            self.halt.wait(self.every)
        if conn is not None:
            conn.close()


def _completed(dsn: str) -> int:
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            return conn.execute("select count(*) from swarm.agent_tasks where status = 'completed'").fetchone()[0]
    except psycopg.OperationalError:
        return 0


def _everything_finished(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            return conn.execute("select count(*) filter (where status in ('pending', 'running', 'waiting')) = 0 "
                                "from swarm.agent_tasks").fetchone()[0]
    except psycopg.OperationalError:
        return False


def test_workers_follow_switchover_and_failover_without_losing_or_doubling_tasks(
        cluster: PatroniCluster, tmp_path: Path) -> None:
    dsn = cluster.dsn()
    workers = Workers(dsn, tmp_path)
    enqueuer = Enqueuer(dsn)
    diagnostics = lambda: f"{cluster.diagnostics()}\n{workers.logs()}"  # noqa: E731
    try:
        for i in range(2):
            workers.start("--agents", "shell", name=f"ha-w{i}", concurrency=4, lease_seconds=10)
        enqueuer.start()
        wait_for(lambda: _completed(dsn) >= 200, 60, "the workers to complete tasks", diagnostics=diagnostics)

        first_leader = cluster.leader()
        new_leader = cluster.switchover()
        assert new_leader.name != first_leader.name
        before = _completed(dsn)
        wait_for(lambda: _completed(dsn) >= before + 200, 60, "progress after the switchover",
                 diagnostics=diagnostics)

        dead, survivor = cluster.fail_over()
        assert survivor.name != dead.name
        before = _completed(dsn)
        wait_for(lambda: _completed(dsn) >= before + 200, 90, "progress after the failover",
                 diagnostics=diagnostics)
        enqueuer.halt.set()
        enqueuer.join(30)

        wait_for(lambda: _everything_finished(dsn), 120, "every task to finish", interval=0.5,
                 diagnostics=diagnostics)
        assert all(w.alive() for w in workers.started), "a worker exited instead of following the primary"
    finally:
        enqueuer.halt.set()
        workers.stop_all()

    assert len(enqueuer.committed) >= 600
    assert_each_completed_once(dsn, enqueuer.committed)
    with psycopg.connect(dsn, autocommit=True) as conn:
        # Batches whose commit was cut off by the fault may exist; those that do finished once too.
        all_ids = [row[0] for row in conn.execute("select id from swarm.agent_tasks").fetchall()]
    assert_each_completed_once(dsn, all_ids)
    leader_timeline = next(m["TL"] for m in cluster.members() if m["Role"] == "Leader")
    assert leader_timeline >= 3, "expected two promotions (switchover, failover)"


def test_workers_leave_a_frozen_primary_for_the_promoted_standby(cluster: PatroniCluster, tmp_path: Path) -> None:
    """The primary's machine hangs instead of crashing (SIGSTOP: its sockets stay open, nothing
    answers). Patroni promotes the standby; the workers must give up on the silent server and
    carry on against the new primary while the old one is still frozen. The hung node is then
    fenced (killed), as an HA setup must do: a Patroni without a watchdog that resumes after its
    leader key expired can take the key back, and the promoted node's writes are then discarded
    (seen here when the old node was thawed instead: docs/scaling.md, "Fence the old primary")."""
    dsn = cluster.dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        ids = [row[0] for row in conn.execute("insert into swarm.agent_tasks (prompt, max_attempts) "
                                              "select 'sleep 0.1', 10 from generate_series(1, 1000) returning id")]
    workers = Workers(dsn, tmp_path)
    diagnostics = lambda: f"{cluster.diagnostics()}\n{workers.logs()}"  # noqa: E731
    frozen: list[int] = []
    try:
        for i in range(2):
            workers.start("--agents", "shell", name=f"ha-w{i}", concurrency=4, lease_seconds=10)
        wait_for(lambda: _completed(dsn) >= 150, 60, "the workers to complete tasks", diagnostics=diagnostics)
        old = cluster.wait_for_leader()
        frozen = cluster.freeze(old)
        cluster.wait_for_leader(60, not_name=old.name)
        before = _completed(dsn)
        wait_for(lambda: _completed(dsn) >= before + 100, 60,
                 "progress on the promoted standby while the old primary is frozen", diagnostics=diagnostics)
        cluster.fence(old, frozen)
        frozen = []
        wait_for(lambda: _everything_finished(dsn), 120, "every task to finish", interval=0.5,
                 diagnostics=diagnostics)
    finally:
        cluster.thaw(frozen)
        workers.stop_all()
    assert_each_completed_once(dsn, ids)
