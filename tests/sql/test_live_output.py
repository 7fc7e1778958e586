"""swarm.ship_output: running attempts' output in the database, bounded, fenced, announced."""
from __future__ import annotations

import json
from datetime import timedelta

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def ship(swarm: SwarmClient, worker: str, *items: dict) -> int:
    return swarm.scalar("select swarm.ship_output(%s, %s::jsonb)", (worker, json.dumps(list(items))))


def chunks(swarm: SwarmClient, task_id: int) -> list[tuple[int, int, int, str]]:
    return swarm.conn.execute("select attempt, seq, offset_bytes, chunk from swarm.task_output where task_id = %s "
                              "order by attempt, seq", (task_id,)).fetchall()


def running(swarm: SwarmClient, worker: str = "w1") -> int:
    task = swarm.make_task("x", agent="claude")
    [claimed] = swarm.claim(worker)
    assert claimed["id"] == task
    return task


def test_chunks_are_stored_in_order_with_progress_and_a_notification(swarm: SwarmClient, dsn: str) -> None:
    task = running(swarm)
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen swarm_output")
        assert ship(swarm, "w1", {"task_id": task, "attempt": 1, "offset": 0, "chunk": "hello\n"},
                    {"task_id": task, "attempt": 1, "offset": 6, "chunk": "world\n",
                     "progress": {"turns": 2, "tool": "Bash ls"}}) == 2
        assert [n.payload for n in listener.notifies(timeout=5, stop_after=1)] == [str(task)]
    assert ship(swarm, "w1", {"task_id": task, "attempt": 1, "offset": 12, "chunk": "again\n"}) == 1
    assert chunks(swarm, task) == [(1, 1, 0, "hello\n"), (1, 2, 6, "world\n"), (1, 3, 12, "again\n")]
    progress = swarm.task(task)["progress"]
    assert (progress["turns"], progress["tool"], progress["attempt"]) == (2, "Bash ls", 1)


def test_progress_keeps_what_the_agent_reported_itself(swarm: SwarmClient) -> None:
    task = running(swarm)
    swarm.conn.execute("update swarm.agent_tasks set progress = '{\"agent\": {\"step\": \"3/5\"}}' where id = %s",
                       (task,))
    ship(swarm, "w1", {"task_id": task, "attempt": 1, "offset": 0, "progress": {"turns": 4, "agent": "forged"}})
    progress = swarm.task(task)["progress"]
    assert progress["turns"] == 4 and progress["agent"] == {"step": "3/5"}


def test_items_of_attempts_the_worker_does_not_run_are_skipped(swarm: SwarmClient) -> None:
    task = running(swarm)
    assert ship(swarm, "w2", {"task_id": task, "attempt": 1, "offset": 0, "chunk": "not mine"}) == 0
    assert ship(swarm, "w1", {"task_id": task, "attempt": 2, "offset": 0, "chunk": "not this attempt"}) == 0
    swarm.complete(task, "w1", 1)
    assert ship(swarm, "w1", {"task_id": task, "attempt": 1, "offset": 0, "chunk": "too late",
                              "progress": {"turns": 9}}) == 0
    assert chunks(swarm, task) == [] and swarm.task(task)["progress"] is None


def test_each_attempt_keeps_its_last_mebibyte(swarm: SwarmClient) -> None:
    task = running(swarm)
    piece = "x" * 100_000 + "\n"
    for i in range(25):
        ship(swarm, "w1", {"task_id": task, "attempt": 1, "offset": i * len(piece), "chunk": piece})
    kept = chunks(swarm, task)
    total = sum(len(c[3]) for c in kept)
    assert 1024 * 1024 <= total <= 1024 * 1024 + len(piece), total
    assert kept[-1][1] == 25 and kept[0][1] > 1  # the newest stay, the oldest went


def test_a_bad_batch_is_refused(swarm: SwarmClient) -> None:
    with pytest.raises(psycopg.Error) as refused:
        swarm.scalar("select swarm.ship_output('w1', '{}'::jsonb)")
    assert refused.value.sqlstate == "SW005"


def test_readers_of_tasks_may_read_output_and_only_workers_ship_it(swarm: SwarmClient, dsn: str) -> None:
    task = running(swarm)
    ship(swarm, "w1", {"task_id": task, "attempt": 1, "offset": 0, "chunk": "hi\n"})
    for role in ("swarm_monitor", "swarm_enqueue", "swarm_worker"):
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f"set role {role}")
            rows = c.execute("select chunk from swarm.task_output where task_id = %s", (task,)).fetchall()
            assert rows == [("hi\n",)]
            if role != "swarm_worker":
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    c.execute("select swarm.ship_output('w1', '[]'::jsonb)")


def test_output_older_than_a_day_goes_with_the_next_call(swarm: SwarmClient) -> None:
    old = running(swarm)
    ship(swarm, "w1", {"task_id": old, "attempt": 1, "offset": 0, "chunk": "yesterday\n"})
    swarm.complete(old, "w1", 1)
    swarm.set_now((swarm.now() + timedelta(days=1, minutes=1)).isoformat())
    new = running(swarm)
    ship(swarm, "w1", {"task_id": new, "attempt": 1, "offset": 0, "chunk": "today\n"})
    assert swarm.conn.execute("select task_id, chunk from swarm.task_output").fetchall() == [(new, "today\n")]
