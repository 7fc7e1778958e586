"""Schedules (swarm.schedules, swarm.fire_schedules): a plain INSERT, refusals, each slot once,
the catch-up policies, DST through firing, and who may do what."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.helpers.logins import Logins
from tests.helpers.swarm import SwarmClient

UTC = timezone.utc


@pytest.fixture(autouse=True)
def test_clock(conn: psycopg.Connection) -> None:
    """These tests move the engine's clock (swarm.now) in their session."""
    conn.execute("update swarm.settings set test_clock = true")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(conn: psycopg.Connection, name: str) -> dict:
    row = conn.cursor(row_factory=dict_row).execute("select * from swarm.schedules where name = %s", (name,)).fetchone()
    assert row is not None, name
    return row


def fire(conn: psycopg.Connection) -> int:
    return conn.execute("select swarm.fire_schedules()").fetchone()[0]


def tasks_of(conn: psycopg.Connection, name: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "select * from swarm.agent_tasks where metadata->>'schedule' = %s order by id", (name,)).fetchall()


def slots_of(conn: psycopg.Connection, name: str) -> list[str]:
    return [t["metadata"]["slot"] for t in tasks_of(conn, name)]


def insert_sql(columns: dict) -> str:
    return f"insert into swarm.schedules ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"


def refused(conn: psycopg.Connection, sql: str, params: object = None) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    return info.value


# -- a plain INSERT ---------------------------------------------------------------------------------

def test_a_plain_insert_takes_every_default_and_sets_next_fire_at(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 10:00:30+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt, agent) values ('tick', '* * * * *', 'echo tick', 'shell')")
    row = schedule(conn, "tick")
    assert row["next_fire_at"] == at("2030-01-01 10:01")
    assert (row["timezone"], row["enabled"], row["catch_up"]) == ("UTC", True, "latest")
    assert (row["queue"], row["priority"], row["args"], row["tags"], row["metadata"]) == ("default", 0, {}, [], {})
    # timeout_seconds null: the profile's, else 30 minutes, at claim time (migration 0017)
    assert (row["max_attempts"], row["timeout_seconds"], row["concurrency_key"]) == (3, None, None)
    assert (row["last_fired_at"], row["last_task_id"], row["last_error"]) == (None, None, None)
    assert row["created_by"] == conn.execute("select current_user").fetchone()[0]
    assert row["created_at"] == at("2030-01-01 10:00:30")


def test_left_out_the_agent_is_the_databases_default_agent(conn) -> None:
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('a', '@daily', 'x')")
    conn.execute("update swarm.settings set default_agent = 'claude'")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('b', '@daily', 'x')")
    assert (schedule(conn, "a")["agent"], schedule(conn, "b")["agent"]) == ("shell", "claude")


@pytest.mark.parametrize("column, value, message", [
    ("cron", "* * * *", "cron '* * * *': has 4 fields, not 5"),
    ("cron", "61 * * * *", "cron '61 * * * *': minute 61 is out of range 0-59"),
    ("cron", "0 0 30 2 *", "cron '0 0 30 2 *': never fires"),
    ("cron", None, "cron NULL: empty"),
    ("timezone", "Mars/Olympus", "timezone 'Mars/Olympus' is not the name of a time zone"),
    ("timezone", "+05", "timezone '+05' is not the name of a time zone"),
])
def test_an_invalid_cron_or_timezone_is_refused_at_insert_and_update_naming_the_field(
        conn, column: str, value: str | None, message: str) -> None:
    columns = {"name": "bad", "cron": "@daily", "prompt": "x", column: value}
    error = refused(conn, insert_sql(columns), list(columns.values()))
    assert error.sqlstate == "SW005" and error.diag.message_primary.startswith(message), error
    assert conn.execute("select count(*) from swarm.schedules").fetchone()[0] == 0

    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('good', '0 9 * * *', 'x')")
    before = schedule(conn, "good")
    error = refused(conn, f"update swarm.schedules set {column} = %s where name = 'good'", (value,))
    assert error.sqlstate == "SW005" and error.diag.message_primary.startswith(message)
    assert schedule(conn, "good") == before


