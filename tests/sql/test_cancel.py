"""Cancel and retry."""
from __future__ import annotations

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def test_cancel_waiting_and_pending_tasks(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    b = swarm.make_task("b", depends_on=[a])
    assert swarm.cancel(b, "not needed") == "cancelled"
    assert swarm.cancel(a) == "cancelled"
    assert swarm.statuses([a, b]) == {a: "cancelled", b: "cancelled"}
    assert swarm.task(b)["cancel_reason"] == "not needed"
    assert swarm.claim("w1") == []
    assert swarm.cancel(a) == "cancelled", "cancelling twice is harmless"


def test_cancel_running_task_requests_it_and_notifies_the_worker(swarm: SwarmClient, dsn: str) -> None:
    task_id = swarm.make_task("sleep 100")
    [t] = swarm.claim("w1")
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen swarm_cancel")
        assert swarm.cancel(task_id, "stop it") == "running"
        payloads = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert payloads == [str(task_id)]
    assert swarm.heartbeat("w1", [task_id]) == {task_id: (True, True)}
    report = swarm.fail(task_id, "w1", 1, error="killed: cancel requested")
    assert report.status == "cancelled"
    assert swarm.task(task_id)["cancel_reason"] == "stop it"
    assert swarm.events(task_id)[-1] == "cancelled"


def test_cancelled_running_task_of_a_dead_worker_is_reaped_as_cancelled(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1", lease_seconds=1)
    swarm.cancel(task_id)
    swarm.set_now("2100-01-01T00:00:00Z")
    assert swarm.reap() == 1
    assert swarm.status(task_id) == "cancelled"


def test_cancel_of_finished_task_is_refused(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1")
    swarm.complete(task_id, "w1", 1)
    with pytest.raises(psycopg.Error) as info:
        swarm.cancel(task_id)
    assert info.value.sqlstate == "SW003" and "already completed" in str(info.value)
    with pytest.raises(psycopg.Error) as info:
        swarm.cancel(987654)
    assert info.value.sqlstate == "SW002"


def test_retry_of_failed_task_gives_fresh_attempts(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", max_attempts=1)
    swarm.claim("w1")
    swarm.fail(task_id, "w1", 1)
    assert swarm.status(task_id) == "failed"
    assert swarm.retry(task_id) == "pending"
    task = swarm.task(task_id)
    assert task["attempts"] == 0 and task["finished_at"] is None
    [t] = swarm.claim("w1")
    assert t["attempts"] == 1
    with pytest.raises(psycopg.Error) as info:
        swarm.retry(task_id)
    assert info.value.sqlstate == "SW003" and "only failed or cancelled" in str(info.value)
