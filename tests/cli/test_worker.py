"""`pgswarm worker` from the command line: options checked first, the DSN rule, a clean stop."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, Cli, assert_user_error, run_pgswarm
from tests.helpers.workers import wait_for


@pytest.mark.parametrize("args, fragment", [
    (["--concurrency", "0"], "--concurrency must be at least 1"),
    (["--lease-seconds", "1"], "--lease-seconds"),
    (["--poll-interval", "0"], "--poll-interval must be positive"),
    (["--shutdown-grace", "-1"], "--shutdown-grace"),
    (["--metrics-port", "70000"], "--metrics-port"),
    (["--log-max-mb", "0"], "--log-max-mb"),
    (["--agents", ","], "--agents"),
    (["--config", "/nonexistent/worker.toml"], "/nonexistent/worker.toml"),
    (["--concurrency", "many"], "--concurrency"),
])
def test_bad_options_are_refused_before_anything_starts(args: list[str], fragment: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert_user_error(run_pgswarm("worker", *args, env={"PGSWARM_HOME": str(home)}), fragment)
    assert not (home / "postgres").exists(), "a bad option must not start the embedded server"


def test_bad_profiles_are_refused_naming_the_file_and_the_problem(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "worker.toml"
    config.write_text('[profiles.mytool]\nargv = 3\n')
    assert_user_error(cli("worker", "--agents", "mytool", "--config", str(config)), str(config), "argv")
    config.write_text('[profiles.mytool]\nargv = ["mytool", "{prompt}"]\nparser = "plain"\n')
    assert_user_error(cli("worker", "--agents", "mytool", "--config", str(config)), "pgswarm agents add mytool")
    assert_user_error(cli("worker", "--agents", "nosuch"), "no profile for agent 'nosuch'")
    assert_user_error(cli("worker", "--agents", "shell"), "--allow-shell")


def test_a_log_directory_that_cannot_be_made_is_refused_at_start(cli: Cli, tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    assert_user_error(cli("worker", "--agents", "shell", "--allow-shell", "--log-dir", str(not_a_directory / "logs")),
                      "--log-dir", str(not_a_directory / "logs"), "Not a directory")


def test_a_worker_on_the_embedded_default_runs_tasks_and_stops_on_sigterm(home_cli: Cli, embedded_home: Path,
                                                                         tmp_path: Path) -> None:
    task_id = home_cli("add", "echo from the embedded default", "--tag", "worker-test").ok().stdout.strip()
    # An agent's follow-up works out of the box: the embedded default gives agents a login of their
    # own (pgswarm_agent, role swarm_agent), never the worker's superuser login.
    follow_up = home_cli("add", f"{sys.executable} -m pgswarm.cli.main add 'review it' --agent codex && "
                                "echo \"$PGSWARM_DSN\"").ok().stdout.strip()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PGSWARM_DSN", "DATABASE_URL") and not k.startswith("PG")}
    env["PGSWARM_HOME"] = str(embedded_home)
    worker = subprocess.Popen(
        [sys.executable, "-m", "pgswarm.cli.main", "worker", "--agents", "shell", "--allow-shell",
         "--concurrency", "1", "--poll-interval", "0.5", "--name", "cli-test", "--log-dir", str(tmp_path / "logs")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: '"status": "completed"' in home_cli("show", task_id, "--json").ok().stdout, 60,
                 f"task {task_id} to complete")
        assert "from the embedded default" in home_cli("logs", task_id).ok().stdout
        wait_for(lambda: '"status": "completed"' in home_cli("show", follow_up, "--json").ok().stdout, 60,
                 f"task {follow_up} to complete")
        assert "postgresql://pgswarm_agent@" in home_cli("logs", follow_up).ok().stdout
        [child] = json.loads(home_cli("ls", "--parent", follow_up, "--json").ok().stdout)
        assert child["agent"] == "codex" and child["prompt"] == "review it"
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=60)[0].decode(errors="replace")
    assert worker.returncode == 0, output