@pytest.mark.parametrize("column, value, sqlstate, message", [
    ("name", "two words", "SW005", "schedule name 'two words' must be"),
    ("name", "", "SW005", "schedule name '' must be"),
    ("agent", "claud", "SW001", "unknown agent 'claud'"),
    ("prompt", None, "SW005", "prompt of schedule"),
    ("priority", 5000, "SW005", "priority 5000 is out of range"),
    ("max_attempts", 0, "SW005", "max_attempts 0 must be at least 1"),
    ("timeout_seconds", 0, "SW005", "timeout_seconds 0 must be positive"),
    ("queue", "", "SW005", "queue is empty"),
    ("args", "[1]", "SW005", "args must be a JSON object"),
    ("metadata", "[1]", "SW005", "metadata must be a JSON object"),
    ("catch_up", "sometimes", "SW005", "catch_up 'sometimes' must be 'latest', 'all' or 'none'"),
])
def test_a_template_a_task_would_refuse_is_refused_at_insert(conn, column: str, value: object, sqlstate: str,
                                                             message: str) -> None:
    columns = {"name": "s", "cron": "@daily", "prompt": "x", column: value}
    error = refused(conn, insert_sql(columns), list(columns.values()))
    assert error.sqlstate == sqlstate and message in error.diag.message_primary, error
    assert conn.execute("select count(*) from swarm.schedules").fetchone()[0] == 0


# -- firing -----------------------------------------------------------------------------------------

def test_a_due_slot_enqueues_one_task_from_the_template_and_moves_next_fire_at(conn, swarm: SwarmClient,
                                                                                dsn: str) -> None:
    swarm.set_now("2030-01-01 08:59:00+00")
    conn.execute("""insert into swarm.schedules (name, cron, prompt, agent, args, queue, priority, tags, metadata,
                                                 timeout_seconds, max_attempts, concurrency_key)
                    values ('report', '0 9 * * *', 'write the report', 'claude', '{"model": "sonnet"}', 'reports',
                            5, '{daily}', '{"team": "infra"}', 600, 2, 'reports')""")
    assert fire(conn) == 0
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen swarm_ready")
        swarm.set_now("2030-01-01 09:00:02+00")
        assert fire(conn) == 1
        assert [n.payload for n in listener.notifies(timeout=2, stop_after=1)] == ["claude"]
    assert fire(conn) == 0
    [task] = tasks_of(conn, "report")
    assert task["key"] == "schedule:report:2030-01-01T09:00:00Z"
    assert task["metadata"] == {"team": "infra", "schedule": "report", "slot": "2030-01-01T09:00:00Z"}
    assert (task["prompt"], task["agent"], task["args"], task["queue"], task["priority"], task["tags"]) == (
        "write the report", "claude", {"model": "sonnet"}, "reports", 5, ["daily"])
    assert (task["timeout_seconds"], task["max_attempts"], task["concurrency_key"]) == (600, 2, "reports")
    assert task["status"] == "pending" and task["run_after"] == at("2030-01-01 09:00:02")
    row = schedule(conn, "report")
    assert row["next_fire_at"] == at("2030-01-02 09:00")
    assert (row["last_fired_at"], row["last_task_id"]) == (at("2030-01-01 09:00"), task["id"])


