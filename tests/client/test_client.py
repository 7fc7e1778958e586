"""from pgswarm import Client: enqueue inside the caller's transaction, batches with dependencies by
name, reads, wait woken by LISTEN, typed refusals; against real PostgreSQL and real workers."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

import pgswarm.client._base as client_base
from pgswarm import (Client, DatabaseUnavailable, IllegalTransition, InvalidArgument, InvalidDependency, Task,
                     TaskSpec, UnknownAgent, UnknownTask, UsageError, WaitTimeout)
from tests.helpers.swarm import SwarmClient
from tests.helpers.workers import Workers, wait_for


def count(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]


def test_an_enqueue_rolled_back_with_the_callers_transaction_leaves_no_task_and_wakes_no_worker(
        dsn: str, conn: psycopg.Connection) -> None:
    conn.execute("listen swarm_ready")
    with psycopg.connect(dsn) as app:  # the caller's own connection, not autocommit: a transaction
        client = Client(conn=app)
        app.execute("select 1")  # the application's own work in the same transaction
        client.enqueue("Fix the flaky test", agent="claude")
        assert app.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        app.rollback()
        assert count(conn) == 0
        # The same enqueue for another agent, committed: the first wake-up anyone gets is its.
        task_id = client.enqueue("Fix the flaky test", agent="codex")
        app.commit()
    payloads = [n.payload for n in conn.notifies(timeout=10, stop_after=1)]
    assert payloads == ["codex"]
    assert [n.payload for n in conn.notifies(timeout=0.5)] == []
    assert conn.execute("select id, agent from swarm.agent_tasks").fetchall() == [(task_id, "codex")]


def test_an_enqueue_committed_in_the_callers_transaction_is_claimed_and_wait_returns_its_outcome(
        dsn: str, workers: Workers, monkeypatch: pytest.MonkeyPatch) -> None:
    # With the fallback re-read a minute away, only the NOTIFY can end this wait in time.
    monkeypatch.setattr(client_base, "FALLBACK_SECONDS", 60.0)
    workers.start()
    with psycopg.connect(dsn) as app:
        with app.transaction():
            app.execute("create temporary table app_orders (id int)")  # the caller's own write
            task_id = Client(conn=app).enqueue("sleep 2; echo shipped", agent="shell", tags=["orders"])
        task = Client(conn=app).wait(task_id, timeout=60)
        returned = datetime.now(timezone.utc)
        assert app.autocommit is False  # wait borrowed autocommit and gave it back
    assert isinstance(task, Task) and task.status == "completed" and task.succeeded and task.finished
    assert task.exit_code == 0 and "shipped" in (task.output_tail or "")
    assert task.worker == "w1" and task.attempts == 1 and task.tags == ("orders",)
    assert task.finished_at is not None and (returned - task.finished_at) < timedelta(seconds=5)


def test_wait_times_out_cleanly_and_the_connection_stays_usable(dsn: str, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("echo nobody runs me")
    with Client(dsn) as client:
        started = time.monotonic()
        with pytest.raises(WaitTimeout) as raised:
            client.wait(task_id, timeout=0.5)
        assert 0.5 <= time.monotonic() - started < 5
        assert isinstance(raised.value, TimeoutError)
        assert raised.value.task.status == "pending" and f"task {task_id}" in str(raised.value)
        assert client.connection.execute("select pg_listening_channels()").fetchall() == []
        assert client.get(task_id).status == "pending"
        # A task that already finished returns at once.
        swarm.cancel(task_id)
        assert client.wait(task_id, timeout=0).status == "cancelled"
        with pytest.raises(UnknownTask, match="unknown task 987654"):
            client.wait(987654, timeout=1)


def test_wait_refuses_to_run_inside_an_open_transaction(dsn: str, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("echo x")
    with psycopg.connect(dsn) as app:
        app.execute("select 1")
        with pytest.raises(UsageError, match="inside an open transaction"):
            Client(conn=app).wait(task_id, timeout=1)


def test_wait_is_woken_by_the_finish_of_a_task_finished_elsewhere(dsn: str, swarm: SwarmClient,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_base, "FALLBACK_SECONDS", 60.0)
    task_id = swarm.make_task("echo x")
    [claimed] = swarm.claim("w1")
    import threading

    def finish_once_watched() -> None:
        with psycopg.connect(dsn, autocommit=True) as other:
            wait_for(lambda: other.execute("select watched from swarm.agent_tasks where id = %s",
                                           (task_id,)).fetchone()[0], 30, "the waiter to watch the task")
            other.execute("select swarm.complete_task(%s, 'w1', %s, '{\"ok\": true}', lease_token => %s)",
                          (task_id, claimed["attempts"], claimed["lease_token"]))
    finisher = threading.Thread(target=finish_once_watched)
    finisher.start()
    started = time.monotonic()
    task = Client(dsn).wait(task_id, timeout=30)
    finisher.join()
    assert task.status == "completed" and task.result == {"ok": True}
    assert time.monotonic() - started < 10


def test_enqueue_many_resolves_dependencies_by_ref_and_key_in_one_call(dsn: str, swarm: SwarmClient) -> None:
    existing = swarm.make_task("echo earlier", key="nightly-build")
    with Client(dsn) as client:
        done = client.enqueue_many([
            TaskSpec("research the bug", agent="claude", key="bug-7/research", priority="high"),
            TaskSpec("fix it", agent="claude", ref="fix", depends_on=["bug-7/research"]),
            {"prompt": "write a test", "agent": "codex", "ref": "test", "depends_on": ["bug-7/research"]},
            TaskSpec("review", agent="claude", depends_on=["fix", "test", "nightly-build", existing], delay=60),
        ])
    research, fix, test, review = done
    assert [d.ordinal for d in done] == [0, 1, 2, 3] and all(d.created for d in done)
    assert [d.status for d in done] == ["pending", "waiting", "waiting", "waiting"]
    assert swarm.task(fix.id)["depends_on"] == [research.id]
    assert swarm.task(review.id)["depends_on"] == sorted([fix.id, test.id, existing])
    assert swarm.task(research.id)["priority"] == 50
    delay = swarm.task(review.id)["run_after"] - swarm.task(review.id)["created_at"]
    assert timedelta(seconds=59) <= delay <= timedelta(seconds=61)
    # Again: the keyed task is found, not inserted twice, and its dependents point at it.
    again = Client(dsn).enqueue_many([TaskSpec("research the bug", key="bug-7/research"),
                                      TaskSpec("more", depends_on=["bug-7/research"])])
    assert (again[0].id, again[0].created, again[0].agent) == (research.id, False, "claude")
    assert swarm.task(again[1].id)["depends_on"] == [research.id]


@pytest.mark.parametrize("batch, error, fragment", [
    ([TaskSpec("a"), TaskSpec("b", depends_on=["nope"], ref="b")], InvalidDependency,
     "task 2 of 2 (b): unknown dependency 'nope'"),
    ([TaskSpec("b", depends_on=["later"]), TaskSpec("a", ref="later")], InvalidDependency,
     "unknown dependency 'later'"),
    ([TaskSpec("a"), TaskSpec("b", agent="claud")], UnknownAgent, "task 2 of 2: unknown agent 'claud'"),
    ([TaskSpec("a", priority="urgent")], InvalidArgument, "unknown priority 'urgent'"),
    ([TaskSpec("a", priority=5000)], InvalidArgument, "priority 5000 is out of range -1000..1000"),
    ([TaskSpec("a", max_attempts=0)], InvalidArgument, "max_attempts 0 must be at least 1"),
    ([TaskSpec("a", run_after=datetime(2030, 1, 1, tzinfo=timezone.utc), delay=5)], InvalidArgument,
     "run_after or delay_seconds, not both"),
    ([TaskSpec("a", depends_on=[424242])], InvalidDependency, "task 424242 does not exist"),
    ([TaskSpec("a", parent=424242)], UnknownTask, "unknown parent task 424242"),
    ([{"prompt": "a", "promt": "b"}], InvalidArgument, "unknown task field 'promt'"),
])
def test_a_bad_batch_is_refused_whole_with_the_engines_message(dsn: str, conn: psycopg.Connection, batch: list,
                                                              error: type, fragment: str) -> None:
    with Client(dsn) as client:
        with pytest.raises(error) as raised:
            client.enqueue_many(batch)
    assert fragment in str(raised.value)
    assert count(conn) == 0


def test_engine_refusals_are_typed_and_carry_the_engines_words(dsn: str, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("echo x")
    with Client(dsn) as client:
        with pytest.raises(UnknownAgent) as raised:
            client.enqueue("x", agent="claud")
        assert raised.value.sqlstate == "SW001" and str(raised.value) == "unknown agent 'claud'"
        assert "insert into swarm.agents" in raised.value.hint and "claude" in raised.value.detail
        with pytest.raises(UnknownTask) as unknown:
            client.get(999)
        assert unknown.value.sqlstate == "SW002"
        with pytest.raises(UnknownTask):
            client.cancel(999)
        with pytest.raises(IllegalTransition) as illegal:
            client.retry(task_id)
        assert illegal.value.sqlstate == "SW003" and f"task {task_id} is pending" in str(illegal.value)
        with pytest.raises(InvalidDependency):
            client.enqueue("y", depends_on=[task_id, 999])


def test_get_list_output_cancel_retry_and_agents(dsn: str, swarm: SwarmClient) -> None:
    a = swarm.make_task("echo a", queue="q1", tags=["x"])
    b = swarm.make_task("echo b", agent="claude", depends_on=[a])
    with Client(dsn) as client:
        task = client.get(b)
        assert (task.id, task.status, task.agent, task.depends_on, task.unmet_dependencies) == (b, "waiting", "claude",
                                                                                               (a,), 1)
        assert task.archived is False and task.ledger == () and task.created_at is not None
        assert task.why_pending == (f"waits for task {a} (pending, agent shell)", "no live worker runs agent claude")
        assert [t.id for t in client.list()] == [b, a]
        assert [t.id for t in client.list(status="waiting")] == [b]
        assert [t.id for t in client.list(queue="q1", tag="x")] == [a]
        assert [t.id for t in client.list(priority="medium", agent="claude")] == [b]
        [claimed] = swarm.claim("w1")
        swarm.complete(a, "w1", claimed["attempts"], output_tail="all good\n")
        assert [t.id for t in client.list(worker="w1")] == [a]
        assert client.output(a).text == "all good\n" and client.output(a).status == "completed"
        assert client.get(b).status == "pending"
        assert client.cancel(b, "no longer needed") == "cancelled"
        assert client.get(b).cancel_reason == "no longer needed"
        assert client.retry(b) == "pending"
        assert [(c.task_id, c.status) for c in client.cancel_many([a, b, 999])] == [(b, "cancelled")]
        assert [(c.task_id, c.status) for c in client.retry_many([a, b])] == [(b, "pending")]
        until = datetime.now(timezone.utc) + timedelta(hours=1)
        client.pause_agent("claude", until, "quota planning")
        stats = client.stats()
        claude = next(s for s in stats.agents if s.agent == "claude")
        assert claude.paused and claude.pause_reason == "quota planning" and claude.pending == 1
        assert stats.window.created == 2 and stats.window.completed == 1
        assert {(q.queue, q.status) for q in stats.queues} == {("q1", "completed"), ("default", "pending")}
        client.resume_agent("claude")
        assert not next(s for s in client.stats().agents if s.agent == "claude").paused


def test_an_archived_task_is_still_found(dsn: str, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("echo old")
    swarm.cancel(task_id)
    assert swarm.archive("0 seconds") == 1
    with Client(dsn) as client:
        task = client.get(task_id)
        assert task.archived and task.status == "cancelled" and task.archived_at is not None
        assert client.wait(task_id, timeout=1).status == "cancelled"


def test_the_default_agent_is_the_databases_choice(dsn: str, conn: psycopg.Connection) -> None:
    with Client(dsn) as client:
        assert client.enqueue_many([TaskSpec("echo hi")])[0].agent == "shell"
        conn.execute("update swarm.settings set default_agent = 'claude'")
        task_id = client.enqueue("Summarise the incident")
        assert client.get(task_id).agent == "claude"


def test_the_dsn_follows_the_clis_rule_and_an_unreachable_server_is_named(dsn: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSWARM_DSN", dsn)
    with Client() as client:
        assert client.enqueue("echo from the environment") == 1
    with pytest.raises(UsageError, match="a dsn or a conn"):
        Client(dsn, conn=psycopg.connect(dsn))
    with pytest.raises(DatabaseUnavailable) as raised:
        Client("postgresql://alice:secret@127.0.0.1:1/nowhere").enqueue("x")
    assert "alice:***@127.0.0.1:1" in str(raised.value) and "secret" not in str(raised.value)


def test_get_returns_the_attempt_ledger_live_and_archived(dsn: str, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.claim("w1", hostname="node-a")
    swarm.release(task_id, "w1", 1, reason="usage limit", session_id="s1")
    swarm.claim("w2", hostname="node-b")
    swarm.complete(task_id, "w2", 1, cost_usd=0.02, session_id="s2")
    with Client(dsn) as client:
        ledger = client.get(task_id).ledger
        assert [(a.attempt, a.worker, a.outcome, a.session_id) for a in ledger] == [
            (1, "w1", "released", "s1"), (1, "w2", "completed", "s2")]
        assert ledger[1].cost_usd == Decimal("0.02") and ledger[0].error == "usage limit"
        swarm.archive("0 seconds")
        archived = client.get(task_id)
        assert archived.archived and [a.outcome for a in archived.ledger] == ["released", "completed"]


def test_follow_yields_a_running_attempts_chunks_as_they_come_and_ends_with_the_task(
        dsn: str, swarm: SwarmClient) -> None:
    task = swarm.make_task("echo")
    swarm.claim("w1")

    def ship(offset: int, chunk: str) -> None:
        swarm.conn.execute("select swarm.ship_output('w1', %s::jsonb)",
                           (f'[{{"task_id": {task}, "attempt": 1, "offset": {offset}, "chunk": "{chunk}"}}]',))

    ship(0, "one\\n")
    with Client(dsn) as client:
        chunks = client.follow(task)
        assert next(chunks).text == "one\n"
        ship(4, "two\\n")
        assert next(chunks).text == "two\n"
        swarm.complete(task, "w1", 1)
        assert list(chunks) == []
        output = client.output(task)
        assert (output.text, output.complete, output.cursor) == ("one\ntwo\n", True, 2)
        assert [c.text for c in client.follow(task)] == ["one\n", "two\n"], "a finished task: all it kept"
