"""The CLI's answers to hostile or nonsensical input: one clear line and exit 2, never a traceback
or a blame on the schema (issue 16, defects 6 and 8); task data printed to a terminal escaped."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import Cli, assert_user_error, run_pgswarm

HOSTILE = "\x1b]0;TITLE\x07\x1b[2J"


@pytest.fixture
def cli(dsn: str) -> Cli:
    def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None):
        return run_pgswarm(*args, env={"PGSWARM_DSN": dsn, **(env or {})}, timeout=timeout)
    return run


def no_tasks(conn: psycopg.Connection) -> bool:
    return conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--delay", "99999999999999h", "--delay"),
    ("--timeout", "99999999999h", "--timeout"),
    ("--timeout", "700000h", "timeout_seconds"),
    ("--max-attempts", "99999999999", "max_attempts"),
])
def test_huge_numbers_are_clear_errors(cli: Cli, conn, option: str, value: str, named: str) -> None:
    assert_user_error(cli("add", "x", option, value), named)
    assert no_tasks(conn)


def test_a_binary_pipeline_file_is_a_clear_error(cli: Cli, conn, tmp_path: Path) -> None:
    binary = tmp_path / "pipeline.yaml"
    binary.write_bytes(bytes(range(256)))
    assert_user_error(cli("add", "--file", str(binary)), "pipeline.yaml", "not a text file")
    assert no_tasks(conn)


def test_a_yaml_pipeline_with_two_steps_of_one_name_is_refused(cli: Cli, conn, tmp_path: Path) -> None:
    pipeline = tmp_path / "twice.yaml"
    pipeline.write_text("steps:\n  build: {prompt: a}\n  test: {prompt: b, after: [build]}\n  build: {prompt: c}\n")
    assert_user_error(cli("add", "--file", str(pipeline)), "twice.yaml", "duplicate key 'build'")
    assert no_tasks(conn)


def test_the_engines_refusals_reach_the_user(cli: Cli, conn) -> None:
    assert_user_error(cli("add", ""), "prompt is empty")
    assert_user_error(cli("add", "x", "--key", "k" * 2000), "key is 2000 bytes")
    assert no_tasks(conn)


def test_a_dsn_of_another_database_is_named(tmp_path: Path) -> None:
    result = run_pgswarm("ls", env={"PGSWARM_DSN": "mysql://root:secret@localhost/app"})
    assert_user_error(result, "PGSWARM_DSN", "mysql:// URL is not a PostgreSQL DSN")
    assert "secret" not in result.stderr


def test_control_characters_in_task_data_are_shown_escaped(cli: Cli, conn) -> None:
    task_id = conn.execute("insert into swarm.agent_tasks (prompt, agent, tags) values (%s, 'claude', %s) "
                           "returning id", (f"fix {HOSTILE} it", [HOSTILE])).fetchone()[0]
    conn.execute("insert into swarm.schedules (name, cron, prompt) values ('evil', '* * * * *', %s)", (HOSTILE,))
    conn.execute("select swarm.register_worker(%s, %s, 1, null, null, 1)", (f"w{HOSTILE}", HOSTILE))
    [claimed] = conn.execute("select id, attempts, lease_token from swarm.claim_task(%s)",
                             (f"w{HOSTILE}",)).fetchall()
    conn.execute("select swarm.fail_task(%s, %s, 1, %s, retryable => false, lease_token => %s)",
                 (task_id, f"w{HOSTILE}", f"error {HOSTILE}", claimed[2]))
    conn.execute("update swarm.agent_tasks set output_tail = %s where id = %s", (f"line {HOSTILE}\n", task_id))
    outputs = {name: cli(*args).ok().stdout for name, args in {
        "show": ("show", str(task_id)), "ls": ("ls",), "stats": ("stats",), "schedule ls": ("schedule", "ls"),
        "top": ("top", "--once"), "logs": ("logs", str(task_id))}.items()}
    for name, out in outputs.items():
        assert "\x1b" not in out and "\x07" not in out, (name, out)
    for name in ("show", "ls", "schedule ls", "logs"):
        assert r"\x1b]0;TITLE\x07\x1b[2J" in outputs[name], (name, outputs[name])
    assert outputs["show"].count(r"\x1b[2J") >= 4  # prompt, tags, error, log tail
    assert HOSTILE in cli("logs", str(task_id), "--raw").ok().stdout  # the bytes, when asked for
