"""What a plain INSERT does: defaults, dedup by key, refusals of bad input."""
from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers.swarm import SwarmClient

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def test_plain_insert_makes_a_claimable_shell_task_with_every_default(swarm: SwarmClient, conn) -> None:
    conn.execute("insert into swarm.agent_tasks (prompt) values ('echo hello')")
    claimed = swarm.claim("w1")
    assert len(claimed) == 1
    task = claimed[0]
    assert task["prompt"] == "echo hello"
    assert (task["queue"], task["agent"], task["args"], task["priority"]) == ("default", "shell", {}, 0)
    assert (task["depends_on"], task["on_dependency_failure"], task["parent_id"]) == ([], "cancel", None)
    # timeout_seconds null: the profile's, else 30 minutes, at claim time (migration 0017)
    assert (task["max_attempts"], task["timeout_seconds"], task["attempts"]) == (3, None, 1)
    assert task["tags"] == [] and task["metadata"] == {} and task["concurrency_key"] is None
    assert task["status"] == "running" and task["worker"] == "w1" and task["lease_expires_at"] is not None
    assert task["created_at"] <= task["started_at"]
    assert swarm.events(task["id"]) == ["created", "claimed"]


def test_on_conflict_key_do_nothing_dedups(swarm: SwarmClient, conn) -> None:
    for _ in range(3):
        conn.execute("insert into swarm.agent_tasks (prompt, key) values ('x', 'job-1') on conflict (key) do nothing")
    assert swarm.scalar("select count(*) from swarm.agent_tasks where key = 'job-1'") == 1
    first = swarm.scalar("select id from swarm.agent_tasks where key = 'job-1'")
    assert swarm.enqueue("x", key="job-1") == first


def test_enqueue_function_sets_every_field(swarm: SwarmClient) -> None:
    parent = swarm.make_task("parent")
    task_id = swarm.enqueue("write tests", agent="claude", queue="q1", args={"model": "opus"}, priority=5,
                            max_attempts=2, timeout_seconds=60, concurrency_key="repo-a", parent_id=parent,
                            tags=["x"], metadata={"k": 1})
    task = swarm.task(task_id)
    assert (task["agent"], task["queue"], task["args"], task["priority"]) == ("claude", "q1", {"model": "opus"}, 5)
    assert (task["max_attempts"], task["timeout_seconds"], task["concurrency_key"]) == (2, 60, "repo-a")
    assert (task["parent_id"], task["tags"], task["metadata"], task["status"]) == (parent, ["x"], {"k": 1}, "pending")


def _refused(conn, sql: str, params=None) -> psycopg.Error:
    before = conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    after = conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]
    assert after == before, "a refused statement must change nothing"
    return info.value


def test_unknown_agent_is_refused_with_how_to_register_it(conn) -> None:
    err = _refused(conn, "insert into swarm.agent_tasks (agent, prompt) values ('claud', 'x')")
    assert err.sqlstate == "SW001"
    assert "unknown agent 'claud'" in str(err)
    assert "insert into swarm.agents (name) values ('claud')" in err.diag.message_hint


BAD_FIELDS = [
    ("priority", 5000, "priority 5000 is out of range -1000..1000"),
    ("priority", -1001, "priority -1001 is out of range"),
    ("max_attempts", 0, "max_attempts 0 must be at least 1"),
    ("timeout_seconds", -5, "timeout_seconds -5 must be positive"),
    ("queue", "", "queue is empty"),
    ("args", Jsonb([1, 2]), "args must be a JSON object, not array"),
    ("on_dependency_failure", "ignore", "on_dependency_failure 'ignore' must be 'cancel' or 'run'"),
]


@pytest.mark.parametrize("column, value, words", BAD_FIELDS)
def test_out_of_range_fields_are_refused_by_name(conn, column: str, value, words: str) -> None:
    err = _refused(conn, f"insert into swarm.agent_tasks (prompt, {column}) values ('x', %s)", (value,))
    assert err.sqlstate == "SW005"
    assert words in str(err)


@pytest.mark.parametrize("column, value, words", BAD_FIELDS)
def test_an_update_setting_a_bad_field_is_refused_by_name(conn, swarm: SwarmClient, column: str, value,
                                                          words: str) -> None:
    task_id = swarm.make_task("x")
    before = swarm.task(task_id)
    with pytest.raises(psycopg.Error) as info:
        conn.execute(f"update swarm.agent_tasks set {column} = %s where id = %s", (value, task_id))
    assert info.value.sqlstate == "SW005" and words in str(info.value)
    assert swarm.task(task_id) == before


