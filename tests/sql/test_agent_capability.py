"""The per-attempt capability of a running agent (sql/87_agent_capability.sql): a token that works
only while its attempt runs, for its own task only, through role swarm_agent, which can do
nothing else."""
from __future__ import annotations

import json
import psycopg
import pytest

from pgswarm.worker.capability import new_agent_key, task_token
from tests.helpers.logins import Logins

KEY = new_agent_key()


@pytest.fixture
def agent_login(logins: Logins) -> psycopg.Connection:
    """A login holding only swarm_agent, as an agent's --agent-dsn would."""
    return logins.connect("swarm_agent", "cap_agent_login")


def running(swarm, conn, prompt: str = "parent", worker: str = "w1") -> tuple[int, str]:
    """A task claimed by `worker` (whose key is registered) and its attempt's token."""
    conn.execute("select swarm.register_agent_key(%s, %s)", (worker, KEY))
    task_id = swarm.make_task(prompt, agent="claude")
    [claimed] = [row for row in swarm.claim(worker) if row["id"] == task_id]
    return task_id, task_token(KEY, task_id, claimed["attempts"], claimed["started_at"])


def refused(call, *args) -> str:
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
        call(*args)
    return str(info.value)


def enqueue(agent: psycopg.Connection, task_id: int, token: str, tasks: list[dict]) -> list[tuple]:
    return agent.execute("select id, agent, created from swarm.agent_enqueue(%s, %s, %s)",
                         (task_id, token, json.dumps(tasks))).fetchall()


def test_a_token_enqueues_children_of_its_own_task(swarm, conn, agent_login) -> None:
    task_id, token = running(swarm, conn)
    rows = enqueue(agent_login, task_id, token, [{"prompt": "child a", "agent": "codex", "ref": "a"},
                                                 {"prompt": "follow-up", "agent": "claude", "depends_on": ["a", task_id]}])
    assert [(agent, created) for _, agent, created in rows] == [("codex", True), ("claude", True)]
    child, follow_up = (row[0] for row in rows)
    assert swarm.task(child)["parent_id"] == task_id
    assert swarm.task(follow_up)["parent_id"] == task_id
    assert sorted(swarm.task(follow_up)["depends_on"]) == sorted([child, task_id])
    assert swarm.events(child)[0] == "created"


def test_the_token_the_worker_computes_is_the_engines(swarm, conn) -> None:
    task_id, token = running(swarm, conn)
    task = swarm.task(task_id)
    assert conn.execute("select swarm._agent_token(%s, %s, %s, %s)",
                        (KEY, task_id, task["attempts"], task["started_at"])).fetchone()[0] == token


def test_a_token_is_refused_once_its_attempt_reported_or_was_released(swarm, conn, agent_login) -> None:
    done, done_token = running(swarm, conn, "done")
    assert swarm.complete(done, "w1", 1).accepted
    message = refused(enqueue, agent_login, done, done_token, [{"prompt": "late", "agent": "claude"}])
    assert f"the task token for task {done} is not valid" in message
    released, released_token = running(swarm, conn, "released")
    assert swarm.release(released, "w1", 1).accepted
    refused(enqueue, agent_login, released, released_token, [{"prompt": "late", "agent": "claude"}])
    # Claimed again (same attempt number, as a release does not spend it): the old token stays dead.
    [again] = swarm.claim("w1")
    assert again["id"] == released and again["attempts"] == 1
    refused(enqueue, agent_login, released, released_token, [{"prompt": "late", "agent": "claude"}])
    assert swarm.conn.execute("select count(*) from swarm.agent_tasks where parent_id in (%s, %s)",
                              (done, released)).fetchone()[0] == 0


def test_a_token_is_refused_once_the_lease_expired_or_a_cancel_was_asked(swarm, conn, agent_login) -> None:
    task_id, token = running(swarm, conn)
    conn.execute("update swarm.agent_tasks set lease_expires_at = now() - interval '1 second' where id = %s",
                 (task_id,))
    refused(agent_login.execute, "select swarm.agent_children(%s, %s)", (task_id, token))
    other, other_token = running(swarm, conn, "other")
    swarm.cancel(other)
    refused(agent_login.execute, "select swarm.agent_children(%s, %s)", (other, other_token))


def test_a_token_works_for_its_own_task_only(swarm, conn, agent_login) -> None:
    mine, token = running(swarm, conn, "mine")
    theirs, _ = running(swarm, conn, "theirs")
    refused(enqueue, agent_login, theirs, token, [{"prompt": "x", "agent": "claude"}])
    refused(agent_login.execute, "select swarm.agent_dependency_results(%s, %s)", (theirs, token))
    refused(agent_login.execute, "select swarm.agent_children(%s, %s)", (theirs, token))
    refused(agent_login.execute, "select swarm.agent_report_progress(%s, %s, '{}')", (theirs, token))
    refused(agent_login.execute, "select swarm.agent_children(%s, %s)", (mine, "0" * 64))
    refused(agent_login.execute, "select swarm.agent_children(%s, %s)", (999999, token))


