"""What agents are given (issue 16, defect 3): never the worker's credentials; a login of their
own (--agent-dsn) holding only swarm_agent, and their attempt's task token. A prompt-injected
agent using everything in its environment changes nothing it should not."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers.workers import Workers, wait_for, wait_status
from tests.worker.conftest import add, agent

PYTHONPATH = {"PYTHONPATH": os.pathsep.join(sys.path)}


def report_config() -> str:
    """A profile running env_report.py that would pass every PG* variable and DATABASE_URL along."""
    script = str(Path(agent("env_report.py").split()[1]))
    return ("[profiles.report]\n"
            f'argv = {json.dumps([sys.executable, script, "{prompt}"])}\n'
            'parser = "plain"\nenv_allowlist = ["PG*", "DATABASE_URL"]\n')


def test_agents_never_get_the_workers_credentials(workers: Workers, db: psycopg.Connection, agent_dsn: str) -> None:
    db.execute("insert into swarm.agents (name) values ('report')")
    task_id = add(db, "what do I get?", agent="report")
    worker_dsn = workers.dsn.replace("postgres@", "postgres:worker-s3cret-pw@")
    # The last --dsn wins: the worker logs in with a password, also in its environment; the agents'
    # login comes from the environment, as a systemd EnvironmentFile gives it.
    workers.start("--dsn", worker_dsn, config=report_config(),
                  env={"PGPASSWORD": "pgpass-s3cret", "DATABASE_URL": worker_dsn, "PGUSER": "postgres",
                       "PGSWARM_AGENT_DSN": agent_dsn})
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    report = json.loads(Path(row["log_path"]).read_text().strip().splitlines()[-1])
    everything = report["all_env"]
    for secret in ("worker-s3cret-pw", "pgpass-s3cret", workers.dsn):
        assert not [name for name, value in everything.items() if secret in value], secret
    assert not {"DATABASE_URL", "PGUSER", "PGPASSWORD", "PGSWARM_AGENT_DSN"} & set(everything)
    assert everything["PGSWARM_DSN"] == agent_dsn
    assert everything["PGSWARM_TASK_ID"] == str(task_id) and len(everything["PGSWARM_TASK_TOKEN"]) == 64


def test_a_prompt_injected_agent_is_refused_everything_else(workers: Workers, db: psycopg.Connection,
                                                            agent_dsn: str) -> None:
    victim = add(db, "someone else's work", agent="claude", key="victim")
    before = db.execute("select count(*) from swarm.agent_tasks").fetchone()[0]
    task_id = add(db, f"{agent('injected.py')} {victim}")
    workers.start("--agents", "shell", "--agent-dsn", agent_dsn, env=PYTHONPATH)
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    outcome = json.loads(row["output_tail"].strip().splitlines()[-1])
    assert len(outcome) == 13
    allowed = [what for what, said in outcome.items() if not said.startswith("refused")]
    assert allowed == [], outcome
    assert "not valid" in outcome["a child of another task"]
    assert "cannot enqueue shell tasks" in outcome["a shell child"] or "shell" in outcome["pgswarm add --agent shell"]
    victim_row = db.execute("select status, result, cancel_requested_at from swarm.agent_tasks where id = %s",
                            (victim,)).fetchone()
    assert victim_row == ("pending", None, None)
    assert db.execute("select paused_until, max_concurrent from swarm.agents where name = 'claude'").fetchone() \
        == (None, None)
    assert db.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == before + 1  # the agent's own


def test_without_an_agent_login_an_agents_pgswarm_add_says_what_to_do(workers: Workers,
                                                                      db: psycopg.Connection) -> None:
    task_id = add(db, f"{sys.executable} -m pgswarm.cli.main add 'follow-up' --agent codex", max_attempts=1)
    worker = workers.start("--agents", "shell", env=PYTHONPATH)
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert "no database login for agents" in row["output_tail"] and "--agent-dsn" in row["output_tail"]
    assert db.execute("select count(*) from swarm.agent_tasks where parent_id = %s", (task_id,)).fetchone()[0] == 0
    wait_for(lambda: "agents get no database login" in worker.output(), 10, "the worker's warning")


def test_an_agent_dsn_with_more_than_the_agent_role_is_refused(workers: Workers, db: psycopg.Connection) -> None:
    same = workers.start("--agent-dsn", workers.dsn, name="same")
    assert same.process.wait(60) == 2
    assert "the worker's own DSN" in same.output() and "Traceback" not in same.output()
    db.execute("create role agentcap_too_much login in role swarm_worker")
    try:
        too_much = workers.start("--agent-dsn", workers.dsn.replace("postgres@", "agentcap_too_much@"), name="much")
        assert too_much.process.wait(60) == 2
        assert "holds swarm_worker" in too_much.output() and "swarm_agent" in too_much.output()
    finally:
        db.execute("drop role agentcap_too_much")
    superuser = workers.start("--agent-dsn", workers.dsn + "?application_name=x", name="super")
    assert superuser.process.wait(60) == 2
    assert "a superuser" in superuser.output()


@pytest.mark.parametrize("profile", ["claude", "codex"])
def test_swarm_tools_hand_the_agent_an_mcp_server_scoped_to_its_attempt(workers: Workers, db: psycopg.Connection,
                                                                         agent_dsn: str, profile: str) -> None:
    """The fake claude reads the --mcp-config it was given (the fake codex its -c mcp_servers
    overrides), starts the server it names with the SDK's client, enqueues two subtasks, and tries
    what it may not: all refused."""
    other = add(db, "someone else's work", agent="gemini")
    task_id = add(db, f"mode:swarm-tools other:{other}", agent=profile, args=Jsonb({"swarm_tools": True}))
    fake = agent(f"fake_{profile}.py").split()[1]
    config = f'[profiles.{profile}]\ncommand = {json.dumps([sys.executable, fake])}\n'
    workers.start("--agents", profile, "--agent-dsn", agent_dsn, config=config)
    row = wait_status(workers.dsn, task_id, {"completed", "failed"}, timeout=120, workers=workers)
    assert row["status"] == "completed", row["error"] or row["output_tail"]
    used = json.loads(row["result"]["text"])
    assert used["tools"] == ["enqueue_task", "get_dependency_results", "list_children", "report_progress"]
    assert used["config_env"] == ["HOME", "PATH", "PGSWARM_DSN", "PGSWARM_TASK_ID", "PGSWARM_TASK_TOKEN"]
    children = db.execute("select id, agent, parent_id, depends_on from swarm.agent_tasks where parent_id = %s "
                          "order by id", (task_id,)).fetchall()
    first, second = used["children"]
    assert children == [(first, "codex", task_id, []), (second, "claude", task_id, [first])]
    assert [c["id"] for c in used["listed"]] == [first, second] and used["deps"] == []
    assert row["progress"]["agent"] == {"message": "two subtasks queued", "percent": 50}
    assert all(is_error for is_error, _ in used["refused"].values()), used["refused"]
    assert f"children of task {task_id}" in used["refused"]["another parent"][1]
    assert "shell" in used["refused"]["a shell task"][1]
    assert db.execute("select status, cancel_requested_at from swarm.agent_tasks where id = %s",
                      (other,)).fetchone() == ("pending", None)
    assert not list((workers.directory / "attempt-logs").glob("*-mcp.json"))  # it held the token: gone


def test_swarm_tools_without_an_agent_login_fail_saying_why(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:success", agent="claude", args=Jsonb({"swarm_tools": True}))
    config = f'[profiles.claude]\ncommand = {json.dumps([sys.executable, agent("fake_claude.py").split()[1]])}\n'
    workers.start("--agents", "claude", config=config)
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert "args.swarm_tools needs a database login for agents" in row["error"] and "--agent-dsn" in row["error"]
    assert row["attempts"] == 1  # not retried: it cannot work on this worker


def test_a_worker_name_whose_key_another_login_holds_is_refused_at_start(workers: Workers,
                                                                          db: psycopg.Connection) -> None:
    """The tokens of a worker name are made with the key its login registered: another login
    reusing the name (a leaked or misconfigured one) cannot replace it, and says why."""
    db.execute("select swarm.register_agent_key('shared', %s)", (b"k" * 32,))  # as the superuser
    login = f"wk_{db.info.dbname}"[:63]
    db.execute(f'create role "{login}" login in role swarm_worker')
    try:
        worker = workers.start("--dsn", workers.dsn.replace("postgres@", f"{login}@"), name="shared")
        assert worker.process.wait(60) == 2, worker.output()
        assert "--name shared: worker shared registered its agent key as another login" in worker.output()
        assert "Traceback" not in worker.output()
    finally:
        db.execute(f'drop owned by "{login}"')
        db.execute(f'drop role "{login}"')
