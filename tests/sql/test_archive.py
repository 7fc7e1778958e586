"""Archive: old finished tasks move out with their events; claiming goes on."""
from __future__ import annotations

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
