"""add, ls, show, logs, cancel, retry: happy paths and refusals, against the test server."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import Cli, assert_user_error
from tests.helpers.swarm import SwarmClient


def count_tasks(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]


def test_add_prints_the_new_id_and_stores_every_option(cli: Cli, swarm: SwarmClient) -> None:
    first = int(cli("add", "echo research").ok().stdout)
    second = int(cli("add", "Fix the flaky test", "--agent", "claude", "--after", str(first), "--priority", "7",
                     "--key", "fix-1", "--delay", "10m", "--timeout", "20m", "--max-attempts", "5", "--queue",
                     "repo-a", "--concurrency-key", "repo-a", "--parent", str(first), "--tag", "bug", "--tag",
                     "api", "--arg", "model=sonnet", "--arg", "max_turns=20").ok().stdout)
    task = swarm.task(second)
    assert task["agent"] == "claude" and task["status"] == "waiting"
    assert task["depends_on"] == [first] and task["parent_id"] == first
    assert (task["priority"], task["key"], task["max_attempts"], task["timeout_seconds"]) == (7, "fix-1", 5, 1200)
    assert (task["queue"], task["concurrency_key"], task["tags"]) == ("repo-a", "repo-a", ["bug", "api"])
    assert task["args"] == {"model": "sonnet", "max_turns": 20}
    delay = (task["run_after"] - task["created_at"]).total_seconds()
    assert 590 <= delay <= 610


def test_add_with_an_existing_key_returns_the_same_task(cli: Cli, conn: psycopg.Connection) -> None:
    first = cli("add", "echo once", "--key", "k1").ok().stdout
    again = cli("add", "echo once", "--key", "k1").ok().stdout
    assert first == again
    assert count_tasks(conn) == 1


def test_add_at_a_time_and_json_output(cli: Cli, swarm: SwarmClient) -> None:
    out = json.loads(cli("add", "echo later", "--at", "2030-01-02T03:04:05+00:00", "--json").ok().stdout)
    assert swarm.task(out["id"])["run_after"].isoformat().startswith("2030-01-02T03:04:05")


@pytest.mark.parametrize("args, fragment", [
    (["add", "x", "--agent", "claud"], "did you mean 'claude'"),
    (["add", "x", "--after", "999"], "task 999 not found"),
    (["add", "x", "--after", "abc"], "'abc' is not a task id"),
    (["add", "x", "--parent", "4242"], "task 4242 not found"),
    (["add", "x", "--priority", "5000"], "out of range"),
    (["add", "x", "--delay", "soon"], "not a duration"),
    (["add", "x", "--at", "tomorrow"], "not a time"),
    (["add", "x", "--delay", "1m", "--at", "2030-01-01"], "exclude each other"),
    (["add", "x", "--max-attempts", "0"], "at least 1"),
    (["add", "x", "--timeout", "0s"], "timeout_seconds"),
    (["add", "x", "--arg", "novalue"], "KEY=VALUE"),
    (["add", "x", "--on-dependency-failure", "maybe"], "'cancel' or 'run'"),
    (["add"], "PROMPT or --file"),
    (["add", "x", "--no-such-option"], "No such option"),
    (["add", "x", "--priority", "hgih"], "unknown priority 'hgih'"),
])
def test_add_refuses_bad_input_with_one_line_and_changes_nothing(cli: Cli, conn: psycopg.Connection,
                                                                 args: list[str], fragment: str) -> None:
    assert_user_error(cli(*args), fragment)
    assert count_tasks(conn) == 0


PIPELINE_YAML = """\
name: login-fix
key: login-fix-v1
defaults: {agent: claude, tags: [login]}
steps:
  research:
    prompt: Find why login fails
  implement:
    prompt: Implement the {item} part
    each: [backend, frontend]
    after: [research]
  review:
    prompt: Review the fix
    after: [implement]
    agent: codex
