"""agent_tasks.created_by: the login that inserted the task, written by the database only."""
from __future__ import annotations

import psycopg
import pytest

from .conftest import connect, login_name


def test_created_by_is_the_login_however_the_task_is_inserted(conn, login) -> None:
    alice = login("swarm_enqueue")
    with connect(alice) as c:
        plain = c.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
        unqualified = c.execute("insert into agent_tasks (prompt) values ('y') returning id").fetchone()[0]
        by_function = c.execute("select swarm.enqueue('z')").fetchone()[0]  # SECURITY DEFINER: still alice
        batch = c.execute("select (swarm.enqueue_many('[{\"prompt\": \"w\"}]'::jsonb)).id").fetchone()[0]
    rows = dict(conn.execute("select id, created_by from swarm.agent_tasks").fetchall())
    assert {rows[i] for i in (plain, unqualified, by_function, batch)} == {login_name(alice)}


def test_no_login_may_write_created_by(conn, login) -> None:
    with connect(login("swarm_enqueue")) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("insert into swarm.agent_tasks (prompt, created_by) values ('x', 'someone_else')")
        task_id = c.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("update swarm.agent_tasks set created_by = 'someone_else' where id = %s", (task_id,))
    # Not even the owner's own INSERT forges it: the insert trigger refuses, naming the column.
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("insert into swarm.agent_tasks (prompt, created_by) values ('x', 'someone_else')")
    assert refused.value.sqlstate == "SW005" and "created_by" in str(refused.value)
    assert conn.execute("select count(*) from swarm.agent_tasks where created_by = 'someone_else'").fetchone()[0] == 0


def test_created_by_is_kept_by_the_archive_and_shown(conn, swarm) -> None:
    task_id = swarm.make_task("x")
    assert swarm.task(task_id)["created_by"] == "postgres"
    swarm.cancel(task_id)
    swarm.archive("0 seconds")
    assert conn.execute("select created_by from swarm.agent_tasks_archive where id = %s",
                        (task_id,)).fetchone()[0] == "postgres"


def test_a_schedules_tasks_are_its_owners(conn, login) -> None:
    alice = login("swarm_enqueue")
    worker = login("swarm_worker")
    with connect(alice) as c:
        c.execute("insert into swarm.schedules (name, cron, prompt) values ('nightly', '* * * * *', 'echo hi')")
    conn.execute("update swarm.schedules set next_fire_at = now() - interval '1 second'")
    with connect(worker) as w:
        w.execute("select swarm.fire_schedules()")
    assert conn.execute("select created_by from swarm.agent_tasks").fetchall() == [(login_name(alice),)]
