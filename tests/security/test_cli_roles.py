"""Every CLI command works for a login holding just the role it needs (issue 16, defect 9): the
rest of the suite runs as a superuser, which hides missing grants."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.cli.conftest import Result, run_pgswarm
from tests.helpers.workers import Workers, wait_status

from .conftest import Login, login_name


def as_login(dsn: str, *args: str) -> Result:
    result = run_pgswarm(*args, env={"PGSWARM_DSN": dsn})
    assert result.returncode == 0, f"pgswarm {' '.join(args)} as {login_name(dsn)} -> {result.returncode}\n" \
                                   f"{result.stderr}"
    return result


def test_an_enqueue_login_adds_lists_shows_cancels_and_retries(conn: psycopg.Connection, login: Login,
                                                                 tmp_path: Path) -> None:
    app = login("swarm_enqueue")
    parent = int(as_login(app, "add", "echo parent").stdout)
    child = int(as_login(app, "add", "echo child", "--parent", str(parent), "--after", str(parent)).stdout)
    conn.execute("select swarm.cancel_task(%s)", (parent,))
    conn.execute("select swarm.archive('0 seconds')")  # the parent is archived: still a valid --parent
    third = int(as_login(app, "add", "echo third", "--parent", str(parent)).stdout)
    assert str(third) in as_login(app, "ls").stdout
    as_login(app, "ls", "--all")
    assert "echo child" in as_login(app, "show", str(child)).stdout
    assert "archived" in as_login(app, "show", str(parent)).stdout
    as_login(app, "logs", str(third))
    assert as_login(app, "cancel", str(third)).stdout.strip() == f"task {third}: cancelled"
    assert as_login(app, "retry", str(third)).stdout.strip() == f"task {third}: pending"
    as_login(app, "cancel", "--status", "pending", "--yes")
    as_login(app, "retry", "--status", "cancelled", "--yes")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("steps:\n  a: {prompt: one}\n  b: {prompt: two, after: [a]}\n")
    assert len(json.loads(as_login(app, "add", "--file", str(pipeline), "--json").stdout)) == 2
    as_login(app, "export", "--no-events")
    as_login(app, "schedule", "add", "nightly", "0 3 * * *", "echo nightly")
    assert "nightly" in as_login(app, "schedule", "ls").stdout


def test_a_monitor_login_lists_shows_and_watches(conn: psycopg.Connection, login: Login, swarm) -> None:
    task_id = swarm.make_task("echo watched")
    swarm.claim("w1")
    done = swarm.make_task("echo done")
    swarm.cancel(done)
    swarm.archive("0 seconds")
    monitor = login("swarm_monitor")
    assert str(task_id) in as_login(monitor, "ls").stdout
    assert "echo watched" in as_login(monitor, "show", str(task_id)).stdout
    assert "archived" in as_login(monitor, "show", str(done)).stdout
    as_login(monitor, "logs", str(task_id))
    assert "running" in as_login(monitor, "stats").stdout
    assert "echo watched" in as_login(monitor, "top", "--once").stdout
    as_login(monitor, "agents")
    as_login(monitor, "export")


def test_a_worker_login_runs_tasks_and_enqueues_follow_ups(conn: psycopg.Connection, login: Login, swarm,
                                                             tmp_path: Path) -> None:
    worker_dsn = login("swarm_worker")
    task_id = swarm.make_task("echo from a least-privileged worker")
    workers = Workers(worker_dsn, tmp_path)
    try:
        workers.start()
        row = wait_status(worker_dsn, task_id, "completed", workers=workers)
    finally:
        workers.stop_all()
    assert "least-privileged" in row["output_tail"]
    swarm.archive("0 seconds")
    follow_up = int(as_login(worker_dsn, "add", "echo follow-up", "--parent", str(task_id)).stdout)
    assert swarm.task(follow_up)["parent_id"] == task_id
