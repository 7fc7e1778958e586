"""A worker runs what it claims: the process contract (argv, environment, stdin, logs), outcomes,
and claiming only as much as it has room for."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers.workers import Workers, task_row, wait_for, wait_status
from tests.worker.conftest import add, agent


def test_shell_task_completes_with_output_log_and_tail(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "echo hello from the agent; echo to stderr >&2")
    workers.start()
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    assert row["exit_code"] == 0
    assert "hello from the agent" in row["output_tail"] and "to stderr" in row["output_tail"]
    log = Path(row["log_path"])
    assert log.is_file() and "hello from the agent" in log.read_text()
    assert row["attempts"] == 1 and row["worker"] == "w1"


def test_a_log_directory_removed_while_the_worker_runs_is_made_again(workers: Workers, db: psycopg.Connection) -> None:
    first = add(db, "echo first")
    workers.start()
    log_dir = Path(wait_status(workers.dsn, first, "completed", workers=workers)["log_path"]).parent
    shutil.rmtree(log_dir)
    second = add(db, "echo second")
    row = wait_status(workers.dsn, second, "completed", workers=workers)
    assert Path(row["log_path"]).parent == log_dir and "second" in Path(row["log_path"]).read_text()


def test_failing_command_is_retried_then_failed_with_its_exit_code(workers: Workers, db: psycopg.Connection) -> None:
    db.execute("update swarm.agents set retry_backoff_base_seconds = 1, retry_backoff_max_seconds = 1 "
               "where name = 'shell'")
    task_id = add(db, "echo broken >&2; exit 3", max_attempts=2)
    workers.start()
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert row["attempts"] == 2 and row["exit_code"] == 3
    assert "3" in row["error"] and "broken" in row["output_tail"]
    events = [e for (e,) in db.execute("select event from swarm.task_events where task_id = %s order by id",
                                       (task_id,))]
    assert events.count("claimed") == 2 and events[-1] == "failed"


def test_without_allow_shell_shell_tasks_are_left_for_another_worker(workers: Workers, db: psycopg.Connection) -> None:
    config = f'[profiles.report]\nargv = {json.dumps([sys.executable, "-c", "print(1)"])}\nparser = "plain"\n'
    db.execute("insert into swarm.agents (name) values ('report')")
    shell_task = add(db, "echo should not run here")
    other = add(db, "anything", agent="report")
    workers.start(config=config, allow_shell=False)
    wait_status(workers.dsn, other, "completed", workers=workers)
    # A later task is claimed after the shell task in claim order: once it ran, the worker has passed
    # the shell task by, not just not reached it yet.
    later = add(db, "anything", agent="report")
    wait_status(workers.dsn, later, "completed", workers=workers)
    assert task_row(workers.dsn, shell_task)["status"] == "pending"


def test_asking_for_shell_without_allow_shell_is_refused(workers: Workers) -> None:
    worker = workers.start("--agents", "shell", allow_shell=False)
    assert worker.process.wait(60) == 2
    assert "--allow-shell" in worker.output() and "Traceback" not in worker.output()


def test_process_contract_argv_env_stdin_and_deps(workers: Workers, db: psycopg.Connection) -> None:
    """The prompt is one argv element even when it starts with '-'; the environment is the
    allowlist plus PGSWARM_*; CLAUDECODE is removed; the dependencies' results are in a file."""
    config = ("[profiles.report]\n"
              f'argv = {json.dumps([sys.executable, str(Path(agent("env_report.py").split()[1])), "{args.mode}", "{prompt}"])}\n'
              'parser = "plain"\nenv = { FAKE_EXTRA = "from-config" }\n')
    db.execute("insert into swarm.agents (name) values ('report')")
    first = add(db, "echo dependency done")
    tricky = "--help; rm -rf / $(whoami) 'quoted' \"double\"\nsecond line"
    task_id = add(db, tricky, agent="report", args=Jsonb({"mode": "check"}), depends_on=[first])
    worker = workers.start(config=config, env={"CLAUDECODE": "1", "CLAUDE_CODE_ENTRYPOINT": "cli",
                                               "SECRET_TOKEN": "must-not-leak"})
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    report = json.loads(Path(row["log_path"]).read_text().strip().splitlines()[-1])
    assert report["argv"] == ["check", tricky]
    env = report["env"]
    assert env["PGSWARM_TASK_ID"] == str(task_id) and env["PGSWARM_ATTEMPT"] == "1"
    assert "PGSWARM_DSN" not in env and env["FAKE_EXTRA"] == "from-config"  # no --agent-dsn: no login at all
    assert len(env["PGSWARM_TASK_TOKEN"]) == 64
    assert "CLAUDECODE" not in env and "CLAUDE_CODE_ENTRYPOINT" not in env and "SECRET_TOKEN" not in env
    assert report["deps"][0]["id"] == first and report["deps"][0]["status"] == "completed"
    assert report["deps"][0]["result"] is not None
    assert worker.alive()


def test_a_command_that_is_not_installed_fails_the_attempt_saying_so(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "no-such-agent-xyz --version", max_attempts=1)
    workers.start()
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert "cannot start 'no-such-agent-xyz': No such file or directory" in row["error"]
    assert "PATH" in row["error"]


