"""The CLI habits the seeds' users reach for: --name, priority names, the default agent said aloud,
pipelines as templates, ls --priority/--worker, bulk cancel/retry with a confirmation, migrate
--no-public-names, systemd --user-unit."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import REPO, Cli, assert_user_error, run_pgswarm
from tests.helpers.swarm import SwarmClient


def pgswarm_with_input(dsn: str, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG") or k == "PGSWARM_TEST_PGBIN"}
    return subprocess.run([sys.executable, "-m", "pgswarm.cli.main", *args], input=stdin, capture_output=True,
                          text=True, env={**env, "PGSWARM_DSN": dsn}, timeout=120, cwd=REPO)


def test_add_says_which_agent_took_the_task_and_takes_names_and_priority_names(cli: Cli, swarm: SwarmClient,
                                                                              conn: psycopg.Connection) -> None:
    done = cli("add", "echo hi", "--name", "greeting", "--priority", "high").ok()
    task_id = int(done.stdout)
    assert done.stderr.strip() == (f"pgswarm: task {task_id}: agent shell (the database's default agent; "
                                   "--agent chooses), pending")
    task = swarm.task(task_id)
    assert (task["key"], task["priority"], task["agent"]) == ("greeting", 50, "shell")
    again = cli("add", "echo hi", "--name", "greeting")
    assert int(again.stdout) == task_id and "key 'greeting' was taken" in again.stderr
    conn.execute("update swarm.settings set default_agent = 'claude'")
    other = cli("add", "Summarise the incident", "--priority", "low", "--json").ok()
    assert json.loads(other.stdout)["agent"] == "claude" and "agent claude (the database's default" in other.stderr
    assert swarm.task(json.loads(other.stdout)["id"])["priority"] == -50
    explicit = cli("add", "echo x", "--agent", "shell", "--priority", "-7").ok()
    assert explicit.stderr.strip().endswith("agent shell, pending")
    assert swarm.task(int(explicit.stdout))["priority"] == -7


TEMPLATE = """\
name: review-pr
key: review-{pr}
vars: {repo: /srv/app, model: sonnet}
defaults: {agent: claude, args: {cwd: "{repo}", model: "{model}"}, priority: high}
steps:
  checkout: {prompt: "Check out PR {pr} of {repo}"}
  review:
    prompt: "Review the {item} of PR {pr}; write {{result}} at the end"
    each: [code, tests]
    after: [checkout]
