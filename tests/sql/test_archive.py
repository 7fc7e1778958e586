"""Archive: old finished tasks move out with their events; claiming goes on."""
from __future__ import annotations

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def test_archive_moves_old_terminal_tasks_with_their_events(swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01T00:00:00Z")
    old_done = swarm.make_task("done")
    old_pending = swarm.make_task("still pending", agent="claude")
    swarm.claim("w1", agents=["shell"])
    swarm.complete(old_done, "w1", 1)
    swarm.set_now("2030-02-01T00:00:00Z")
    recent = swarm.make_task("recent")
    swarm.claim("w1", agents=["shell"])
    swarm.complete(recent, "w1", 1)
    assert swarm.archive("7 days") == 1
    assert swarm.scalar("select count(*) from swarm.agent_tasks where id = %s", (old_done,)) == 0
    assert swarm.scalar("select status from swarm.agent_tasks_archive where id = %s", (old_done,)) == "completed"
    assert swarm.scalar("select count(*) from swarm.task_events where task_id = %s", (old_done,)) == 0
    assert swarm.scalar("select count(*) from swarm.task_events_archive where task_id = %s", (old_done,)) == 3
    assert swarm.statuses([old_pending, recent]) == {old_pending: "pending", recent: "completed"}
    assert [t["id"] for t in swarm.claim("w2")] == [old_pending]
    # a new task may depend on an archived (completed) task
    assert swarm.status(swarm.make_task("after", depends_on=[old_done])) == "pending"


def test_archive_in_batches(swarm: SwarmClient, conn) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 30)")
    for t in swarm.claim("w1", max_tasks=30):
        swarm.complete(t["id"], "w1", 1)
    assert swarm.archive("0 seconds", batch_size=20) == 20
    assert swarm.archive("0 seconds", batch_size=20) == 10
    assert swarm.archive("0 seconds") == 0


def _finish(swarm: SwarmClient, conn, count: int) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, %s)", (count,))
    while claimed := swarm.claim("w1", max_tasks=1000):
        conn.execute("select swarm.complete_tasks('w1', %s, %s, null, %s::uuid[])",
                     ([t["id"] for t in claimed], [1] * len(claimed), [t["lease_token"] for t in claimed]))


def test_archive_in_batches_commits_each_batch(swarm: SwarmClient, conn) -> None:
    """2,500 tasks in batches of 1,000: three transactions, each moving tasks with their events."""
    _finish(swarm, conn, 2500)
    events = swarm.scalar("select count(*) from swarm.task_events")
    moved = conn.execute("call swarm.archive_in_batches('0 seconds', 1000, null)").fetchone()[0]
    assert moved == 2500
    assert swarm.scalar("select count(*) from swarm.agent_tasks") == 0
    assert swarm.scalar("select count(*) from swarm.task_events") == 0
    assert swarm.scalar("select count(*) from swarm.task_events_archive") == events
    # One writing transaction per batch (a single transaction would leave one xmin).
    assert swarm.scalar("select count(distinct xmin::text) from swarm.agent_tasks_archive") == 3
    assert swarm.scalar("select count(*) from swarm.agent_tasks_archive a join swarm.task_events_archive e "
                        "on e.task_id = a.id and e.xmin::text <> a.xmin::text") == 0


def test_archive_in_batches_stops_at_max_batches_and_leaves_the_rest(swarm: SwarmClient, conn) -> None:
    _finish(swarm, conn, 50)
    assert conn.execute("call swarm.archive_in_batches('0 seconds', 20, null, max_batches => 2)").fetchone()[0] == 40
    assert swarm.scalar("select count(*) from swarm.agent_tasks") == 10


def test_archive_in_batches_refuses_bad_sizes_and_moves_nothing(swarm: SwarmClient, conn) -> None:
    _finish(swarm, conn, 5)
    for call in ("call swarm.archive_in_batches('0 seconds', 0, null)",
                 "call swarm.archive_in_batches('0 seconds', 10, null, max_batches => 0)",
                 "call swarm.archive_in_batches('-1 day', 10, null)"):
        with pytest.raises(psycopg.Error) as info:
            conn.execute(call)
        assert info.value.sqlstate == "SW005"
    assert swarm.scalar("select count(*) from swarm.agent_tasks") == 5

