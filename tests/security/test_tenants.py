"""Tenants: with swarm.settings.tenant_isolation on, an enqueue login sees and steers only the tasks
it created; off (the default), enqueue logins share one queue. Workers and monitors see all."""
from __future__ import annotations

import os

import psycopg
import pytest

from tests.cli.conftest import assert_user_error, run_pgswarm

from .conftest import Login, connect


def tenants(conn: psycopg.Connection, on: bool) -> None:
    conn.execute("update swarm.settings set tenant_isolation = %s", (on,))


def test_off_by_default_enqueue_logins_share_the_queue(conn: psycopg.Connection, login: Login) -> None:
    assert conn.execute("select tenant_isolation from swarm.settings").fetchone()[0] is False
    alice, bob = login("swarm_enqueue"), login("swarm_enqueue")
    with connect(alice) as a, connect(bob) as b:
        task_id = a.execute("select swarm.enqueue('alice''s')").fetchone()[0]
        assert b.execute("select prompt from swarm.agent_tasks where id = %s", (task_id,)).fetchone()[0] == "alice's"
        assert b.execute("select swarm.cancel_task(%s)", (task_id,)).fetchone()[0] == "cancelled"


def test_on_an_enqueue_login_sees_only_its_own_tasks_in_the_cli(conn: psycopg.Connection, login: Login) -> None:
    alice, bob, monitor = login("swarm_enqueue"), login("swarm_enqueue"), login("swarm_monitor")
    tenants(conn, True)
    mine = int(run_pgswarm("add", "echo alice-task", env={"PGSWARM_DSN": alice}).ok().stdout)
    theirs = int(run_pgswarm("add", "echo bob-task", env={"PGSWARM_DSN": bob}).ok().stdout)
    listing = run_pgswarm("ls", "--json", env={"PGSWARM_DSN": alice}).ok().stdout
    assert "alice-task" in listing and "bob-task" not in listing
    assert_user_error(run_pgswarm("show", str(theirs), env={"PGSWARM_DSN": alice}), f"task {theirs}")
    assert_user_error(run_pgswarm("cancel", str(theirs), env={"PGSWARM_DSN": alice}), f"{theirs}")
    assert_user_error(run_pgswarm("add", "x", "--after", str(theirs), env={"PGSWARM_DSN": alice}), f"{theirs}")
    assert run_pgswarm("cancel", "--status", "pending", "--yes", env={"PGSWARM_DSN": alice}).ok().stdout.strip() \
        == f"task {mine}: cancelled"
    assert conn.execute("select status from swarm.agent_tasks where id = %s", (theirs,)).fetchone()[0] == "pending"
    everything = run_pgswarm("ls", "--all", "--json", env={"PGSWARM_DSN": monitor}).ok().stdout
    assert "alice-task" in everything and "bob-task" in everything


def test_on_the_definer_functions_apply_the_rule(conn: psycopg.Connection, login: Login) -> None:
    alice, bob = login("swarm_enqueue"), login("swarm_enqueue")
    tenants(conn, True)
    with connect(alice) as a, connect(bob) as b:
        theirs = b.execute("select swarm.enqueue('bob''s', key => 'bob-key')").fetchone()[0]
        b.execute("select swarm.cancel_task(%s)", (theirs,))
        for call in ("select swarm.watch_task(%s)", "select swarm.cancel_task(%s)", "select swarm.retry_task(%s)"):
            with pytest.raises(psycopg.Error) as refused:
                a.execute(call, (theirs,))
            assert refused.value.sqlstate == "SW002", call
        assert a.execute("select count(*) from swarm.retry_tasks(%s)", ([theirs],)).fetchone()[0] == 0
        with pytest.raises(psycopg.Error) as taken:
            a.execute("select swarm.enqueue('mine', key => 'bob-key')")
        assert taken.value.sqlstate == "SW005" and "taken by another login" in str(taken.value)
        assert a.execute("select count(*) from swarm.task_events").fetchone()[0] == 0
        conn.execute("select swarm.archive('0 seconds')")
        assert a.execute("select count(*) from swarm.agent_tasks_archive").fetchone()[0] == 0
        assert b.execute("select count(*) from swarm.agent_tasks_archive").fetchone()[0] == 1


def test_an_agents_follow_ups_belong_to_whoever_created_its_task(conn: psycopg.Connection, login: Login) -> None:
    alice, worker, agent = login("swarm_enqueue"), login("swarm_worker"), login("swarm_agent")
    tenants(conn, True)
    with connect(alice) as a:
        parent = a.execute("select swarm.enqueue('plan the work', agent => 'claude')").fetchone()[0]
    with connect(worker) as w:
        w.execute("select swarm.register_worker('w1', 'h', 1, null, null, 1)")
        w.execute("select swarm.register_agent_key('w1', %s)", (os.urandom(32),))
        w.execute("select swarm.claim_task('w1', agents => '{claude}')")
    [token] = conn.execute("select swarm._agent_token(k.key, t.id, t.attempts, t.started_at) from swarm.agent_tasks "
                           "as t join swarm.agent_keys as k on k.worker = t.worker where t.id = %s", (parent,)).fetchone()
    with connect(agent) as g:
        [child] = g.execute("select id from swarm.agent_enqueue(%s, %s, %s)",
                            (parent, token, '[{"prompt": "do part one", "agent": "claude"}]')).fetchone()
    with connect(alice) as a:
        assert a.execute("select prompt, parent_id, created_by from swarm.agent_tasks where id = %s",
                         (child,)).fetchone() == ("do part one", parent, alice.split("://")[1].split("@")[0])


def test_on_a_login_reads_and_runs_only_its_own_schedules(conn: psycopg.Connection, login: Login) -> None:
    alice, bob = login("swarm_enqueue"), login("swarm_enqueue")
    with connect(alice) as a:
        a.execute("insert into swarm.schedules (name, cron, prompt) values ('alice-nightly', '0 3 * * *', 'secret')")
    with connect(bob) as b:
        assert b.execute("select count(*) from swarm.schedules").fetchone()[0] == 1  # off: shared
        tenants(conn, True)
        assert b.execute("select count(*) from swarm.schedules").fetchone()[0] == 0
        with pytest.raises(psycopg.Error) as unknown:
            b.execute("select swarm.run_schedule('alice-nightly')")
        assert unknown.value.sqlstate == "SW005" and "unknown schedule" in str(unknown.value)
    with connect(alice) as a:
        assert a.execute("select swarm.run_schedule('alice-nightly')").fetchone()[0] > 0


def test_pgswarm_migrate_turns_tenants_on_and_off(conn: psycopg.Connection, dsn: str) -> None:
    on = run_pgswarm("migrate", "--tenants", env={"PGSWARM_DSN": dsn}).ok()
    assert "tenants: on" in on.stdout
    assert conn.execute("select tenant_isolation from swarm.settings").fetchone()[0] is True
    run_pgswarm("migrate", env={"PGSWARM_DSN": dsn}).ok()  # remembered
    assert conn.execute("select tenant_isolation from swarm.settings").fetchone()[0] is True
    assert "tenants: off" in run_pgswarm("migrate", "--no-tenants", env={"PGSWARM_DSN": dsn}).ok().stdout
    assert conn.execute("select tenant_isolation from swarm.settings").fetchone()[0] is False
