"""`pgswarm schedule add|ls|rm|pause|resume|run`, with --json, and its refusals."""
from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.cli.conftest import Cli, assert_user_error
from tests.helpers.swarm import SwarmClient


def schedule(conn: psycopg.Connection, name: str) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute("select * from swarm.schedules where name = %s",
                                                     (name,)).fetchone()


def test_add_stores_every_option_and_says_when_it_fires(cli: Cli, conn: psycopg.Connection) -> None:
    out = cli("schedule", "add", "nightly", "0 2 * * MON-FRI", "Summarise yesterday's errors", "--agent", "claude",
              "--tz", "Europe/Berlin", "--queue", "reports", "--arg", "model=sonnet", "--arg", "max_turns=5",
              "--catch-up", "all", "--priority", "7", "--timeout", "10m", "--max-attempts", "2",
              "--concurrency-key", "reports", "--tag", "daily", "--tag", "errors").ok().stdout
    row = schedule(conn, "nightly")
    assert row is not None
    assert (row["cron"], row["timezone"], row["prompt"], row["agent"], row["queue"]) == (
        "0 2 * * MON-FRI", "Europe/Berlin", "Summarise yesterday's errors", "claude", "reports")
    assert (row["args"], row["catch_up"], row["priority"], row["timeout_seconds"], row["max_attempts"]) == (
        {"model": "sonnet", "max_turns": 5}, "all", 7, 600, 2)
    assert (row["concurrency_key"], row["tags"], row["enabled"]) == ("reports", ["daily", "errors"], True)
    local = conn.execute("select to_char(next_fire_at at time zone 'Europe/Berlin', 'YYYY-MM-DD HH24:MI') "
                         "from swarm.schedules").fetchone()[0]
    assert out.strip() == (f"schedule nightly: 0 2 * * MON-FRI (Europe/Berlin), agent claude, queue reports; "
                           f"next: {local} Europe/Berlin")
    assert local.endswith(" 02:00")


def test_add_without_an_agent_uses_the_databases_default_and_says_which(cli: Cli, conn: psycopg.Connection) -> None:
    conn.execute("update swarm.settings set default_agent = 'codex'")
    out = cli("schedule", "add", "tick", "@hourly", "echo tick", "--json").ok().stdout
    row = json.loads(out)
    assert (row["name"], row["agent"], row["timezone"], row["catch_up"]) == ("tick", "codex", "UTC", "latest")
    assert row["next_fire_at"].endswith(":00:00+00:00")


def test_ls_lists_next_fire_times_and_json_has_every_column(cli: Cli, conn: psycopg.Connection) -> None:
    assert "no schedules" in cli("schedule", "ls").ok().stdout
    cli("schedule", "add", "a-daily", "@daily", "echo a", "--tz", "America/New_York").ok()
    cli("schedule", "add", "b-paused", "*/5 * * * *", "echo b", "--paused").ok()
    table = cli("schedule", "ls").ok().stdout
    lines = table.splitlines()
    assert lines[0].split()[:5] == ["name", "cron", "tz", "agent", "next"]
    assert lines[1].split()[:4] == ["a-daily", "@daily", "America/New_York", "shell"]
    assert "00:00 America/New_York" in lines[1]
    assert lines[2].split()[:6] == ["b-paused", "*/5", "*", "*", "*", "*"] and "paused" in lines[2]
    assert cli("schedule").ok().stdout == table  # no subcommand: the list
    rows = json.loads(cli("schedule", "ls", "--json").ok().stdout)
    assert [r["name"] for r in rows] == ["a-daily", "b-paused"]
    assert rows[1]["enabled"] is False and rows[1]["next_fire_at"] is None
    assert {"cron", "timezone", "prompt", "agent", "args", "catch_up", "next_fire_at", "last_fired_at",
            "last_task_id", "last_error", "created_by"} <= set(rows[0])


