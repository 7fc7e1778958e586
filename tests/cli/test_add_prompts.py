"""pgswarm add: prompts of any size from a file or stdin, prompts that start with '-', and
task args refused by the engine with one line naming the key."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import REPO, Cli, assert_user_error


def prompts(conn: psycopg.Connection) -> list[str]:
    return [row[0] for row in conn.execute("select prompt from swarm.agent_tasks order by id")]


def test_prompt_file_of_half_a_megabyte(cli: Cli, conn: psycopg.Connection, tmp_path: Path) -> None:
    text = "Review this diff:\n" + "+ line ü\n" * 50_000
    (tmp_path / "prompt.md").write_text(text)
    task_id = int(cli("add", "--prompt-file", str(tmp_path / "prompt.md"), "--agent", "claude").ok().stdout)
    assert conn.execute("select prompt from swarm.agent_tasks where id = %s", (task_id,)).fetchone()[0] == text


def test_prompt_file_dash_reads_stdin(dsn: str, conn: psycopg.Connection) -> None:
    done = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", "add", "--prompt-file", "-", "--agent", "claude"],
                          input="- [ ] from stdin\n", capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "PGSWARM_DSN": dsn})
    assert done.returncode == 0, done.stderr
    assert prompts(conn) == ["- [ ] from stdin\n"]


def test_a_prompt_starting_with_a_dash_works_without_double_dash(cli: Cli, conn: psycopg.Connection) -> None:
    cli("add", "- [ ] write the changelog", "--agent", "claude").ok()
    cli("add", "--agent", "claude", "-- [ ] second").ok()
    cli("add", "--agent", "claude", "--", "-x").ok()
    assert prompts(conn) == ["- [ ] write the changelog", "-- [ ] second", "-x"]


def test_a_prompt_that_looks_like_an_option_says_to_use_double_dash(cli: Cli, conn: psycopg.Connection) -> None:
    assert_user_error(cli("add", "-x"), "No such option", "goes after `--`")
    assert prompts(conn) == []


@pytest.mark.parametrize(("args", "fragment"), [
    (["--prompt-file", "/nonexistent/prompt.md"], "cannot read /nonexistent/prompt.md"),
    (["--prompt-file", "BINARY"], "is not UTF-8 text"),
    (["--prompt-file", "EMPTY"], "is empty"),
    (["x", "--prompt-file", "EMPTY"], "leave out PROMPT"),
    (["--prompt-file", "HUGE", "--agent", "claude"], "over the 1048576-byte limit of agent 'claude'"),
    (["x", "--agent", "claude", "--arg", "max_turn=3"], "unknown argument args.max_turn for agent 'claude'"),
    (["x", "--agent", "claude", "--arg", "max_turns=abc"], "args.max_turns for agent 'claude' must be an integer"),
])
def test_bad_prompt_files_and_args_are_one_line_and_change_nothing(cli: Cli, conn: psycopg.Connection,
                                                                   tmp_path: Path, args: list[str],
                                                                   fragment: str) -> None:
    (tmp_path / "BINARY").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (tmp_path / "EMPTY").write_text("  \n")
    (tmp_path / "HUGE").write_text("x" * (2 * 1024 * 1024))
    args = [str(tmp_path / a) if a in ("BINARY", "EMPTY", "HUGE") else a for a in args]
    assert_user_error(cli("add", *args), fragment)
    assert prompts(conn) == []