def test_an_update_of_a_field_within_bounds_goes_through(conn, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    conn.execute("update swarm.agent_tasks set priority = 1000, queue = 'urgent' where id = %s", (task_id,))
    [claimed] = swarm.claim("w1", queues=["urgent"])
    assert (claimed["id"], claimed["priority"]) == (task_id, 1000)


def test_null_prompt_is_refused(conn) -> None:
    err = _refused(conn, "insert into swarm.agent_tasks (agent, prompt) values ('claude', null)")
    assert err.sqlstate == "SW005" and "prompt is null" in str(err)


def test_unknown_and_self_dependencies_are_refused(conn, swarm: SwarmClient) -> None:
    err = _refused(conn, "insert into swarm.agent_tasks (prompt, depends_on) values ('x', '{424242}')")
    assert err.sqlstate == "SW004" and "424242" in str(err) and "does not exist" in str(err)
    next_id = swarm.scalar("select last_value + 1 from pg_sequences where sequencename like 'agent_tasks_id_seq'")
    err = _refused(conn, "insert into swarm.agent_tasks (prompt, depends_on) values ('x', %s)", ([next_id + 1],))
    assert err.sqlstate == "SW004"


def test_a_task_cannot_be_inserted_with_a_status(conn) -> None:
    err = _refused(conn, "insert into swarm.agent_tasks (prompt, status) values ('x', 'running')")
    assert err.sqlstate == "SW003" and "cannot be inserted as 'running'" in str(err)


def test_depends_on_cannot_change(conn, swarm: SwarmClient) -> None:
    a = swarm.make_task("a")
    b = swarm.make_task("b", depends_on=[a])
    with pytest.raises(psycopg.Error) as info:
        conn.execute("update swarm.agent_tasks set depends_on = '{}' where id = %s", (b,))
    assert info.value.sqlstate == "SW004" and "cannot be changed" in str(info.value)
    assert swarm.task(b)["depends_on"] == [a]


def test_illegal_status_change_by_hand_is_refused(conn, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    [claimed] = swarm.claim("w1")
    swarm.complete(task_id, "w1", claimed["attempts"])
    with pytest.raises(psycopg.Error) as info:
        conn.execute("update swarm.agent_tasks set status = 'running' where id = %s", (task_id,))
    assert info.value.sqlstate == "SW003"
    assert "completed -> running" in str(info.value)
    assert swarm.status(task_id) == "completed"


def test_inside_the_api_only_the_state_machine_edges_pass_the_guard(conn, swarm: SwarmClient) -> None:
    """The guard's WHEN clause lets the API's legal changes through without calling the guard and
    still refuses an illegal one, as a bug in an API function would make it."""
    done = swarm.make_task("done")
    [claimed] = swarm.claim("w1")
    swarm.complete(done, "w1", claimed["attempts"])
    pending = swarm.make_task("pending")
    conn.execute("select set_config('swarm.api', 'on', false)")
    try:
        with pytest.raises(psycopg.Error) as info:
            conn.execute("update swarm.agent_tasks set status = 'running', worker = 'w1', "
                         "lease_expires_at = now() + interval '1 minute' where id = %s", (done,))
        assert info.value.sqlstate == "SW003" and "completed -> running" in str(info.value)
        conn.execute("update swarm.agent_tasks set status = 'cancelled' where id = %s", (pending,))
    finally:
        conn.execute("select set_config('swarm.api', '', false)")
    assert swarm.status(done) == "completed" and swarm.status(pending) == "cancelled"


def test_legal_status_change_by_hand_is_refused_and_points_to_the_function(conn, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    with pytest.raises(psycopg.Error) as info:
        conn.execute("update swarm.agent_tasks set status = 'cancelled' where id = %s", (task_id,))
    assert info.value.sqlstate == "SW003"
    assert f"swarm.cancel_task({task_id})" in info.value.diag.message_hint
    assert swarm.status(task_id) == "pending"


def test_task_events_are_append_only(conn, swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    with pytest.raises(psycopg.Error) as info:
        conn.execute("delete from swarm.task_events where task_id = %s", (task_id,))
    assert "append-only" in str(info.value)
    assert swarm.events(task_id) == ["created"]


def test_state_machine_comment_matches_the_guard(swarm: SwarmClient) -> None:
    text = (SQL_DIR / "10_tasks.sql").read_text()
    commented = set(re.findall(r"^--\s+(\w+)\s+->\s+(\w+)\s", text, flags=re.M))
    listed = set(swarm.conn.execute("select * from swarm._legal_transitions()").fetchall())
    guard_array = re.search(r"<> all \(array\[(.*?)\]\)", text, flags=re.S).group(1)
    guarded = {tuple(edge.split(">")) for edge in re.findall(r"'(\w+>\w+)'", guard_array)}
    assert commented == listed == guarded


# A plain INSERT or COPY of prompts runs no PL/pgSQL a row (migration 0030): the checks of every row
# are made once a statement, after the rows are written. The tests below hold what that must not lose.

def test_one_bad_row_refuses_the_whole_bulk_insert_and_leaves_no_trace(conn) -> None:
    events_before = conn.execute("select count(*) from swarm.task_events").fetchone()[0]
    prompts = ["task %d" % n for n in range(1000)]
    prompts[500] = "   "
    err = _refused(conn, "insert into swarm.agent_tasks (agent, prompt) select 'claude', p from unnest(%s::text[]) as p",
                   (prompts,))
    assert err.sqlstate == "SW005" and "prompt is empty (agent 'claude')" in str(err)
    assert conn.execute("select count(*) from swarm.task_events").fetchone()[0] == events_before


@pytest.mark.parametrize("rows, sqlstate, words", [
    ("claude\tfine\nclaud\tfine\n", "SW001", "unknown agent 'claud'"),
    ("claude\tfine\nclaude\t\\N\n", "SW005", "prompt is null (agent 'claude')"),
])
def test_copy_is_checked_row_by_row_like_an_insert(conn, rows: str, sqlstate: str, words: str) -> None:
    with pytest.raises(psycopg.Error) as info:
        with conn.cursor().copy("copy swarm.agent_tasks (agent, prompt) from stdin") as sink:
            sink.write(rows)
    assert info.value.sqlstate == sqlstate and words in str(info.value)
    conn.rollback()
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


@pytest.mark.parametrize("column", ["key", "concurrency_key"])
def test_a_value_too_long_for_its_index_is_refused_by_name_before_the_index_sees_it(conn, column: str) -> None:
    err = _refused(conn, f"insert into swarm.agent_tasks (prompt, {column}) values ('x', %s)", ("k" * 3000,))
    assert err.sqlstate == "SW005" and f"{column} is 3000 bytes long; at most 1000" in str(err)


def test_an_explicit_null_agent_is_the_default_agent_as_a_left_out_one(conn, swarm: SwarmClient) -> None:
    conn.execute("update swarm.settings set default_agent = 'claude'")
    left_out = swarm.scalar("insert into swarm.agent_tasks (prompt) values ('x') returning agent")
    explicit = swarm.scalar("insert into swarm.agent_tasks (prompt, agent) values ('x', null) returning agent")
    assert left_out == explicit == "claude"


def test_a_renamed_agent_takes_its_tasks_along(conn, swarm: SwarmClient) -> None:
    conn.execute("insert into swarm.agents (name) values ('helper')")
    task_id = swarm.make_task("x", agent="helper")
    conn.execute("update swarm.agents set name = 'assistant' where name = 'helper'")
    assert swarm.task(task_id)["agent"] == "assistant"
    assert [t["id"] for t in swarm.claim("w1", agents=["assistant"])] == [task_id]


def test_an_agent_with_tasks_cannot_be_deleted(conn, swarm: SwarmClient) -> None:
    conn.execute("insert into swarm.agents (name) values ('helper'), ('spare')")
    task_id = swarm.make_task("x", agent="helper")
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as info:
        conn.execute("delete from swarm.agents where name = 'helper'")
    assert f"agent 'helper' cannot be deleted: it has tasks ({task_id})" in str(info.value)
    conn.rollback()
    conn.execute("delete from swarm.agents where name = 'spare'")
    assert swarm.scalar("select count(*) from swarm.agents where name in ('helper', 'spare')") == 1


def test_a_task_being_inserted_holds_its_agent_until_it_commits(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("insert into swarm.agents (name) values ('helper')")
    with psycopg.connect(dsn) as inserter, psycopg.connect(dsn) as deleter:
        inserter.execute("insert into swarm.agent_tasks (agent, prompt) values ('helper', 'x')")
        deleter.execute("set lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):  # waits for the insert's transaction
            deleter.execute("delete from swarm.agents where name = 'helper'")
        deleter.rollback()
        inserter.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            deleter.execute("delete from swarm.agents where name = 'helper'")


def test_an_insert_waits_for_a_delete_of_its_agent_and_then_finds_it_gone(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("insert into swarm.agents (name) values ('helper')")
    with psycopg.connect(dsn) as deleter, psycopg.connect(dsn) as inserter:
        deleter.execute("delete from swarm.agents where name = 'helper'")
        inserter.execute("set lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):  # the row is being deleted
            inserter.execute("insert into swarm.agent_tasks (agent, prompt) values ('helper', 'x')")
        inserter.rollback()
        deleter.commit()
        with pytest.raises(psycopg.Error) as info:
            inserter.execute("insert into swarm.agent_tasks (agent, prompt) values ('helper', 'x')")
        assert info.value.sqlstate == "SW001"
