"""What every command does with a database it cannot use and with input it does not understand."""
from __future__ import annotations

import pytest

from tests.cli.conftest import assert_user_error, run_pgswarm

CLOSED_PORT = "postgresql://bob:s3cret@127.0.0.1:1/app"


@pytest.mark.parametrize("args", [
    ["ls"], ["add", "echo x"], ["show", "1"], ["cancel", "1"], ["retry", "1"], ["stats"], ["agents"],
    ["export"], ["archive"], ["migrate"], ["top", "--once"], ["logs", "1"], ["worker", "--agents", "claude"],
    ["demo"],
])
def test_an_unreachable_database_is_named_with_its_cause_and_no_password(args: list[str]) -> None:
    result = run_pgswarm(*args, env={"PGSWARM_DSN": CLOSED_PORT})
    assert_user_error(result, "cannot connect to postgresql://bob:***@127.0.0.1:1/app", "Connection refused",
                      code=3)
    assert "s3cret" not in result.stderr + result.stdout


def test_the_dsn_option_wins_over_the_environment() -> None:
    result = run_pgswarm("ls", "--dsn", CLOSED_PORT, env={"PGSWARM_DSN": "postgresql://other@127.0.0.1:2/x"})
    assert_user_error(result, "127.0.0.1:1/app", code=3)
    before_command = run_pgswarm("--dsn", CLOSED_PORT, "stats", env={"DATABASE_URL": "postgresql://x@127.0.0.1:2/y"})
    assert_user_error(before_command, "127.0.0.1:1/app", code=3)


@pytest.mark.parametrize("dsn, fragment", [
    ("postgresql://bob:s3cret@[broken", "invalid DSN postgresql://bob:***@"),
    ("host=localhost password=s3cret bogus=1", 'invalid connection option "bogus"'),
])
def test_a_malformed_dsn_is_a_usage_error_that_hides_the_password(dsn: str, fragment: str) -> None:
    result = run_pgswarm("ls", env={"DATABASE_URL": dsn})
    assert_user_error(result, fragment)
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("args, fragment", [
    (["lsx"], "No such command 'lsx'"),
    (["ls", "--bogus"], "No such option: --bogus"),
    (["show"], "Missing argument"),
    (["show", "abc"], "'abc' is not a task id"),
    (["cancel", "0"], "'0' is not a task id"),
    (["demo", "--timeout", "0"], "--timeout"),
])
def test_bad_arguments_exit_2_with_one_line(args: list[str], fragment: str) -> None:
    # A bad argument is refused before any database is touched: the DSN here is unreachable.
    assert_user_error(run_pgswarm(*args, env={"PGSWARM_DSN": CLOSED_PORT}), fragment)


def test_version_and_help() -> None:
    assert run_pgswarm("--version").ok().stdout.startswith("pgswarm ")
    bare = run_pgswarm()
    assert bare.returncode == 2 and bare.stdout.count("Usage: pgswarm") == 1 and "Traceback" not in bare.stderr
    assert "add" in run_pgswarm("--help").ok().stdout


@pytest.mark.parametrize("text", [
    'connection to "postgresql://ann:s3cret@db:5432/app" failed',
    "invalid dsn: host=db password=s3cret bogus=1",
    """invalid dsn: "host=db password='s3 cret' bogus=1\"""",
    "cannot connect to postgres://ann:s3cret@db/app?sslmode=require",
])
def test_one_scrubber_hides_a_password_in_any_message(text: str) -> None:
    from pgswarm.worker.dsn import scrub_passwords

    scrubbed = scrub_passwords(text)
    assert "s3" not in scrubbed and "***" in scrubbed


@pytest.mark.parametrize("args", [["ls"], ["agents"], ["schedule", "ls"], ["web", "token", "list"]])
def test_a_database_never_migrated_is_named_with_the_fix(empty_dsn: str, args: list[str]) -> None:
    assert_user_error(run_pgswarm(*args, env={"PGSWARM_DSN": empty_dsn}), "has no current pgswarm schema",
                      "run `pgswarm migrate`", code=4)