@pytest.mark.parametrize("started_with_sighup_ignored", [False, True], ids=["plain", "nohup"])
def test_the_agent_does_not_inherit_the_workers_ignored_signals(workers: Workers, db: psycopg.Connection,
                                                                started_with_sighup_ignored: bool) -> None:
    """Python ignores SIGPIPE (and SIGXFSZ) in the worker, and `nohup pgswarm worker` starts it with
    SIGHUP ignored; an agent that inherited that would never see a pipeline's producer stopped by
    SIGPIPE (`producer | head` would run to its end), nor a hangup its own tools rely on."""
    task_id = add(db, "grep SigIgn /proc/self/status")
    if started_with_sighup_ignored:
        previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # inherited by the worker, as nohup does
        try:
            workers.start()
        finally:
            signal.signal(signal.SIGHUP, previous)
    else:
        workers.start()
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    label, mask = row["output_tail"].split()
    ignored = {signal.Signals(bit + 1).name for bit in range(31) if int(mask, 16) >> bit & 1}
    assert label == "SigIgn:" and ignored == set()


def test_stdin_is_closed_so_a_stdin_reader_does_not_hang(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, agent("stdin_reader.py"), timeout_seconds=20)
    workers.start()
    row = wait_status(workers.dsn, task_id, "completed", timeout=30, workers=workers)
    assert "stdin closed after 0 bytes" in row["output_tail"]


def test_prompt_over_the_kernel_argument_limit_fails_clearly(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "echo " + "x" * 200_000)
    workers.start()
    row = wait_status(workers.dsn, task_id, "failed", workers=workers)
    assert "128" in row["error"] or "131071" in row["error"]
    assert "argument" in row["error"] and row["attempts"] == 1  # not retried: it cannot work


def test_huge_output_is_capped_in_the_log_and_the_tail_kept(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, f"{agent('huge_output.py')} 60")
    workers.start()
    row = wait_status(workers.dsn, task_id, "completed", timeout=120, workers=workers)
    log = Path(row["log_path"])
    size = log.stat().st_size
    assert size < 11 * 1024 * 1024, f"log is {size} bytes for 60 MiB of output"
    text = log.read_bytes()[-300 * 1024:].decode(errors="replace")
    assert "bytes of output dropped" in text and text.rstrip().endswith("END-OF-OUTPUT")
    assert row["output_tail"].rstrip().endswith("END-OF-OUTPUT") and len(row["output_tail"]) <= 8192


def test_agent_enqueues_a_follow_up_with_parent(workers: Workers, db: psycopg.Connection, agent_dsn: str) -> None:
    """Out of the box with a real worker: the agent's `pgswarm add` (its parent defaulting to
    $PGSWARM_TASK_ID) goes through its attempt's capability, as the login --agent-dsn gives it."""
    pgswarm = f"{sys.executable} -m pgswarm.cli.main"
    task_id = add(db, f'{pgswarm} add "review the fix" --agent codex && {pgswarm} add "and a second look" '
                      f'--agent claude --parent "$PGSWARM_TASK_ID"')
    workers.start("--agents", "shell", "--agent-dsn", agent_dsn, env={"PYTHONPATH": os.pathsep.join(sys.path)})
    wait_status(workers.dsn, task_id, "completed", workers=workers)
    children = db.execute("select agent, status, prompt from swarm.agent_tasks where parent_id = %s order by id",
                          (task_id,)).fetchall()
    assert children == [("codex", "pending", "review the fix"), ("claude", "pending", "and a second look")]


def test_claims_only_as_many_as_it_has_slots(workers: Workers, db: psycopg.Connection) -> None:
    ids = [add(db, "sleep 1") for _ in range(6)]
    workers.start(concurrency=2)
    most = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        (running,) = db.execute("select count(*) from swarm.agent_tasks where status = 'running'").fetchone()
        most = max(most, running)
        (done,) = db.execute("select count(*) from swarm.agent_tasks where status = 'completed'").fetchone()
        if done == len(ids):
            break
        time.sleep(0.05)
    assert done == len(ids)
    assert most == 2


def test_batch_claim_fills_every_free_slot_at_once(workers: Workers, db: psycopg.Connection) -> None:
    worker = workers.start(concurrency=8)
    wait_for(lambda: db.execute("select count(*) from swarm.workers where name = 'w1'").fetchone()[0], 30,
             "the worker to register", diagnostics=workers.logs)
    db.execute("insert into swarm.agent_tasks (prompt) select 'sleep 2' from generate_series(1, 8)")
    wait_for(lambda: db.execute("select count(*) from swarm.agent_tasks where status = 'running'").fetchone()[0] == 8,
             10, "eight running tasks", diagnostics=workers.logs)
    claim_times = db.execute("select count(distinct started_at) from swarm.agent_tasks").fetchone()[0]
    assert claim_times == 1, "eight free slots, one notification: one batch claim"
    assert worker.alive()


def test_worker_registers_and_stops_cleanly(workers: Workers, db: psycopg.Connection) -> None:
    worker = workers.start(concurrency=3)
    row = wait_for(lambda: db.execute("select hostname, pid, agents, concurrency, stopped_at from swarm.workers "
                                      "where name = 'w1'").fetchone(), 30, "registration", diagnostics=workers.logs)
    assert row[1] == worker.process.pid and "shell" in row[2] and row[3] == 3 and row[4] is None
    assert worker.stop() == 0
    assert db.execute("select stopped_at from swarm.workers where name = 'w1'").fetchone()[0] is not None