def test_an_agent_cannot_pick_another_parent_a_shell_task_or_a_foreign_dependency(swarm, conn, agent_login) -> None:
    task_id, token = running(swarm, conn)
    stranger = swarm.make_task("someone else's", agent="claude", key="strangers-key")
    before = conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]
    assert "children of its own task" in refused(enqueue, agent_login, task_id, token,
                                                  [{"prompt": "x", "agent": "claude", "parent_id": stranger}])
    assert "cannot enqueue shell tasks" in refused(enqueue, agent_login, task_id, token,
                                                   [{"prompt": "rm -rf /", "agent": "shell"}])
    # The database's default agent is shell here: leaving agent out is a shell task too.
    refused(enqueue, agent_login, task_id, token, [{"prompt": "rm -rf /"}])
    assert "not task" in refused(enqueue, agent_login, task_id, token,
                                 [{"prompt": "x", "agent": "claude", "depends_on": [stranger]}])
    refused(enqueue, agent_login, task_id, token, [{"prompt": "x", "agent": "claude", "depends_on": ["strangers-key"]}])
    refused(enqueue, agent_login, task_id, token, [{"prompt": "x", "agent": "claude", "key": "strangers-key"}])
    # All or nothing: a good task before a refused one is not kept either.
    refused(enqueue, agent_login, task_id, token, [{"prompt": "ok", "agent": "claude"},
                                                   {"prompt": "rm", "agent": "shell"}])
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == before


def test_dependency_results_children_and_progress(swarm, conn, agent_login) -> None:
    dep = swarm.make_task("dep", agent="claude")
    conn.execute("select swarm.register_agent_key('w1', %s)", (KEY,))
    [claimed] = swarm.claim("w1")
    assert swarm.complete(dep, "w1", claimed["attempts"], result={"answer": 42}).accepted
    task_id = swarm.make_task("uses dep", agent="claude", depends_on=[dep])
    [claimed] = swarm.claim("w1")
    token = task_token(KEY, task_id, claimed["attempts"], claimed["started_at"])
    [result] = agent_login.execute("select swarm.agent_dependency_results(%s, %s)", (task_id, token)).fetchone()[0]
    assert (result["id"], result["status"], result["result"]) == (dep, "completed", {"answer": 42})
    [[child, _, _]] = enqueue(agent_login, task_id, token, [{"prompt": "sub", "agent": "codex"}])
    [outcome] = agent_login.execute("select swarm.agent_children(%s, %s)", (task_id, token)).fetchone()[0]
    assert (outcome["id"], outcome["status"]) == (child, "pending")
    agent_login.execute("select swarm.agent_report_progress(%s, %s, %s)",
                        (task_id, token, json.dumps({"message": "tests pass", "percent": 60})))
    assert swarm.task(task_id)["progress"] == {"agent": {"message": "tests pass", "percent": 60}}
    with pytest.raises(psycopg.Error) as info:
        agent_login.execute("select swarm.agent_report_progress(%s, %s, '[1]')", (task_id, token))
    assert "progress must be a JSON object" in str(info.value)
    assert swarm.status(task_id) == "running"


def test_the_agent_role_can_do_nothing_else(swarm, conn, agent_login) -> None:
    task_id, _ = running(swarm, conn)
    other = swarm.make_task("other", agent="claude")
    for sql in (f"select * from swarm.complete_task({task_id}, 'w1', 1)",
                f"select * from swarm.fail_task({task_id}, 'w1', 1, 'x')",
                f"select swarm.cancel_task({other})",
                "select swarm.pause_agent('claude', 'infinity', 'injected')",
                "insert into swarm.agent_tasks (prompt, agent) values ('rm -rf /', 'shell')",
                "select swarm.enqueue_many('[{\"prompt\": \"x\"}]')",
                f"select swarm.dependency_results({task_id})",
                "select * from swarm.agent_tasks",
                "select * from swarm.agent_keys",
                "select * from swarm.claim_task('w9')",
                "select swarm.register_agent_key('w1', '\\x00')"):
        refused(agent_login.execute, sql)
    assert swarm.status(task_id) == "running" and swarm.status(other) == "pending"


def test_a_worker_name_keeps_the_key_of_the_login_that_registered_it(swarm, conn, dsn: str) -> None:
    conn.execute("create role cap_worker_a login in role swarm_worker")
    conn.execute("create role cap_worker_b login in role swarm_worker")
    try:
        with psycopg.connect(dsn.replace("postgres@", "cap_worker_a@"), autocommit=True) as a, \
             psycopg.connect(dsn.replace("postgres@", "cap_worker_b@"), autocommit=True) as b:
            a.execute("select swarm.register_agent_key('wa', %s)", (KEY,))
            a.execute("select swarm.register_agent_key('wa', %s)", (new_agent_key(),))  # a restart
            assert "registered its agent key as another login" in refused(
                b.execute, "select swarm.register_agent_key('wa', %s)", (KEY,))
            with pytest.raises(psycopg.Error) as info:
                a.execute("select swarm.register_agent_key('wa', '\\x0102')")
            assert "at least 32 random bytes" in str(info.value)
    finally:
        for login in ("cap_worker_a", "cap_worker_b"):
            conn.execute(f"drop owned by {login}")
            conn.execute(f"drop role {login}")
