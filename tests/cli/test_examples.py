"""The files under examples/ work as the README says: pipelines enqueue, the worker config loads."""
from __future__ import annotations

import json

import psycopg

from pgswarm.worker.profiles.base import TaskSpec
from pgswarm.worker.profiles.custom import load_profiles
from tests.cli.conftest import REPO, Cli

EXAMPLES = REPO / "examples"


def test_the_example_pipelines_enqueue_with_their_dependencies(cli: Cli, conn: psycopg.Connection) -> None:
    created = json.loads(cli("add", "--file", str(EXAMPLES / "pipeline.yaml"), "--json").ok().stdout)
    steps = [row["step"] for row in created]
    assert steps == ["research", "implement", "implement", "implement", "test", "review"]
    implement_ids = sorted(row["id"] for row in created if row["step"] == "implement")
    test_row = next(row for row in created if row["step"] == "test")
    assert sorted(test_row["after"]) == implement_ids and test_row["agent"] == "codex"
    nightly = json.loads(cli("add", "--file", str(EXAMPLES / "pipeline.toml"), "--json").ok().stdout)
    assert [row["step"] for row in nightly] == ["deps", "lint", "changelog"]
    policy = conn.execute("select on_dependency_failure from swarm.agent_tasks where id = %s",
                          (nightly[-1]["id"],)).fetchone()[0]
    assert policy == "run"


def test_the_example_worker_config_loads() -> None:
    profiles = load_profiles(EXAMPLES / "worker.toml", allow_shell=False)
    assert {"claude", "claude-opus", "lint"} <= set(profiles.profiles)
    opus = profiles.get("claude-opus")
    assert opus is not None and "opus" in opus.build_argv(TaskSpec(1, 1, "claude-opus", "hello", {}, 600))


def test_the_example_environment_file_holds_a_dsn() -> None:
    lines = dict(line.split("=", 1) for line in (EXAMPLES / "worker.env").read_text().splitlines()
                 if line and not line.startswith("#"))
    assert "target_session_attrs=read-write" in lines["PGSWARM_DSN"]