"""


def test_add_file_inserts_a_pipeline_with_fan_out_and_fan_in(cli: Cli, swarm: SwarmClient, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE_YAML)
    created = json.loads(cli("add", "--file", str(path), "--json").ok().stdout)
    by_step = {}
    for row in created:
        by_step.setdefault(row["step"], []).append(row["id"])
    research, = by_step["research"]
    review, = by_step["review"]
    assert len(by_step["implement"]) == 2
    for part in by_step["implement"]:
        assert swarm.task(part)["depends_on"] == [research]
        assert swarm.task(part)["status"] == "waiting"
    assert sorted(swarm.task(review)["depends_on"]) == sorted(by_step["implement"])
    assert swarm.task(review)["agent"] == "codex"
    assert swarm.task(by_step["implement"][1])["prompt"] == "Implement the frontend part"
    assert swarm.task(research)["key"] == "login-fix-v1/research"
    assert swarm.task(research)["metadata"] == {"step": "research", "pipeline": "login-fix"}
    # The pipeline key makes a second add idempotent.
    again = json.loads(cli("add", "--file", str(path), "--json").ok().stdout)
    assert [r["id"] for r in again] == [r["id"] for r in created]


def test_add_file_reads_toml(cli: Cli, swarm: SwarmClient, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.toml"
    path.write_text(textwrap.dedent("""\
        [steps.build]
        prompt = "make build"
        [steps.test]
        prompt = "make test"
        after = ["build"]
        """))
    created = json.loads(cli("add", "--file", str(path), "--json").ok().stdout)
    assert [r["step"] for r in created] == ["build", "test"]
    assert swarm.task(created[1]["id"])["depends_on"] == [created[0]["id"]]


@pytest.mark.parametrize("text, fragment", [
    ("steps:\n  a: {prompt: x, after: [b]}\n  b: {prompt: y, after: [a]}\n", "cycle"),
    ("steps:\n  a: {prompt: x, after: [nope]}\n", "unknown step 'nope'"),
    ("steps:\n  a: {prompt: x, aftr: [b]}\n", "did you mean 'after'"),
    ("steps:\n  a: {agent: claude}\n", "needs a prompt"),
    ("steps: [unclosed\n", "not valid YAML"),
    ("steps:\n  a: {prompt: x}\n  b: {prompt: y, agent: nosuchagent, after: [a]}\n", "unknown agent 'nosuchagent'"),
    ("steps:\n  a: {prompt: x, after: [9999]}\n", "task 9999 not found"),
    # The engine refuses the third insert: the two before it are rolled back with it.
    ("steps:\n  a: {prompt: x}\n  b: {prompt: y, after: [a]}\n  c: {prompt: z, priority: 5000, after: [b]}\n",
     "bad.yaml: task 3 of 3 (c): priority 5000 is out of range"),
])
def test_a_bad_pipeline_is_refused_whole(cli: Cli, conn: psycopg.Connection, tmp_path: Path, text: str,
                                         fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert_user_error(cli("add", "--file", str(path)), fragment)
    assert count_tasks(conn) == 0


def test_a_bad_toml_pipeline_is_refused(cli: Cli, conn: psycopg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[steps.build]\nprompt = "make build"\n[steps.test\nprompt = "make test"\n')
    assert_user_error(cli("add", "--file", str(path)), "bad.toml: not valid TOML")
    path.write_text('[steps.build]\nprompt = "make build"\nmax_attempts = "three"\n')
    assert_user_error(cli("add", "--file", str(path)), "max_attempts must be an integer")
    assert count_tasks(conn) == 0


def test_add_file_that_does_not_exist(cli: Cli) -> None:
    assert_user_error(cli("add", "--file", "/nonexistent/p.yaml"), "cannot read pipeline file")


def test_ls_shows_active_tasks_and_filters(cli: Cli, swarm: SwarmClient) -> None:
    a = swarm.make_task("echo a", queue="q1", tags=["x"])
    b = swarm.make_task("echo b", agent="claude")
    c = swarm.make_task("echo c", depends_on=[a])
    rows = json.loads(cli("ls", "--json").ok().stdout)
    assert [r["id"] for r in rows] == [c, b, a]
    assert {r["id"]: r["status"] for r in rows} == {a: "pending", b: "pending", c: "waiting"}
    assert [r["id"] for r in json.loads(cli("ls", "--agent", "claude", "--json").ok().stdout)] == [b]
    assert [r["id"] for r in json.loads(cli("ls", "--queue", "q1", "--json").ok().stdout)] == [a]
    assert [r["id"] for r in json.loads(cli("ls", "--tag", "x", "--json").ok().stdout)] == [a]
    assert [r["id"] for r in json.loads(cli("ls", "-s", "waiting", "--json").ok().stdout)] == [c]
    assert [r["id"] for r in json.loads(cli("ls", "--limit", "1", "--json").ok().stdout)] == [c]
    table = cli("ls").ok().stdout
    assert "echo a" in table and "waiting" in table


def test_ls_hides_tasks_finished_long_ago_unless_asked(cli: Cli, swarm: SwarmClient,
                                                       conn: psycopg.Connection) -> None:
    two_days_ago = conn.execute("select (now() - interval '2 days')::text").fetchone()[0]
    swarm.set_now(two_days_ago)  # this session's clock: the task is created and finished back then
    old = swarm.make_task("echo old")
    assert swarm.complete(old, "w1", swarm.claim("w1")[0]["attempts"]).accepted
    swarm.set_now(None)
    recent = swarm.make_task("echo recent")
    assert [r["id"] for r in json.loads(cli("ls", "--json").ok().stdout)] == [recent]
    assert [r["id"] for r in json.loads(cli("ls", "--all", "--json").ok().stdout)] == [recent, old]
    assert [r["id"] for r in json.loads(cli("ls", "-s", "completed", "--json").ok().stdout)] == [old]


@pytest.mark.parametrize("args, fragment", [
    (["ls", "--status", "done"], "'done' is not one of"),
    (["ls", "--since", "yesterday"], "not a duration"),
    (["ls", "--limit", "0"], "at least 1"),
])
def test_ls_refuses_bad_filters(cli: Cli, args: list[str], fragment: str) -> None:
    assert_user_error(cli(*args), fragment)


def test_show_prints_fields_dependencies_and_events(cli: Cli, swarm: SwarmClient) -> None:
    a = swarm.make_task("echo first")
    b = swarm.make_task("echo second", depends_on=[a])
    out = cli("show", str(b)).ok().stdout
    assert f"task {b}" in out and "waiting" in out and "echo second" in out
    assert f"#{a}" in out and "created" in out
    data = json.loads(cli("show", str(a), "--json").ok().stdout)
    assert data["task"]["id"] == a and [d["id"] for d in data["dependents"]] == [b]
    assert [e["event"] for e in data["events"]] == ["created"]


def test_show_and_ls_say_why_a_task_is_not_running(cli: Cli, swarm: SwarmClient) -> None:
    swarm.pause("claude", "2099-01-01T07:03:00Z", "breaker: 5 failures in a row")
    paused = swarm.make_task("echo paused", agent="claude")
    first = swarm.make_task("echo first", agent="codex")
    later = swarm.make_task("echo later", depends_on=[first])
    out = cli("show", str(paused)).ok().stdout
    assert "why it is not running" in out
    assert "agent claude is paused until 2099-01-01 07:03:00 UTC" in out and "breaker: 5 failures" in out
    assert "no live worker runs agent claude" in out
    data = json.loads(cli("show", str(later), "--json").ok().stdout)
    assert [r["code"] for r in data["why_pending"]] == ["dependency", "shell"]
    table = cli("ls").ok().stdout
    assert "waiting for" in table and "paused until 07:03" in table and f"task {first}" in table
    rows = {r["id"]: r for r in json.loads(cli("ls", "--json").ok().stdout)}
    assert rows[first]["waiting_for"] == "no codex worker"


def test_show_and_logs_of_an_unknown_task(cli: Cli) -> None:
    assert_user_error(cli("show", "4711"), "task 4711 not found")
    assert_user_error(cli("logs", "4711"), "task 4711 not found")
    assert_user_error(cli("show", "abc"), "abc")


def test_logs_prints_the_stored_tail_of_a_finished_task(cli: Cli, swarm: SwarmClient) -> None:
    task = swarm.make_task("echo hi")
    attempt = swarm.claim("w1")[0]["attempts"]
    swarm.complete(task, "w1", attempt, output_tail="line one\nline two\n", log_path="/nonexistent/1.log")
    result = cli("logs", str(task)).ok()
    assert result.stdout == "line one\nline two\n"


def test_logs_follow_reads_the_log_file_until_the_task_ends(cli: Cli, swarm: SwarmClient, tmp_path: Path) -> None:
    task = swarm.make_task("echo hi")
    attempt = swarm.claim("w1")[0]["attempts"]
    log = tmp_path / "task.log"
    log.write_text("working\ndone\n")
    swarm.complete(task, "w1", attempt, output_tail="done\n", log_path=str(log))
    assert cli("logs", str(task), "-f").ok().stdout == "working\ndone\n"


def test_cancel_and_retry(cli: Cli, swarm: SwarmClient) -> None:
    a = swarm.make_task("echo a")
    b = swarm.make_task("echo b", depends_on=[a])
    out = cli("cancel", str(a), "--reason", "not needed").ok().stdout
    assert f"task {a}: cancelled" in out
    assert swarm.status(a) == "cancelled" and swarm.status(b) == "cancelled"
    assert cli("retry", str(a)).ok().stdout.strip() == f"task {a}: pending"
    assert swarm.status(a) == "pending"


def test_cancel_and_retry_refuse_unknown_ids_and_illegal_changes(cli: Cli, swarm: SwarmClient) -> None:
    a = swarm.make_task("echo a")
    assert_user_error(cli("cancel", str(a), "999"), "task 999 not found")
    assert swarm.status(a) == "pending"  # refused whole: the known id was not cancelled either
    assert_user_error(cli("retry", str(a)), f"task {a}")
    assert_user_error(cli("cancel", "x1"), "'x1' is not a task id")
    assert swarm.status(a) == "pending"


def test_cancel_of_a_running_task_asks_its_worker(cli: Cli, swarm: SwarmClient) -> None:
    a = swarm.make_task("sleep 100")
    swarm.claim("w1")
    assert "cancellation requested" in cli("cancel", str(a)).ok().stdout
    assert swarm.status(a) == "running"


def test_show_prints_the_attempt_ledger(cli: Cli, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.claim("w1", hostname="node-a")
    swarm.release(task_id, "w1", 1, reason="claude usage limit", session_id="5f1c2d3e-aaaa-1111")
    swarm.claim("w2", hostname="node-a")
    swarm.complete(task_id, "w2", 1, cost_usd=0.0127, input_tokens=2000, output_tokens=420,
                   session_id="5f1c2d3e-bbbb-2222")
    out = cli("show", str(task_id)).ok().stdout
    assert "attempts" in out and "released" in out and "claude usage limit" in out
    assert "2000/420" in out and "resumed 5f1c2d3e-aaaa" in out
    data = json.loads(cli("show", str(task_id), "--json").ok().stdout)
    assert [(a["attempt"], a["worker"], a["outcome"]) for a in data["attempts"]] == [(1, "w1", "released"),
                                                                                      (1, "w2", "completed")]
    assert data["attempts"][1]["resumed_session_id"] == "5f1c2d3e-aaaa-1111"
