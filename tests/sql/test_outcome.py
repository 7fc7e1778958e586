"""Reporting outcomes: completion, failure with backoff, release, and the fence."""
from __future__ import annotations

import pytest

from tests.helpers.swarm import SwarmClient


def test_complete_records_the_outcome(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    [t] = swarm.claim("w1")
    report = swarm.complete(task_id, "w1", t["attempts"], result={"text": "done"}, exit_code=0,
                            output_tail="ok\n", log_path="/tmp/x.log", cost_usd=0.25, input_tokens=10,
                            output_tokens=20)
    assert report.accepted and report.status == "completed"
    task = swarm.task(task_id)
    assert task["status"] == "completed" and task["result"] == {"text": "done"}
    assert (task["exit_code"], task["output_tail"], task["log_path"]) == (0, "ok\n", "/tmp/x.log")
    assert (float(task["cost_usd"]), task["input_tokens"], task["output_tokens"]) == (0.25, 10, 20)
    assert task["lease_expires_at"] is None and task["finished_at"] is not None
    assert swarm.events(task_id) == ["created", "claimed", "completed"]


def test_report_from_another_worker_changes_nothing_and_is_logged(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    [t] = swarm.claim("w1")
    report = swarm.complete(task_id, "intruder", t["attempts"])
    assert not report.accepted and report.status == "running"
    assert "stale report" in report.message
    assert swarm.status(task_id) == "running"
    assert swarm.events(task_id)[-1] == "stale_report"
    assert swarm.fail(task_id, "intruder", 1).accepted is False
    assert swarm.release(task_id, "intruder", 1).accepted is False
    assert swarm.task(task_id)["worker"] == "w1"


def test_report_from_an_older_attempt_changes_nothing(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    [first] = swarm.claim("w1")
    swarm.fail(task_id, "w1", first["attempts"], retry_in_seconds=0)
    [second] = swarm.claim("w1")
    assert second["attempts"] == 2
    late = swarm.complete(task_id, "w1", 1, result={"from": "old attempt"})
    assert not late.accepted
    assert swarm.task(task_id)["result"] is None
    assert swarm.complete(task_id, "w1", 2).accepted
    rows = swarm.event_rows(task_id)
    stale = [r for r in rows if r["event"] == "stale_report"]
    assert len(stale) == 1 and stale[0]["attempt"] == 1 and stale[0]["detail"]["current_attempt"] == 2


def test_failure_retries_with_capped_exponential_backoff_and_jitter(swarm: SwarmClient) -> None:
    swarm.set_agent("shell", retry_backoff_base_seconds=10, retry_backoff_max_seconds=25, breaker_threshold=None)
    task_id = swarm.make_task("x", max_attempts=4)
    swarm.set_now("2030-01-01T00:00:00Z")
    delays = []
    for attempt in (1, 2, 3):
        [t] = swarm.claim("w1")
        assert t["attempts"] == attempt
        report = swarm.fail(task_id, "w1", attempt, error=f"boom {attempt}")
        assert report.status == "pending"
        task = swarm.task(task_id)
        delay = (task["run_after"] - swarm.now()).total_seconds()
        delays.append(delay)
        assert swarm.claim("w1") == [], "a retry must wait for its backoff"
        swarm.set_now(task["run_after"].isoformat())
    # steps: 10, 20, 25 (capped); equal jitter keeps each delay within [step/2, step]
    for delay, step in zip(delays, (10, 20, 25)):
        assert step / 2 <= delay <= step
    [t] = swarm.claim("w1")
    final = swarm.fail(task_id, "w1", 4, error="still broken")
    assert final.status == "failed"
    task = swarm.task(task_id)
    assert task["attempts"] == 4 and task["error"] == "still broken"
    assert swarm.events(task_id).count("retry_scheduled") == 3
    assert swarm.events(task_id)[-1] == "failed"


def test_fail_with_retry_in_seconds_and_not_retryable(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    [t] = swarm.claim("w1")
    swarm.fail(a, "w1", 1, retry_in_seconds=0)
    assert [x["id"] for x in swarm.claim("w1")] == [a]
    assert swarm.fail(a, "w1", 2, retryable=False).status == "failed"
    assert swarm.task(a)["attempts"] == 2


def test_release_without_counting_gives_the_attempt_back_a_bounded_number_of_times(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", max_attempts=1)
    for _ in range(10):
        [t] = swarm.claim("w1")
        assert t["attempts"] == 1
        report = swarm.release(task_id, "w1", 1, reason="exit 75")
        assert report.status == "pending"
    [t] = swarm.claim("w1")
    report = swarm.release(task_id, "w1", 1, reason="exit 75")
    assert report.status == "failed", "the 11th free release spends the last attempt"
    assert swarm.events(task_id).count("released") == 10


def test_release_with_delay_and_counted(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1")
    swarm.release(task_id, "w1", 1, delay_seconds=60, count_attempt=True)
    task = swarm.task(task_id)
    assert task["status"] == "pending" and task["attempts"] == 1
    assert swarm.claim("w1") == []


def test_unknown_task_report_raises(swarm: SwarmClient) -> None:
    import psycopg
    with pytest.raises(psycopg.Error) as info:
        swarm.complete(999999, "w1", 1)
    assert info.value.sqlstate == "SW002" and "unknown task 999999" in str(info.value)


def test_batch_completion_fences_each_element(swarm: SwarmClient, conn) -> None:
    ids = [swarm.make_task(f"t{i}") for i in range(5)]
    dependent = swarm.make_task("after all", depends_on=ids)
    claimed = swarm.claim("w1", max_tasks=5)
    attempts = [t["attempts"] for t in claimed]
    task_ids = [t["id"] for t in claimed]
    attempts[1] = 7  # a stale element
    tokens = [t["lease_token"] for t in claimed]
    rows = conn.execute("select task_id, accepted, status from swarm.complete_tasks('w1', %s, %s, null, %s::uuid[])",
                        (task_ids, attempts, tokens)).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(tid, i != 1) for i, tid in enumerate(task_ids)]
    assert swarm.status(task_ids[1]) == "running" and swarm.events(task_ids[1])[-1] == "stale_report"
    assert swarm.status(dependent) == "waiting"
    conn.execute("select * from swarm.complete_tasks('w1', %s, %s, null, %s::uuid[])",
                 ([task_ids[1]], [1], [tokens[1]]))
    assert swarm.status(dependent) == "pending"
    import psycopg
    with pytest.raises(psycopg.Error) as info:
        conn.execute("select * from swarm.complete_tasks('w1', '{1,2}', '{1}')")
    assert info.value.sqlstate == "SW005"