def test_pause_resume_run_and_rm(cli: Cli, conn: psycopg.Connection, swarm: SwarmClient) -> None:
    cli("schedule", "add", "tick", "@daily", "echo tick", "--agent", "shell").ok()
    assert cli("schedule", "pause", "tick").ok().stdout.strip() == "schedule tick paused"
    assert schedule(conn, "tick")["enabled"] is False
    out = cli("schedule", "resume", "tick").ok().stdout.strip()
    assert out.startswith("schedule tick resumed; next: ") and out.endswith(" 00:00 UTC")
    next_fire_at = schedule(conn, "tick")["next_fire_at"]
    task_id = int(cli("schedule", "run", "tick").ok().stdout)
    task = swarm.task(task_id)
    assert task["prompt"] == "echo tick" and task["metadata"]["schedule"] == "tick" and task["metadata"]["manual"]
    assert schedule(conn, "tick")["next_fire_at"] == next_fire_at
    assert json.loads(cli("schedule", "run", "tick", "--json").ok().stdout)["id"] == task_id + 1
    assert cli("schedule", "rm", "tick").ok().stdout.strip() == "schedule tick removed"
    assert schedule(conn, "tick") is None
    assert swarm.status(task_id) == "pending"  # what a schedule enqueued stays


@pytest.mark.parametrize("args, fragment", [
    (["schedule", "add", "x", "* * * *", "echo"], "cron '* * * *': has 4 fields, not 5"),
    (["schedule", "add", "x", "61 * * * *", "echo"], "cron '61 * * * *': minute 61 is out of range 0-59"),
    (["schedule", "add", "x", "@daily", "echo", "--tz", "Mars/Olympus"],
     "timezone 'Mars/Olympus' is not the name of a time zone"),
    (["schedule", "add", "x", "@daily", "echo", "--agent", "claud"], "unknown agent 'claud' (did you mean 'claude'?)"),
    (["schedule", "add", "x", "@daily", "echo", "--catch-up", "sometimes"], "catch_up 'sometimes' must be"),
    (["schedule", "add", "x", "@daily", "echo", "--priority", "5000"], "priority 5000 is out of range"),
    (["schedule", "add", "x y", "@daily", "echo"], "schedule name 'x y' must be"),
    (["schedule", "add", "x", "@daily", "echo", "--timeout", "soon"], "not a duration"),
    (["schedule", "add", "x", "@daily", "echo", "--arg", "novalue"], "KEY=VALUE"),
    (["schedule", "add", "x", "@daily"], "Missing argument"),
    (["schedule", "rm", "nightli"], "unknown schedule 'nightli' (did you mean 'nightly'?)"),
    (["schedule", "pause", "nope"], "unknown schedule 'nope'"),
    (["schedule", "resume", "nope"], "unknown schedule 'nope'"),
    (["schedule", "run", "nope"], "unknown schedule 'nope'"),
    (["schedule", "add", "nightly", "@daily", "echo"], "schedule 'nightly' already exists"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(cli: Cli, conn: psycopg.Connection, args: list[str],
                                                          fragment: str) -> None:
    cli("schedule", "add", "nightly", "@daily", "echo nightly").ok()
    before = conn.execute("select count(*), max(updated_at) from swarm.schedules").fetchone()
    assert_user_error(cli(*args), fragment)
    assert conn.execute("select count(*), max(updated_at) from swarm.schedules").fetchone() == before
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_another_logins_schedule_is_refused_in_one_line(cli: Cli, conn: psycopg.Connection, dsn: str) -> None:
    cli("schedule", "add", "owned", "@daily", "echo").ok()
    conn.execute("update swarm.schedules set created_by = 'someone_else'")
    conn.execute("create role schedule_cli_login login in role swarm_enqueue")
    try:
        as_login = {"PGSWARM_DSN": dsn.replace("postgres@", "schedule_cli_login@")}
        result = cli("schedule", "pause", "owned", env=as_login)
        assert_user_error(result, "schedule 'owned' belongs to someone_else; schedule_cli_login may not change it")
        assert schedule(conn, "owned")["enabled"] is True
        assert int(cli("schedule", "run", "owned", env=as_login).ok().stdout) > 0
    finally:
        conn.execute("drop owned by schedule_cli_login")
        conn.execute("drop role schedule_cli_login")