"""


def test_a_pipeline_is_a_template_enqueued_again_with_other_variables(cli: Cli, swarm: SwarmClient,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "review.yaml"
    path.write_text(TEMPLATE)
    first = json.loads(cli("add", "--file", str(path), "--set", "pr=123", "--json").ok().stdout)
    checkout, code, tests = (swarm.task(r["id"]) for r in first)
    assert checkout["prompt"] == "Check out PR 123 of /srv/app" and checkout["key"] == "review-123/checkout"
    assert checkout["args"] == {"cwd": "/srv/app", "model": "sonnet"} and checkout["priority"] == 50
    assert code["prompt"] == "Review the code of PR 123; write {result} at the end"
    assert code["key"] == "review-123/review/code" and code["depends_on"] == [checkout["id"]]
    assert [r["after"] for r in first] == [[], [checkout["id"]], [checkout["id"]]]
    second = json.loads(cli("add", "--file", str(path), "--set", "pr=124", "--set", "repo=/srv/other",
                            "--json").ok().stdout)
    assert not {r["id"] for r in second} & {r["id"] for r in first}
    assert swarm.task(second[0]["id"])["prompt"] == "Check out PR 124 of /srv/other"
    again = json.loads(cli("add", "--file", str(path), "--set", "pr=123", "--json").ok().stdout)
    assert [r["id"] for r in again] == [r["id"] for r in first] and not any(r["created"] for r in again)


@pytest.mark.parametrize("args, fragment", [
    ([], "review.yaml: key uses {pr}, which is not set: pass --set pr=VALUE"),
    (["--set", "pr=1", "--set", "rpo=/x"], "--set rpo: review.yaml has no {rpo}"),
    (["--set", "pr"], "expected NAME=VALUE"),
    (["--set", "item=x"], "{item} is the fan-out item"),
])
def test_a_template_with_a_missing_or_unknown_variable_is_refused(cli: Cli, conn: psycopg.Connection,
                                                                   tmp_path: Path, args: list[str],
                                                                   fragment: str) -> None:
    path = tmp_path / "review.yaml"
    path.write_text(TEMPLATE)
    assert_user_error(cli("add", "--file", str(path), *args), fragment)
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_ls_filters_by_priority_and_worker(cli: Cli, swarm: SwarmClient) -> None:
    low = swarm.make_task("echo low", priority=-50)
    high = swarm.make_task("echo high", priority=50)
    assert [r["id"] for r in json.loads(cli("ls", "--priority", "high", "--json").ok().stdout)] == [high]
    assert [r["id"] for r in json.loads(cli("ls", "--priority", "-50", "--json").ok().stdout)] == [low]
    swarm.claim("w7")
    assert [r["id"] for r in json.loads(cli("ls", "--worker", "w7", "--json").ok().stdout)] == [high]
    assert "w7" in cli("ls", "--worker", "w7").ok().stdout
    assert_user_error(cli("ls", "--priority", "urgent"), "unknown priority 'urgent'")


def test_bulk_cancel_by_filter_asks_first_and_acts_on_what_it_counted(dsn: str, swarm: SwarmClient) -> None:
    a = swarm.make_task("echo a", queue="q")
    b = swarm.make_task("echo b", queue="q")
    elsewhere = swarm.make_task("echo c", queue="other")
    declined = pgswarm_with_input(dsn, "n\n", "cancel", "--queue", "q", "--status", "pending")
    assert declined.returncode == 1 and "cancel 2 task(s) (status pending, queue q)? [y/N]" in declined.stderr
    assert swarm.statuses([a, b]) == {a: "pending", b: "pending"}
    no_input = pgswarm_with_input(dsn, "", "cancel", "--queue", "q", "--status", "pending")
    assert no_input.returncode == 2 and "pass --yes" in no_input.stderr
    done = pgswarm_with_input(dsn, "y\n", "cancel", "--queue", "q", "--status", "pending", "--reason", "sprint over")
    assert done.returncode == 0, done.stderr
    assert f"task {a}: cancelled" in done.stdout and f"task {b}: cancelled" in done.stdout
    assert swarm.statuses([a, b, elsewhere]) == {a: "cancelled", b: "cancelled", elsewhere: "pending"}
    assert swarm.task(a)["cancel_reason"] == "sprint over"


def test_bulk_retry_of_failed_tasks_with_yes(cli: Cli, swarm: SwarmClient) -> None:
    failed = swarm.make_task("exit 1", max_attempts=1, agent="claude")
    other = swarm.make_task("exit 1", max_attempts=1)
    for claimed in swarm.claim("w1", max_tasks=2):
        swarm.fail(claimed["id"], "w1", claimed["attempts"], retryable=False)
    out = cli("retry", "--status", "failed", "--agent", "claude", "--yes").ok()
    assert out.stdout.strip() == f"task {failed}: pending"
    assert swarm.statuses([failed, other]) == {failed: "pending", other: "failed"}
    assert "no task matches" in cli("retry", "--status", "failed", "--agent", "codex", "--yes").ok().stdout
    assert_user_error(cli("retry", "--status", "pending", "--yes"), "only failed or cancelled tasks can be retried")
    assert_user_error(cli("cancel", "--status", "completed", "--yes"), "can be cancelled")
    assert_user_error(cli("cancel", str(other), "--queue", "q"), "not both")
    assert_user_error(cli("retry"), "give task ids, or a filter")


def test_migrate_turns_the_unqualified_name_off_and_on(cli: Cli, conn: psycopg.Connection) -> None:
    off = cli("migrate", "--no-public-names").ok()
    assert "unqualified INSERT INTO agent_tasks: off" in off.stdout
    assert conn.execute("select public_names from swarm.settings").fetchone()[0] is False
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("insert into agent_tasks (prompt) values ('x')")
    assert "on (public.agent_tasks)" in cli("migrate", "--public-names").ok().stdout
    conn.execute("insert into agent_tasks (prompt) values ('x')")


def readme_anchors() -> set[str]:
    """GitHub's anchors for the README's headings."""
    anchors = set()
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_systemd_user_unit_is_written_to_the_users_systemd_folder(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = run_pgswarm("systemd", "--user-unit", "--agents", "claude", env=env).ok()
    unit_path = tmp_path / "config" / "systemd" / "user" / "pgswarm-worker.service"
    assert f"wrote {unit_path}" in done.stdout
    assert "systemctl --user daemon-reload && systemctl --user enable --now pgswarm-worker" in done.stdout
    unit = unit_path.read_text()
    assert "WantedBy=default.target" in unit and "User=" not in unit
    assert f"EnvironmentFile=-{tmp_path / 'config' / 'pgswarm' / 'worker.env'}" in unit  # optional: embedded default
    assert "KillMode=process" in unit and " worker --concurrency 4 --agents claude" in unit
    documentation = re.search(r"^Documentation=\S+#(\S+)$", unit, re.M)
    assert documentation and documentation.group(1) in readme_anchors()
    system = run_pgswarm("systemd").ok().stdout
    system_link = re.search(r"^Documentation=\S+#(\S+)$", system, re.M)
    assert system_link and system_link.group(1) in readme_anchors()
    assert_user_error(run_pgswarm("systemd", "--user-unit", "--user", "pgswarm", env=env), "runs as you")
    assert_user_error(run_pgswarm("systemd", "--user-unit", "--write", env=env), "--write")
    printed = run_pgswarm("systemd", "--user-unit", "--output", "-", env=env).ok().stdout
    assert printed.startswith("# Written by `pgswarm systemd --user-unit`")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_user_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    target = tmp_path / "pgswarm-worker.service"
    run_pgswarm("systemd", "--user-unit", "--output", str(target)).ok()
    done = subprocess.run(["systemd-analyze", "--user", "verify", str(target)], capture_output=True, text=True,
                          timeout=60)
    problems = [line for line in done.stderr.splitlines() if str(target.name) in line]
    assert not problems, done.stderr


def test_mcp_without_the_sdk_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "mcp.py").write_text("raise ImportError('No module named mcp')\n")  # what a missing SDK looks like
    result = run_pgswarm("mcp", env={"PYTHONPATH": str(tmp_path)})
    assert_user_error(result, "pip install 'pgswarm[mcp]'")
