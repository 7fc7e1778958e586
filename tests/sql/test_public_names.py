"""INSERT INTO agent_tasks, unqualified, as the seeds wrote it: a login granted swarm_enqueue after
`pgswarm migrate`, with the default search_path, as on swarm.agent_tasks (PostgreSQL 15 and 18)."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from pgswarm.client.migrate import migrate
from tests.helpers.logins import Logins
from tests.helpers.workers import Workers, wait_for, wait_status


@pytest.fixture
def enqueuer(logins: Logins) -> psycopg.Connection:
    """A login that holds swarm_enqueue and nothing else, connecting with a plain DSN."""
    login = logins.connect("swarm_enqueue", "seed_app")
    assert login.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[0] is False
    return login


def test_the_seeds_insert_works_unqualified_with_defaults_events_and_a_wake_up(conn: psycopg.Connection,
                                                                            enqueuer: psycopg.Connection) -> None:
    conn.execute("listen swarm_ready")
    task_id = enqueuer.execute("INSERT INTO agent_tasks (prompt) VALUES ('echo hello') RETURNING id").fetchone()[0]
    row = conn.execute("select agent, queue, priority, status, max_attempts, timeout_seconds, created_at is not null "
                       "from swarm.agent_tasks where id = %s", (task_id,)).fetchone()
    # timeout_seconds null: the worker applies the profile's timeout, else 30 minutes (migration 0017).
    assert row == ("shell", "default", 0, "pending", 3, None, True)
    assert [n.payload for n in conn.notifies(timeout=10, stop_after=1)] == ["shell"]
    assert conn.execute("select event from swarm.task_events where task_id = %s", (task_id,)).fetchall() == \
        [("created",)]
    # Reading, and the agent_tasks a psql user sees, are the table itself.
    assert enqueuer.execute("select id, prompt from agent_tasks").fetchall() == [(task_id, "echo hello")]


def test_on_conflict_key_do_nothing_dedups_through_the_unqualified_name(conn: psycopg.Connection,
                                                                        enqueuer: psycopg.Connection) -> None:
    sql = ("insert into agent_tasks (agent, prompt, key) values ('claude', 'Fix the flaky test', 'fix-flaky') "
           "on conflict (key) do nothing returning id")
    first = enqueuer.execute(sql).fetchall()
    assert len(first) == 1 and enqueuer.execute(sql).fetchall() == []
    assert conn.execute("select count(*) from swarm.agent_tasks where key = 'fix-flaky'").fetchone()[0] == 1


@pytest.mark.parametrize("sql, sqlstate", [
    ("insert into agent_tasks (prompt, agent) values ('x', 'claud')", "SW001"),
    ("insert into agent_tasks (prompt, priority) values ('x', 5000)", "SW005"),
    ("insert into agent_tasks (prompt, depends_on) values ('x', '{424242}')", "SW004"),
    ("insert into agent_tasks (prompt) values (null)", "SW005"),
    ("insert into agent_tasks (prompt, status) values ('x', 'completed')", "42501"),
    ("update agent_tasks set priority = 5", "42501"),
    ("delete from agent_tasks", "42501"),
])
def test_every_check_applies_through_the_unqualified_name(conn: psycopg.Connection, enqueuer: psycopg.Connection,
                                                          sql: str, sqlstate: str) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) values ('already there')")
    with pytest.raises(psycopg.Error) as raised:
        enqueuer.execute(sql)
    assert raised.value.sqlstate == sqlstate
    assert conn.execute("select count(*), min(priority), max(priority) from swarm.agent_tasks").fetchone() == (1, 0, 0)


def test_the_default_agent_of_a_bare_insert_is_the_owners_setting(conn: psycopg.Connection,
                                                                 enqueuer: psycopg.Connection) -> None:
    conn.execute("update swarm.settings set default_agent = 'claude'")
    assert enqueuer.execute("insert into agent_tasks (prompt) values ('Summarise the incident') "
                            "returning agent").fetchone()[0] == "claude"
    assert enqueuer.execute("select swarm.enqueue('and another')").fetchone()[0] > 0
    assert conn.execute("select array_agg(agent order by id) from swarm.agent_tasks").fetchone()[0] == \
        ["claude", "claude"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # the owner's setting, not the login's
        enqueuer.execute("update swarm.settings set default_agent = 'shell'")


def test_a_worker_is_woken_by_the_unqualified_insert(dsn: str, conn: psycopg.Connection,
                                                      enqueuer: psycopg.Connection, tmp_path: Path) -> None:
    workers = Workers(dsn, tmp_path)
    try:
        # Polling once a minute: only the NOTIFY can start the task within the time below.
        workers.start("--poll-interval", "60")
        warm_up = conn.execute("insert into swarm.agent_tasks (prompt) values ('echo ready') "
                               "returning id").fetchone()[0]
        wait_status(dsn, warm_up, "completed", workers=workers)
        wait_for(lambda: conn.execute("select count(*) from pg_stat_activity where application_name like "
                                      "'pgswarm-worker%%' and state = 'idle'").fetchone()[0] > 0, 30,
                 "the worker to wait for work", diagnostics=workers.logs)
        task_id = enqueuer.execute("insert into agent_tasks (prompt) values ('echo woken') returning id").fetchone()[0]
        row = wait_status(dsn, task_id, "completed", timeout=20, workers=workers)
        assert "woken" in row["output_tail"]
    finally:
        workers.stop_all()


def test_the_operator_turns_the_unqualified_name_off_and_it_stays_off(dsn: str, conn: psycopg.Connection) -> None:
    result = migrate(dsn, public_names=False)
    assert result.public_names is False
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("insert into agent_tasks (prompt) values ('x')")
    assert migrate(dsn).public_names is False  # remembered
    assert conn.execute("select to_regclass('public.agent_tasks')").fetchone()[0] is None
    assert migrate(dsn, public_names=True).public_names is True
    conn.execute("insert into agent_tasks (prompt) values ('back on')")


def test_a_table_of_the_same_name_that_is_not_pgswarms_is_left_alone(dsn: str, conn: psycopg.Connection) -> None:
    migrate(dsn, public_names=False)
    conn.execute("create table public.agent_tasks (id serial primary key, prompt text)")
    result = migrate(dsn, public_names=True)
    assert result.public_names is False
    assert any("public.agent_tasks exists and is not pgswarm's view" in w for w in result.warnings)
    conn.execute("insert into agent_tasks (prompt) values ('mine')")
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0
    assert migrate(dsn, public_names=False).warnings == ()  # off: nothing to warn about


def test_the_view_follows_new_columns_of_the_table(dsn: str, conn: psycopg.Connection) -> None:
    """A later migration that adds a column: the next migrate's view has it."""
    conn.execute("alter table swarm.agent_tasks add column reviewer text")
    migrate(dsn)
    conn.execute("insert into agent_tasks (prompt, reviewer) values ('x', 'ana')")
    assert conn.execute("select reviewer from agent_tasks").fetchone()[0] == "ana"
