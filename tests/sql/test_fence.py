"""The fence: a report, heartbeat or release counts only from the login that registered the worker
name and with the lease token of the attempt's claim (issue 16, defect 5)."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.helpers.logins import Logins
from tests.helpers.swarm import SwarmClient


@pytest.fixture
def login(logins: Logins) -> Callable[[str], psycopg.Connection]:
    """login(name) -> a new autocommit connection of a login granted swarm_worker only."""
    return lambda name: logins.connect("swarm_worker", name)


def snapshot(conn: psycopg.Connection, task_id: int) -> tuple:
    return conn.execute("select status, result, worker, attempts, lease_expires_at, finished_at "
                        "from swarm.agent_tasks where id = %s", (task_id,)).fetchone()


def test_another_login_cannot_report_for_a_worker_it_did_not_register(conn, login) -> None:
    task_id = conn.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
    victim, attacker = login("victim_host"), login("attacker_host")
    victim.execute("select swarm.register_worker('victimw', 'host-a', 1, null, null, 1)")
    [(claimed_id, token)] = victim.execute("select id, lease_token from swarm.claim_task('victimw')").fetchall()
    assert claimed_id == task_id
    before = snapshot(conn, task_id)

    # Even with the right token (leaked), another login is refused with SW007 and changes nothing.
    for call, params in [
        ("select * from swarm.complete_task(%s, 'victimw', 1, '{\"forged\": 1}', lease_token => %s)", (task_id, token)),
        ("select * from swarm.fail_task(%s, 'victimw', 1, 'forged', lease_token => %s)", (task_id, token)),
        ("select * from swarm.release_task(%s, 'victimw', 1, lease_token => %s)", (task_id, token)),
        ("select * from swarm.heartbeat('victimw', %s, 60, %s::uuid[])", ([task_id], [token])),
        ("select * from swarm.complete_tasks('victimw', %s, '{1}', null, %s::uuid[])", ([task_id], [token])),
        ("select * from swarm.release_for_usage_limit(%s, 'victimw', 1, now() + interval '1 day', 'forged', "
         "lease_token => %s)", (task_id, token)),
        ("select * from swarm.claim_task('victimw')", ()),
        ("select swarm.register_worker('victimw', 'evil', 2, null, null, 1)", ()),
    ]:
        with pytest.raises(psycopg.Error) as info:
            attacker.execute(call, params)
        assert info.value.sqlstate == "SW007", call
        assert "belongs to login victim_host" in str(info.value)
    assert snapshot(conn, task_id) == before
    assert conn.execute("select count(*) from swarm.agents where paused_until is not null").fetchone()[0] == 0
    assert conn.execute("select login, hostname from swarm.workers where name = 'victimw'").fetchone() == (
        "victim_host", "host-a")

    # The owner's report with its token goes through.
    row = victim.execute("select accepted, status from swarm.complete_task(%s, 'victimw', 1, '{\"ok\": 1}', "
                         "lease_token => %s)", (task_id, token)).fetchone()
    assert row == (True, "completed")


def test_another_login_cannot_record_sessions_output_or_quarantine_under_a_worker_it_did_not_register(
        conn, login) -> None:
    task_id = conn.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
    victim, attacker = login("victim_host"), login("attacker_host")
    victim.execute("select swarm.register_worker('victimw', 'host-a', 1, null, null, 1)")
    victim.execute("select id from swarm.claim_task('victimw')")
    assert not attacker.execute("select swarm.record_session(%s, 'victimw', 1, 'forged')", (task_id,)).fetchone()[0]
    batch = '[{"task_id": %d, "attempt": 1, "offset": 0, "chunk": "forged"}]' % task_id
    for call, params in [("select swarm.ship_output('victimw', %s::jsonb)", (batch,)),
                         ("select swarm.set_worker_quarantine('victimw', '{\"claude\": \"forged\"}')", ())]:
        with pytest.raises(psycopg.Error) as info:
            attacker.execute(call, params)
        assert info.value.sqlstate == "SW007", call
    assert conn.execute("select count(*) from swarm.task_output").fetchone()[0] == 0
    assert conn.execute("select session_id, quarantined from swarm.task_attempts, swarm.workers "
                        "where task_id = %s and name = 'victimw'", (task_id,)).fetchone() == (None, {})
    assert victim.execute("select swarm.record_session(%s, 'victimw', 1, 'real')", (task_id,)).fetchone()[0]


def test_another_login_cannot_widen_the_args_of_or_stop_a_worker_it_did_not_register(conn, login) -> None:
    victim, attacker = login("victim_host"), login("attacker_host")
    victim.execute("select swarm.register_worker('victimw', 'host-a', 2, null, null, 1)")
    victim.execute("select swarm.set_worker_allowed_args('victimw', '{model}')")
    assert victim.execute("select count(*) from swarm.claim_or_wait('victimw', max_tasks => 2)").fetchone()[0] == 0
    for call in ["select swarm.set_worker_allowed_args('victimw', '{permission_mode=bypassPermissions}')",
                 "select swarm.stop_worker('victimw')"]:
        with pytest.raises(psycopg.Error) as info:
            attacker.execute(call)
        assert info.value.sqlstate == "SW007", call
        assert "belongs to login victim_host" in str(info.value)
    assert conn.execute("select allowed_args, stopped_at from swarm.workers where name = 'victimw'").fetchone() == (
        ["model"], None)
    assert conn.execute("select free_slots from swarm.idle_workers where worker = 'victimw'").fetchone() == (2,)
    victim.execute("select swarm.stop_worker('victimw')")
    assert conn.execute("select count(*) from swarm.idle_workers where worker = 'victimw'").fetchone() == (0,)


def test_a_report_without_the_claims_token_is_refused_and_changes_nothing(swarm: SwarmClient, conn) -> None:
    task_id = swarm.make_task("x")
    [claimed] = swarm.claim("w1")
    token = claimed["lease_token"]
    assert token is not None
    stored = conn.execute("select lease_token from swarm.agent_tasks where id = %s", (task_id,)).fetchone()[0]
    assert stored != token, "the table keeps a digest, never the token itself"
    before = snapshot(conn, task_id)
    for wrong in (None, uuid.uuid4(), stored):
        report = swarm.complete(task_id, "w1", 1, result={"forged": 1}, lease_token=wrong)
        assert not report.accepted and report.status == "running"
        assert ("carries no lease token" if wrong is None else "lease token is not this attempt's") in report.message
        assert not swarm.fail(task_id, "w1", 1, lease_token=wrong).accepted
        assert not swarm.release(task_id, "w1", 1, lease_token=wrong).accepted
    assert snapshot(conn, task_id) == before
    assert swarm.events(task_id).count("stale_report") == 9
    # A heartbeat without the token does not renew the lease and says the task is not owned.
    rows = conn.execute("select owned from swarm.heartbeat('w1', %s, 600, %s::uuid[])",
                        ([task_id], [uuid.uuid4()])).fetchall()
    assert rows == [(False,)] and snapshot(conn, task_id) == before
    assert swarm.complete(task_id, "w1", 1, result={"ok": 1}).accepted


def test_a_stale_token_is_refused_after_the_task_is_claimed_again(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1", lease_seconds=1)
    first = swarm.tokens[task_id]
    assert swarm.release(task_id, "w1", 1).accepted  # free release: the next claim is attempt 1 again
    [again] = swarm.claim("w1")
    assert again["attempts"] == 1 and again["lease_token"] != first
    report = swarm.complete(task_id, "w1", 1, lease_token=first)
    assert not report.accepted and "lease token is not this attempt's" in report.message
    assert swarm.status(task_id) == "running"
    assert swarm.complete(task_id, "w1", 1).accepted


def test_tokens_differ_per_task_and_per_claim(swarm: SwarmClient) -> None:
    ids = [swarm.make_task(f"t{i}") for i in range(20)]
    rows = swarm.claim("w1", max_tasks=10) + swarm.claim("w1", max_tasks=10)
    tokens = {row["lease_token"] for row in rows}
    assert len(tokens) == 20 and {row["id"] for row in rows} == set(ids)


def test_a_name_registered_before_logins_were_recorded_is_adopted(conn, login) -> None:
    conn.execute("insert into swarm.workers (name, hostname, pid, concurrency) values ('old', 'h', 1, 1)")
    c = login("adopter")
    c.execute("select swarm.register_worker('old', 'h2', 2, null, null, 1)")
    assert conn.execute("select login from swarm.workers where name = 'old'").fetchone()[0] == "adopter"


def test_under_concurrency_only_the_holder_of_each_lease_can_report(conn, login, dsn: str) -> None:
    """8 logins claim, and each also tries to complete every task the others hold (names and
    attempts are readable, tokens are not): only the holders' reports are accepted, each task is
    completed exactly once, with its holder's result."""
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 400)")
    names = [f"host_{i}" for i in range(8)]
    for name in names:
        login(name).execute("select swarm.register_worker(%s, %s, 1, null, null, 1)", (name, name))
    forged_accepted: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(names))

    def body(i: int) -> None:
        name = names[i]
        with psycopg.connect(dsn.replace("postgres@", f"{name}@"), autocommit=True) as c:
            start.wait()
            while rows := c.execute("select id, attempts, lease_token from swarm.claim_task(%s, max_tasks => 3)",
                                    (name,)).fetchall():
                # Forge: complete others' running tasks under their names (SW007) and under our
                # own name with a guessed token (refused as stale).
                others = c.execute("select id, worker, attempts from swarm.agent_tasks "
                                   "where status = 'running' and worker <> %s limit 3", (name,)).fetchall()
                for task_id, worker, attempt in others:
                    try:
                        c.execute("select accepted from swarm.complete_task(%s, %s, %s, '{\"forged\": 1}', "
                                  "lease_token => %s)", (task_id, worker, attempt, uuid.uuid4()))
                        with lock:
                            forged_accepted.append(task_id)
                    except psycopg.Error as exc:
                        if exc.sqlstate != "SW007":
                            with lock:
                                errors.append(str(exc))
                    accepted = c.execute("select accepted from swarm.complete_task(%s, %s, %s, '{\"forged\": 1}', "
                                         "lease_token => %s)", (task_id, name, attempt, uuid.uuid4())).fetchone()[0]
                    if accepted:
                        with lock:
                            forged_accepted.append(task_id)
                for task_id, attempt, token in rows:
                    assert c.execute("select accepted from swarm.complete_task(%s, %s, %s, %s::jsonb, "
                                     "lease_token => %s)",
                                     (task_id, name, attempt, f'{{"by": "{name}"}}', token)).fetchone()[0]

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and forged_accepted == []
    rows = conn.execute("select status, result ->> 'by' = worker, count(*) from swarm.agent_tasks "
                        "group by 1, 2").fetchall()
    assert rows == [("completed", True, 400)]
    assert conn.execute("select count(*) from swarm.task_events where event = 'completed'").fetchone()[0] == 400
