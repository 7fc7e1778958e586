"""migrate, stats, top, doctor, export, archive, agents, systemd."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import Cli, assert_user_error, run_pgswarm
from tests.helpers.swarm import SwarmClient


def test_migrate_installs_the_schema_and_is_idempotent(empty_dsn: str) -> None:
    env = {"PGSWARM_DSN": empty_dsn}
    first = run_pgswarm("migrate", env=env).ok()
    assert "applied 0001_schema.sql" in first.stdout
    again = run_pgswarm("migrate", env=env).ok()
    assert "already at version" in again.stdout
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("select swarm.schema_version()").fetchone()[0] >= 1


def test_migrate_print_shows_every_file_with_a_banner() -> None:
    out = run_pgswarm("migrate", "--print").ok().stdout
    assert "-- ===== migrations/0001_schema.sql =====" in out
    assert "-- ===== sql/20_claim.sql =====" in out


def test_commands_on_a_database_without_the_schema_say_to_migrate(empty_dsn: str) -> None:
    assert_user_error(run_pgswarm("ls", env={"PGSWARM_DSN": empty_dsn}), "pgswarm migrate", code=4)


def test_stats_reads_the_views(cli: Cli, swarm: SwarmClient) -> None:
    task = swarm.make_task("echo a")
    swarm.make_task("echo b", agent="claude")
    swarm.complete(task, "w1", swarm.claim("w1", agents=["shell"])[0]["attempts"], cost_usd=0.25)
    data = json.loads(cli("stats", "--json").ok().stdout)
    assert data["window"]["completed"] == 1 and data["window"]["cost_usd"] == 0.25
    assert {(q["agent"], q["status"], q["tasks"]) for q in data["queues"]} == {("shell", "completed", 1),
                                                                               ("claude", "pending", 1)}
    out = cli("stats", "--since", "15m").ok().stdout
    assert "completed 1" in out and "claude" in out
    assert_user_error(cli("stats", "--since", "lately"), "not a duration")


def test_top_once_renders_one_frame(cli: Cli, swarm: SwarmClient, conn: psycopg.Connection) -> None:
    swarm.make_task("echo a", agent="claude")
    swarm.pause("claude", None, "quota planning")
    failing = swarm.make_task("exit 1", max_attempts=1)
    swarm.fail(failing, "w9", swarm.claim("w9", agents=["shell"])[0]["attempts"], error="exit code 1")
    conn.execute("select swarm.register_worker('w9', 'node-a', 42, array['shell'], null, 3)")
    out = cli("top", "--once").ok().stdout
    assert "pgswarm top" in out
    assert "quota planning" in out  # paused, and why
    assert "0/∞" in out or "running/cap" in out
    assert "node-a" in out  # the worker
    assert "exit code 1" in out  # recent failures
    assert_user_error(cli("top", "--interval", "0"), "--interval")


def test_doctor_checks_a_healthy_database(cli: Cli) -> None:
    result = cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert result.returncode == 0, result.stdout
    for name in ("database reachable", "schema current", "LISTEN/NOTIFY", "clock skew", "stale workers",
                 "stuck tasks", "queue table bloat", "notification queue", "agent claude"):
        assert name in checks, name
    assert checks["LISTEN/NOTIFY"]["status"] == "ok"
    assert checks["schema current"]["status"] == "ok"
    assert all(c["status"] in ("ok", "info") for c in checks.values()), checks


def test_doctor_reports_stale_workers_and_a_missing_schema(cli: Cli, conn: psycopg.Connection,
                                                           empty_dsn: str) -> None:
    conn.execute("select swarm.register_worker('old', 'node-b', 7, array['shell'], null, 1)")
    # The CLI's sessions see the engine clock far ahead: the worker's last heartbeat is long ago.
    conn.execute("update swarm.settings set test_clock = true")
    stale = run_pgswarm("doctor", "--json", env={"PGSWARM_DSN": conn.info.dsn,
                                                 "PGOPTIONS": "-c swarm.now=2099-01-01"})
    checks = {c["name"]: c for c in json.loads(stale.stdout)}
    assert checks["stale workers"]["status"] == "warn" and "old" in checks["stale workers"]["detail"]
    missing = run_pgswarm("doctor", env={"PGSWARM_DSN": empty_dsn})
    assert missing.returncode == 1 and "pgswarm migrate" in missing.stdout


def test_doctor_on_an_unreachable_database_fails(cli: Cli) -> None:
    result = run_pgswarm("doctor", env={"PGSWARM_DSN": "postgresql://u:secret@127.0.0.1:1/x"})
    assert result.returncode == 1
    assert "cannot connect" in result.stdout and "secret" not in result.stdout


def test_export_writes_tasks_and_events_as_json_lines(cli: Cli, swarm: SwarmClient, tmp_path: Path) -> None:
    a = swarm.make_task("echo a")
    swarm.make_task("echo b", depends_on=[a])
    lines = [json.loads(line) for line in cli("export").ok().stdout.splitlines()]
    assert [line["type"] for line in lines].count("task") == 2
    assert [line["type"] for line in lines].count("event") == 2
    assert {line["prompt"] for line in lines if line["type"] == "task"} == {"echo a", "echo b"}
    target = tmp_path / "out.jsonl"
    cli("export", "--no-events", "--output", str(target)).ok()
    assert len(target.read_text().splitlines()) == 2
    assert_user_error(cli("export", "--output", "/nonexistent/dir/x.jsonl"), "does not exist")


def test_archive_moves_old_finished_tasks(cli: Cli, swarm: SwarmClient, conn: psycopg.Connection) -> None:
    swarm.set_now(conn.execute("select (now() - interval '40 days')::text").fetchone()[0])
    old = swarm.make_task("echo old")
    swarm.complete(old, "w1", swarm.claim("w1")[0]["attempts"])
    swarm.set_now(None)
    fresh = swarm.make_task("echo fresh")
    assert "archived 1 tasks" in cli("archive", "--older-than", "30d").ok().stdout
    remaining = [r[0] for r in conn.execute("select id from swarm.agent_tasks")]
    assert remaining == [fresh]
    assert f"task {old}" in cli("show", str(old)).ok().stdout  # still visible from the archive
    assert_user_error(cli("archive", "--older-than", "ages"), "not a duration")
    assert_user_error(cli("archive", "--batch-size", "0"), "--batch-size must be at least 1")


def test_archive_commits_batch_by_batch(cli: Cli, swarm: SwarmClient, conn: psycopg.Connection) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, 25)")
    for task in swarm.claim("w1", max_tasks=25):
        swarm.complete(task["id"], "w1", task["attempts"])
    assert "archived 25 tasks" in cli("archive", "--older-than", "1ms", "--batch-size", "10").ok().stdout
    assert conn.execute("select count(distinct xmin::text) from swarm.agent_tasks_archive").fetchone()[0] == 3


def test_agents_add_set_pause_resume_and_list(cli: Cli, swarm: SwarmClient) -> None:
    cli("agents", "add", "reviewer", "--max-concurrent", "2", "--rate", "10", "--budget", "5").ok()
    row = {r["agent"]: r for r in json.loads(cli("agents", "--json").ok().stdout)}["reviewer"]
    assert (row["max_concurrent"], row["max_starts_per_minute"], row["daily_budget_usd"]) == (2, 10, 5)
    cli("agents", "set", "reviewer", "--max-concurrent", "none", "--breaker-threshold", "3").ok()
    cli("agents", "pause", "reviewer", "--until", "2h", "--reason", "quota").ok()
    row = {r["agent"]: r for r in json.loads(cli("agents", "list", "--json").ok().stdout)}["reviewer"]
    assert row["max_concurrent"] is None and row["breaker_threshold"] == 3
    assert row["paused"] is True and row["pause_reason"] == "quota"
    cli("agents", "resume", "reviewer").ok()
    row = {r["agent"]: r for r in json.loads(cli("agents", "--json").ok().stdout)}["reviewer"]
    assert not row["paused"]
    assert "reviewer" in cli("agents").ok().stdout


@pytest.mark.parametrize("args, fragment", [
    (["agents", "add", "Bad Name"], "lowercase"),
    (["agents", "add", "claude"], "already exists"),
    (["agents", "set", "claud", "--rate", "3"], "did you mean 'claude'"),
    (["agents", "set", "claude"], "nothing to set"),
    (["agents", "set", "claude", "--max-concurrent", "-1"], "whole number"),
    (["agents", "set", "claude", "--budget", "lots"], "USD"),
    (["agents", "pause", "claude", "--until", "someday"], "not a time"),
    (["agents", "pause", "nobody"], "unknown agent 'nobody'"),
    (["agents", "resume", "nobody"], "unknown agent 'nobody'"),
])
def test_agents_refuse_bad_input_and_change_nothing(cli: Cli, conn: psycopg.Connection, args: list[str],
                                                    fragment: str) -> None:
    before = conn.execute("select array_agg(a.* order by name)::text from swarm.agents as a").fetchone()[0]
    assert_user_error(cli(*args), fragment)
    assert conn.execute("select array_agg(a.* order by name)::text from swarm.agents as a").fetchone()[0] == before


def test_systemd_unit_has_the_safety_settings(tmp_path: Path) -> None:
    unit = run_pgswarm("systemd", "--agents", "claude,shell", "--concurrency", "3", "--grace", "90").ok().stdout
    assert "Restart=on-failure" in unit and "KillMode=mixed" in unit
    assert "TimeoutStopSec=120" in unit and "EnvironmentFile=/etc/pgswarm/worker.env" in unit
    assert " worker --concurrency 3 --agents claude,shell" in unit
    assert "PGSWARM_DSN=" not in unit.replace("(PGSWARM_DSN=...)", "")
    target = tmp_path / "pgswarm-worker.service"
    run_pgswarm("systemd", "--output", str(target)).ok()
    assert target.read_text().startswith("# Written by `pgswarm systemd`")
    assert_user_error(run_pgswarm("systemd", "--concurrency", "0"), "--concurrency")
    assert_user_error(run_pgswarm("systemd", "--env-file", "relative.env"), "absolute")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    env_file = tmp_path / "worker.env"
    env_file.write_text("PGSWARM_DSN=postgresql://localhost/app\n")
    target = tmp_path / "pgswarm-worker.service"
    run_pgswarm("systemd", "--env-file", str(env_file), "--output", str(target)).ok()
    done = subprocess.run(["systemd-analyze", "verify", str(target)], capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines() if str(target.name) in line or "pgswarm" in line]
    assert done.returncode == 0 and not problems, done.stderr


def test_doctor_names_agents_a_live_worker_quarantined(cli: Cli, conn: psycopg.Connection) -> None:
    conn.execute("select swarm.register_worker('node-a', 'node-a.example', 7, array['claude', 'shell'], null, 2)")
    conn.execute("""select swarm.set_worker_quarantine('node-a', '{"claude": {"kind": "not logged in",
                      "reason": "Not logged in · Please run /login", "since": "2026-12-02T10:00:00+00:00",
                      "retry_at": "2026-12-02T10:00:30+00:00", "faults": 1}}')""")
    checks = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    check = checks["quarantined agents"]
    assert check["status"] == "warn", check
    assert check["detail"].startswith("claude on node-a (not logged in: Not logged in · Please run /login; "
                                      "probed again at "), check
    conn.execute("select swarm.set_worker_quarantine('node-a', '{}')")
    checks = {c["name"]: c for c in json.loads(cli("doctor", "--json").stdout)}
    assert checks["quarantined agents"]["status"] == "ok"
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("select swarm.set_worker_quarantine('node-a', '[1]')")
    assert refused.value.sqlstate == "SW005"
