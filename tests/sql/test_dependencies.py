"""Dependencies: waiting until every dependency completes; failure policies; big graphs."""
from __future__ import annotations

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient


def run(swarm: SwarmClient, task_id: int, worker: str = "w1", ok: bool = True) -> None:
    claimed = {t["id"]: t for t in swarm.claim(worker, max_tasks=1000)}
    assert task_id in claimed, f"task {task_id} was not claimable"
    for other_id, other in claimed.items():
        if other_id != task_id:
            swarm.release(other_id, worker, other["attempts"])
    if ok:
        assert swarm.complete(task_id, worker, claimed[task_id]["attempts"]).accepted
    else:
        assert swarm.fail(task_id, worker, claimed[task_id]["attempts"], retryable=False).status == "failed"


def test_task_waits_until_every_dependency_completes(swarm: SwarmClient) -> None:
    a, b = swarm.make_task("a"), swarm.make_task("b")
    c = swarm.make_task("c", depends_on=[a, b])
    assert swarm.status(c) == "waiting" and swarm.task(c)["unmet_dependencies"] == 2
    run(swarm, a)
    assert swarm.status(c) == "waiting"
    run(swarm, b)
    assert swarm.status(c) == "pending"
    assert swarm.events(c) == ["created", "unblocked"]


def test_dependent_is_released_in_the_completing_transaction(swarm: SwarmClient, conn, dsn: str) -> None:
    a = swarm.make_task("a")
    b = swarm.make_task("b", depends_on=[a])
    [t] = swarm.claim("w1")
    with psycopg.connect(dsn) as other:
        other.execute("select * from swarm.complete_task(%s, 'w1', 1, lease_token => %s)", (a, t["lease_token"]))
        assert swarm.status(b) == "waiting", "not visible before the commit"
        assert other.execute("select status from swarm.agent_tasks where id = %s", (b,)).fetchone()[0] == "pending"
        other.commit()
    assert swarm.status(b) == "pending"


def test_dependency_on_completed_task_starts_pending(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    run(swarm, a)
    assert swarm.status(swarm.make_task("b", depends_on=[a])) == "pending"


def test_diamond(swarm: SwarmClient) -> None:
    top = swarm.make_task("top")
    left, right = swarm.make_task("l", depends_on=[top]), swarm.make_task("r", depends_on=[top])
    bottom = swarm.make_task("bottom", depends_on=[left, right])
    run(swarm, top)
    assert swarm.statuses([left, right, bottom]) == {left: "pending", right: "pending", bottom: "waiting"}
    run(swarm, left)
    run(swarm, right)
    assert swarm.status(bottom) == "pending"


def test_fan_out_of_1000_released_by_one_completion(swarm: SwarmClient, conn) -> None:
    root = swarm.make_task("root")
    conn.execute("insert into swarm.agent_tasks (prompt, depends_on) select 'leaf', array[%s::bigint] "
                 "from generate_series(1, 1000)", (root,))
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'waiting'") == 1000
    run(swarm, root)
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status = 'pending'") == 1000
    assert swarm.scalar("select count(*) from swarm.task_events where event = 'unblocked'") == 1000


def test_fan_in_of_1000(swarm: SwarmClient, conn) -> None:
    ids = [r[0] for r in conn.execute(
        "insert into swarm.agent_tasks (prompt) select 'part' from generate_series(1, 1000) returning id")]
    sink = swarm.make_task("sink", depends_on=ids)
    assert swarm.task(sink)["unmet_dependencies"] == 1000
    claimed = swarm.claim("w1", max_tasks=1000)
    assert len(claimed) == 1000
    for t in claimed[:-1]:
        swarm.complete(t["id"], "w1", 1)
    assert swarm.status(sink) == "waiting"
    swarm.complete(claimed[-1]["id"], "w1", 1)
    assert swarm.status(sink) == "pending"


def test_failure_cancels_dependents_transitively(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    b = swarm.make_task("b", depends_on=[a])
    c = swarm.make_task("c", depends_on=[b])
    d = swarm.make_task("d", depends_on=[c])
    run(swarm, a, ok=False)
    assert swarm.statuses([b, c, d]) == {b: "cancelled", c: "cancelled", d: "cancelled"}
    assert swarm.task(c)["cancelled_by_dependency"] == b
    assert swarm.events(d) == ["created", "cancelled"]


def test_failure_with_policy_run_releases_the_dependent(swarm: SwarmClient) -> None:
    a, ok = swarm.make_task("a"), swarm.make_task("ok")
    cleanup = swarm.make_task("cleanup", depends_on=[a, ok], on_dependency_failure="run")
    strict = swarm.make_task("strict", depends_on=[cleanup])
    run(swarm, ok)
    run(swarm, a, ok=False)
    assert swarm.status(cleanup) == "pending"
    assert swarm.status(strict) == "waiting"


def test_insert_after_dependency_failed(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    run(swarm, a, ok=False)
    assert swarm.status(swarm.make_task("b", depends_on=[a])) == "cancelled"
    assert swarm.status(swarm.make_task("c", depends_on=[a], on_dependency_failure="run")) == "pending"


def test_cancel_of_a_waiting_dependency_cancels_its_dependents(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    b = swarm.make_task("b", depends_on=[a])
    c = swarm.make_task("c", depends_on=[b])
    assert swarm.cancel(b) == "cancelled"
    assert swarm.status(c) == "cancelled"
    assert swarm.status(a) == "pending"


def test_retry_revives_the_dependents_its_failure_cancelled(swarm: SwarmClient) -> None:
    a = swarm.make_task("a", max_attempts=1)
    b = swarm.make_task("b", depends_on=[a])
    c = swarm.make_task("c", depends_on=[b])
    run(swarm, a, ok=False)
    assert swarm.statuses([b, c]) == {b: "cancelled", c: "cancelled"}
    assert swarm.retry(a) == "pending"
    assert swarm.statuses([a, b, c]) == {a: "pending", b: "waiting", c: "waiting"}
    run(swarm, a)
    run(swarm, b)
    assert swarm.status(c) == "pending"


def test_retrying_a_task_whose_dependency_failed_says_which_to_retry(swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    b = swarm.make_task("b", depends_on=[a])
    run(swarm, a, ok=False)
    with pytest.raises(psycopg.Error) as info:
        swarm.retry(b)
    assert info.value.sqlstate == "SW004" and f"retry task {a} first" in info.value.diag.message_hint


def test_dependency_inserted_and_completed_concurrently_is_never_missed(swarm: SwarmClient, dsn: str) -> None:
    """An insert that depends on a task completing at the same moment either sees it completed
    or is counted off by the completion: it never waits forever."""
    for round_no in range(20):
        a = swarm.make_task("a", queue=f"round-{round_no}")
        [t] = swarm.claim("w1", queues=[f"round-{round_no}"])
        with psycopg.connect(dsn) as inserter, psycopg.connect(dsn) as completer:
            b = inserter.execute("insert into swarm.agent_tasks (prompt, depends_on) values ('b', %s) returning id",
                                 ([a],)).fetchone()[0]
            import threading
            done = threading.Event()

            def complete() -> None:
                completer.execute("select * from swarm.complete_task(%s, 'w1', 1, lease_token => %s)",
                                  (a, t["lease_token"]))
                completer.commit()
                done.set()
            thread = threading.Thread(target=complete)
            thread.start()
            assert not done.wait(0.2), "completion must wait for the dependent's insert to commit"
            inserter.commit()
            thread.join(10)
        assert swarm.status(a) == "completed"
        assert swarm.status(b) == "pending"
