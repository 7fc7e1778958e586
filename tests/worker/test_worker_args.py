"""Task args through a real worker: a prompt too big for one argument reaches the agent on
stdin (or in a file), args.cwd is the agent's working directory, and a gemini task in a
worktree trusts it for the session."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers.workers import AGENTS, Workers, wait_status
from tests.worker.conftest import add


def fake_config(*agents: str) -> str:
    return "".join(f'[profiles.{a}]\ncommand = ["{sys.executable}", "{AGENTS / f"fake_{a}.py"}"]\n' for a in agents)


def test_a_prompt_over_128_kib_reaches_claude_and_opencode_on_stdin(workers: Workers, db: psycopg.Connection) -> None:
    big = "mode:prompt-size " + "é" * (300 * 1024)  # 600 KiB in UTF-8: far over one argument's 128 KiB
    small = add(db, "mode:prompt-size", agent="claude")
    large = add(db, big, agent="claude")
    opencode = add(db, "mode:stdin " + "x" * (200 * 1024), agent="opencode")
    workers.start(config=fake_config("claude", "opencode"), allow_shell=False)
    assert wait_status(workers.dsn, small, "completed", workers=workers)["result"]["text"] == "16 characters, argv"
    assert wait_status(workers.dsn, large, "completed", workers=workers)["result"]["text"] == \
        f"{len(big)} characters, stdin"
    assert wait_status(workers.dsn, opencode, "completed", workers=workers)["result"]["text"] == \
        f"read {11 + 200 * 1024} characters"


def test_a_too_big_prompt_for_an_agent_without_stdin_fails_once_saying_why(workers: Workers,
                                                                          db: psycopg.Connection) -> None:
    task_id = add(db, "mode:success " + "x" * (200 * 1024), agent="cursor", max_attempts=3)
    workers.start(config=fake_config("cursor"), allow_shell=False)
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert row["attempts"] == 1 and "Linux limits one command-line argument" in row["error"]


def test_args_cwd_is_the_working_directory(workers: Workers, db: psycopg.Connection, tmp_path: Path) -> None:
    here = tmp_path / "project"
    here.mkdir()
    task_id = add(db, "pwd", args=Jsonb({"cwd": str(here)}))
    missing = add(db, "pwd", args=Jsonb({"cwd": str(tmp_path / "nowhere")}), max_attempts=1)
    relative = add(db, "pwd", args=Jsonb({"cwd": "project"}), max_attempts=3)
    workers.start()
    assert wait_status(workers.dsn, task_id, "completed", workers=workers)["result"]["output"].strip() == str(here)
    assert "is not a directory" in wait_status(workers.dsn, missing, "failed", workers=workers)["error"]
    row = wait_status(workers.dsn, relative, "failed", workers=workers)
    assert row["attempts"] == 1 and "must be an absolute path" in row["error"]


def test_args_cwd_inside_a_worktree_and_gemini_trusts_the_worktree(workers: Workers, db: psycopg.Connection,
                                                                   tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "x.txt").write_text("x")
    for command in (["init", "-q", "-b", "main"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t",
                                                                 "commit", "-qm", "init"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    db.execute("insert into swarm.agents (name) values ('pwdtool')")
    gemini = add(db, "mode:echo-args", agent="gemini", args=Jsonb({"repo": str(repo)}))
    pwd = add(db, "x", agent="pwdtool", args=Jsonb({"repo": str(repo), "cwd": "src"}))
    workers.start(config=fake_config("gemini") + '[profiles.pwdtool]\nargv = ["pwd"]\nworktree = true\n',
                  allow_shell=False)
    row = wait_status(workers.dsn, gemini, "completed", workers=workers)
    assert "--skip-trust" in json.loads(row["result"]["text"])
    row = wait_status(workers.dsn, pwd, "completed", workers=workers)
    assert row["result"]["output"].strip() == str(Path(row["result"]["worktree"]["path"]) / "src")


# -- the arg policy ------------------------------------------------------------------------------

def test_a_widening_task_runs_only_on_a_worker_whose_operator_allowed_it(workers: Workers,
                                                                        db: psycopg.Connection) -> None:
    bypass = add(db, "mode:echo-args", agent="claude", args=Jsonb({"permission_mode": "bypassPermissions"}))
    outside = add(db, "mode:echo-args", agent="claude", args=Jsonb({"add_dirs": ["/etc"]}))
    plain = add(db, "mode:echo-args", agent="claude", args=Jsonb({"permission_mode": "acceptEdits"}))
    workers.start(config=fake_config("claude"), name="strict", allow_shell=False)
    assert wait_status(workers.dsn, plain, "completed", workers=workers)["worker"] == "strict"
    # The strict worker polls every second; it has seen both widening tasks and left them.
    marker = add(db, "mode:success", agent="claude")
    wait_status(workers.dsn, marker, "completed", workers=workers)
    states = dict(db.execute("select id, status from swarm.agent_tasks where id = any(%s)",
                             ([bypass, outside],)).fetchall())
    assert states == {bypass: "pending", outside: "pending"}
    policy = '[policy]\nallow_args = ["add_dirs"]\n'
    workers.start("--allow-arg", "permission_mode=bypassPermissions", config=fake_config("claude") + policy,
                  name="trusted", allow_shell=False)
    row = wait_status(workers.dsn, bypass, "completed", workers=workers)
    assert row["worker"] == "trusted" and "bypassPermissions" in json.loads(row["result"]["text"])
    row = wait_status(workers.dsn, outside, "completed", workers=workers)
    assert row["worker"] == "trusted" and json.loads(row["result"]["text"])[4:6] == ["--add-dir", "/etc"]
    assert db.execute("select allowed_args from swarm.workers where name = 'trusted'").fetchone()[0] == [
        "permission_mode=bypassPermissions", "add_dirs"]


def test_toml_profiles_declare_their_task_args(workers: Workers, db: psycopg.Connection) -> None:
    db.execute("insert into swarm.agents (name) values ('claude-opus'), ('mytool')")
    fake = AGENTS / "fake_claude.py"
    config = (f'[profiles.claude-opus]\nbase = "claude"\ncommand = ["{sys.executable}", "{fake}"]\n'
              '[profiles.mytool]\nargv = ["echo", "--model={args.model}", "{prompt}"]\n')
    worker = workers.start(config=config, allow_shell=False)
    claude = db.execute("select task_args from swarm.agents where name = 'claude'").fetchone()[0]
    wait_status(workers.dsn, add(db, "mode:success", agent="claude-opus"), "completed", workers=workers)
    declared = dict(db.execute("select name, task_args from swarm.agents where name in ('claude-opus', 'mytool')"))
    assert declared == {"claude-opus": claude, "mytool": {"model": {"type": "scalar"}}}
    assert "declared the task args of agent mytool" in worker.output()
    with pytest.raises(psycopg.Error, match="unknown argument args.max_turn for agent 'claude-opus'"):
        add(db, "x", agent="claude-opus", args=Jsonb({"max_turn": 3}))
    with pytest.raises(psycopg.Error, match="args.model for agent 'mytool' must be a string or a number"):
        add(db, "x", agent="mytool", args=Jsonb({"model": ["a"]}))
    # A widening value keeps its mark under the new name: the worker was not allowed it.
    assert add(db, "x", agent="claude-opus", args=Jsonb({"permission_mode": "bypassPermissions"}))
    assert db.execute("select arg_allowances from swarm.agent_tasks where agent = 'claude-opus' order by id desc"
                      ).fetchone()[0] == ["permission_mode=bypassPermissions"]