def test_with_nobody_calling_nothing_fires(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('tick', '* * * * *', 'x')")
    swarm.set_now("2030-01-01 05:00:00+00")
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0
    assert schedule(conn, "tick")["next_fire_at"] == at("2030-01-01 00:01")


def test_a_paused_schedule_does_not_fire_and_resumes_from_its_next_slot(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('tick', '*/10 * * * *', 'x')")
    conn.execute("update swarm.schedules set enabled = false where name = 'tick'")
    assert schedule(conn, "tick")["next_fire_at"] is None
    swarm.set_now("2030-01-01 03:05:00+00")
    assert fire(conn) == 0
    conn.execute("update swarm.schedules set enabled = true where name = 'tick'")
    assert schedule(conn, "tick")["next_fire_at"] == at("2030-01-01 03:10")  # the slots passed while paused are not made up
    assert conn.execute("select swarm.next_schedule_at()").fetchone()[0] == at("2030-01-01 03:10")


def test_changing_cron_or_timezone_recomputes_next_fire_at_and_other_changes_keep_a_due_slot(
        conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('s', '0 12 * * *', 'x')")
    swarm.set_now("2030-01-01 12:00:30+00")  # due, not fired yet
    conn.execute("update swarm.schedules set prompt = 'y', enabled = true where name = 's'")
    assert schedule(conn, "s")["next_fire_at"] == at("2030-01-01 12:00")
    assert fire(conn) == 1 and tasks_of(conn, "s")[0]["prompt"] == "y"
    conn.execute("update swarm.schedules set timezone = 'Asia/Tokyo' where name = 's'")
    assert schedule(conn, "s")["next_fire_at"] == at("2030-01-02 03:00")
    conn.execute("update swarm.schedules set cron = '30 * * * *' where name = 's'")
    assert schedule(conn, "s")["next_fire_at"] == at("2030-01-01 12:30")


def test_a_slot_whose_task_exists_is_not_enqueued_twice(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('s', '0 * * * *', 'x')")
    conn.execute("insert into swarm.agent_tasks (prompt, key, metadata) "
                 "values ('x', 'schedule:s:2030-01-01T01:00:00Z', '{\"schedule\": \"s\"}')")
    swarm.set_now("2030-01-01 01:00:00+00")
    assert fire(conn) == 0
    assert len(tasks_of(conn, "s")) == 1 and schedule(conn, "s")["next_fire_at"] == at("2030-01-01 02:00")


# -- catch-up after downtime: */10 created at 00:00:30, nobody calls until 01:05 (six slots missed) --

def downtime(conn: psycopg.Connection, swarm: SwarmClient, catch_up: str, until: str) -> int:
    swarm.set_now("2030-01-01 00:00:30+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt, catch_up) values ('s', '*/10 * * * *', 'x', %s)",
                 (catch_up,))
    swarm.set_now(until)
    return fire(conn)


def test_catch_up_latest_enqueues_the_latest_missed_slot_once(conn, swarm: SwarmClient) -> None:
    assert downtime(conn, swarm, "latest", "2030-01-01 01:05:00+00") == 1
    [task] = tasks_of(conn, "s")
    assert task["metadata"]["slot"] == "2030-01-01T01:00:00Z"
    assert task["metadata"]["missed_since"] == "2030-01-01T00:10:00Z"
    assert schedule(conn, "s")["next_fire_at"] == at("2030-01-01 01:10")
    assert fire(conn) == 0


def test_catch_up_all_enqueues_every_missed_slot_in_order(conn, swarm: SwarmClient) -> None:
    assert downtime(conn, swarm, "all", "2030-01-01 01:05:00+00") == 6
    assert slots_of(conn, "s") == [f"2030-01-01T{h:02d}:{m:02d}:00Z" for h, m in
                                   ((0, 10), (0, 20), (0, 30), (0, 40), (0, 50), (1, 0))]
    assert schedule(conn, "s")["next_fire_at"] == at("2030-01-01 01:10")
    assert fire(conn) == 0


def test_catch_up_all_spreads_a_long_backlog_over_calls(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt, catch_up) values ('s', '* * * * *', 'x', 'all')")
    swarm.set_now("2030-01-01 04:10:30+00")  # 250 minutes: 250 slots
    assert [fire(conn) for _ in range(4)] == [100, 100, 50, 0]
    start = at("2030-01-01 00:01")
    assert slots_of(conn, "s") == [(start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(250)]


def test_catch_up_none_drops_missed_slots_and_fires_an_on_time_one(conn, swarm: SwarmClient) -> None:
    assert downtime(conn, swarm, "none", "2030-01-01 01:05:00+00") == 0
    assert tasks_of(conn, "s") == [] and schedule(conn, "s")["next_fire_at"] == at("2030-01-01 01:10")
    swarm.set_now("2030-01-01 01:10:59+00")  # 59 s late: on time
    assert fire(conn) == 1 and slots_of(conn, "s") == ["2030-01-01T01:10:00Z"]


def test_catch_up_none_after_downtime_fires_the_latest_slot_only_when_on_time(conn, swarm: SwarmClient) -> None:
    assert downtime(conn, swarm, "none", "2030-01-01 01:00:20+00") == 1
    assert slots_of(conn, "s") == ["2030-01-01T01:00:00Z"]
    assert "missed_since" in tasks_of(conn, "s")[0]["metadata"]


def test_catch_up_latest_after_a_month_of_downtime(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('s', '* * * * *', 'x')")
    swarm.set_now("2030-02-01 12:34:56+00")
    assert fire(conn) == 1
    assert slots_of(conn, "s") == ["2030-02-01T12:34:00Z"]
    assert schedule(conn, "s")["next_fire_at"] == at("2030-02-01 12:35")


# -- DST, through firing ----------------------------------------------------------------------------

def walk(conn: psycopg.Connection, swarm: SwarmClient, start: str, hours: int, step_minutes: int = 5) -> None:
    """Call fire_schedules every few minutes of the test clock, as workers would."""
    begin = at(start)
    for i in range(hours * 60 // step_minutes + 1):
        swarm.set_now((begin + timedelta(minutes=i * step_minutes)).isoformat())
        fire(conn)


def test_spring_forward_a_0230_job_runs_once_and_an_hourly_job_keeps_its_rhythm(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2024-03-09 12:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt, timezone) values "
                 "('daily', '30 2 * * *', 'x', 'America/New_York'), ('hourly', '30 * * * *', 'x', 'America/New_York')")
    walk(conn, swarm, "2024-03-09 12:00", hours=48)
    assert slots_of(conn, "daily") == ["2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"]  # 03:00 EDT, then 02:30 EDT
    hourly = slots_of(conn, "hourly")
    assert "2024-03-10T06:30:00Z" in hourly and "2024-03-10T07:30:00Z" in hourly  # 01:30 EST, 03:30 EDT
    assert len(hourly) == len(set(hourly)) == 48  # one an hour, in real time


def test_fall_back_a_0130_job_runs_once_and_an_hourly_job_runs_in_both_passes(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2024-10-26 12:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt, timezone) values "
                 "('daily', '30 2 * * *', 'x', 'Europe/Berlin'), ('hourly', '30 * * * *', 'x', 'Europe/Berlin')")
    walk(conn, swarm, "2024-10-26 12:00", hours=48)
    assert slots_of(conn, "daily") == ["2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]  # 02:30 CEST once, then CET
    hourly = slots_of(conn, "hourly")
    assert "2024-10-27T00:30:00Z" in hourly and "2024-10-27T01:30:00Z" in hourly  # 02:30 CEST and 02:30 CET
    assert len(hourly) == len(set(hourly)) == 48  # one an hour, in real time


# -- a schedule that cannot fire does not stop the others ---------------------------------------------

def test_a_slot_whose_task_is_refused_is_skipped_and_the_other_schedules_fire(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('bad', '0 * * * *', 'x'), "
                 "('good', '0 * * * *', 'x')")
    # A template that no longer passes the task INSERT checks (written with the triggers off).
    conn.execute("set session_replication_role = replica")
    conn.execute("update swarm.schedules set priority = 5000 where name = 'bad'")
    conn.execute("reset session_replication_role")
    swarm.set_now("2030-01-01 01:00:10+00")
    assert fire(conn) == 1
    assert slots_of(conn, "good") == ["2030-01-01T01:00:00Z"] and tasks_of(conn, "bad") == []
    bad = schedule(conn, "bad")
    assert bad["last_error"] == "2030-01-01T01:00:00Z: priority 5000 is out of range -1000..1000"
    assert bad["next_fire_at"] == at("2030-01-01 02:00")
    conn.execute("update swarm.schedules set priority = 10 where name = 'bad'")
    swarm.set_now("2030-01-01 02:00:10+00")
    assert fire(conn) == 2
    assert schedule(conn, "bad")["last_error"] is None and tasks_of(conn, "bad")[0]["priority"] == 10


# -- run now ----------------------------------------------------------------------------------------

def test_run_schedule_enqueues_now_and_leaves_the_slots_alone(conn, swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 00:00:00+00")
    conn.execute("insert into swarm.schedules (name, cron, prompt, agent) values ('s', '@daily', 'x', 'codex')")
    swarm.set_now("2030-01-01 07:08:09+00")
    first = conn.execute("select swarm.run_schedule('s')").fetchone()[0]
    second = conn.execute("select swarm.run_schedule(name => 's')").fetchone()[0]
    assert first != second
    task = swarm.task(first)
    assert task["metadata"] == {"schedule": "s", "slot": "2030-01-01T07:08:09Z", "manual": True}
    assert task["key"] is None and task["agent"] == "codex" and task["status"] == "pending"
    assert schedule(conn, "s")["next_fire_at"] == at("2030-01-02 00:00")
    error = refused(conn, "select swarm.run_schedule('nope')")
    assert error.sqlstate == "SW005" and error.diag.message_primary == "unknown schedule 'nope'"


# -- who may do what --------------------------------------------------------------------------------

@pytest.fixture
def as_role(logins: Logins) -> Callable[..., psycopg.Connection]:
    """as_role(role, name=None) -> an autocommit connection of a new login granted only that role."""
    return logins.connect


def denied(c: psycopg.Connection, sql: str) -> psycopg.Error:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
        c.execute(sql)
    return info.value


def test_enqueue_logins_create_schedules_and_change_only_their_own(conn, as_role) -> None:
    with as_role("swarm_enqueue", "alice") as alice, as_role("swarm_enqueue", "bob") as bob:
        alice.execute("insert into swarm.schedules (name, cron, prompt) values ('alices', '@daily', 'x')")
        assert schedule(conn, "alices")["created_by"] == "alice"
        alice.execute("update swarm.schedules set cron = '@hourly', enabled = false where name = 'alices'")
        bob.execute("insert into swarm.schedules (name, cron, prompt) values ('bobs', '@daily', 'x')")
        assert bob.execute("select count(*) from swarm.schedules").fetchone()[0] == 2  # reads all

        error = denied(bob, "update swarm.schedules set prompt = 'rm -rf /' where name = 'alices'")
        assert error.diag.message_primary == "schedule 'alices' belongs to alice; bob may not change it"
        error = denied(bob, "delete from swarm.schedules where name = 'alices'")
        assert error.diag.message_primary == "schedule 'alices' belongs to alice; bob may not drop it"
        assert schedule(conn, "alices")["prompt"] == "x"
        # What the database keeps is not theirs to set.
        denied(alice, "update swarm.schedules set next_fire_at = now() where name = 'alices'")
        denied(alice, "update swarm.schedules set created_by = 'bob' where name = 'alices'")
        denied(alice, "insert into swarm.schedules (name, cron, prompt, created_by) values ('x', '@daily', 'x', 'bob')")
        # Running a schedule now only enqueues a task, which any enqueue login may do.
        task_id = bob.execute("select swarm.run_schedule('alices')").fetchone()[0]
        assert conn.execute("select agent from swarm.agent_tasks where id = %s", (task_id,)).fetchone()[0] == "shell"
        assert bob.execute("select swarm.cron_next('@daily', now(), 'Europe/Berlin')").fetchone()[0] is not None
        denied(bob, "select swarm.fire_schedules()")
        alice.execute("delete from swarm.schedules where name = 'alices'")
    # The schema owner may change and drop anyone's.
    conn.execute("update swarm.schedules set enabled = false where name = 'bobs'")
    conn.execute("delete from swarm.schedules where name = 'bobs'")


def test_worker_logins_fire_schedules_and_nothing_else_on_them(conn, swarm: SwarmClient, as_role) -> None:
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('s', '* * * * *', 'x')")
    conn.execute("update swarm.schedules set next_fire_at = now() - interval '1 second'")
    with as_role("swarm_worker") as worker:
        assert worker.execute("select swarm.fire_schedules()").fetchone()[0] == 1
        assert worker.execute("select swarm.next_schedule_at()").fetchone()[0] > datetime.now(UTC)
        assert worker.execute("select swarm.cron_next('@daily')").fetchone()[0] is not None
        denied(worker, "select * from swarm.schedules")
        denied(worker, "insert into swarm.schedules (name, cron, prompt) values ('w', '@daily', 'x')")
        denied(worker, "select swarm.run_schedule('s')")


def test_monitor_logins_see_no_schedule(conn, as_role) -> None:
    with as_role("swarm_monitor") as monitor:
        denied(monitor, "select * from swarm.schedules")
        denied(monitor, "select swarm.fire_schedules()")
        assert monitor.execute("select swarm.cron_next('@daily')").fetchone()[0] is not None


def test_metadata_is_json_for_every_client(conn) -> None:
    """metadata keys a client can filter on: schedule and slot (jsonb, as every task's metadata)."""
    conn.execute("insert into swarm.schedules (name, cron, prompt, metadata) values ('s', '@daily', 'x', %s)",
                 (json.dumps({"schedule": "spoofed"}),))
    conn.execute("update swarm.schedules set next_fire_at = now() - interval '1 second'")
    fire(conn)
    assert tasks_of(conn, "s")[0]["metadata"]["schedule"] == "s"  # the engine's keys win
