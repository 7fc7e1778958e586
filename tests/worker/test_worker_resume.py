"""A retry continues the agent's session: the ledger keeps each attempt's session, and after a
release (here a usage-limit pause) the next attempt is started with the agent's resume flags."""
from __future__ import annotations

import json

import psycopg
from psycopg.types.json import Jsonb

from tests.helpers.workers import Workers, wait_for, wait_status
from tests.worker.conftest import add
from tests.worker.test_worker_agents import fake_config

FIRST_SESSION = "5f1c2d3e-0000-4000-8000-000000000001"


def ledger(db: psycopg.Connection, task_id: int) -> list[tuple]:
    return db.execute("select attempt, outcome, session_id, resumed_session_id, cost_usd from swarm.task_attempts "
                      "where task_id = %s order by id", (task_id,)).fetchall()


def test_after_a_usage_limit_the_next_attempt_resumes_the_session(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:limit-then-echo", agent="claude")
    workers.start(config=fake_config("claude"))
    wait_for(lambda: ledger(db, task_id) and ledger(db, task_id)[0][1] == "released", 30,
             "the usage-limited attempt to be released", diagnostics=workers.logs)
    assert ledger(db, task_id)[0][2] == FIRST_SESSION, "the session of the released attempt is in the ledger"
    db.execute("select swarm.resume_agent('claude')")  # the limit's reset time came
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    argv = json.loads(row["result"]["text"])
    assert argv[argv.index("--resume") + 1] == FIRST_SESSION and "--fork-session" in argv
    second = ledger(db, task_id)[1]
    assert second[1:4] == ("completed", FIRST_SESSION[:-1] + "2", FIRST_SESSION)


def test_never_starts_afresh(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "mode:limit-then-echo", agent="claude", args=Jsonb({"resume_on_retry": "never"}))
    workers.start(config=fake_config("claude"))
    wait_for(lambda: ledger(db, task_id) and ledger(db, task_id)[0][1] == "released", 30,
             "the usage-limited attempt to be released", diagnostics=workers.logs)
    db.execute("select swarm.resume_agent('claude')")
    # Without --resume the fake hits its limit again: released a second time, never resumed.
    wait_for(lambda: len(ledger(db, task_id)) == 2 and ledger(db, task_id)[1][1] == "released", 30,
             "the second attempt to be released", diagnostics=workers.logs)
    assert [r[3] for r in ledger(db, task_id)] == [None, None]


def test_each_profile_resumes_with_its_own_flags() -> None:
    from pgswarm.worker.profiles.base import TaskSpec
    from pgswarm.worker.profiles.claude import ClaudeProfile
    from pgswarm.worker.profiles.codex import CodexProfile
    from pgswarm.worker.profiles.gemini import GeminiProfile

    spec = TaskSpec(1, 2, "x", "go on", {}, 60, resume_session="sess-9")
    claude = ClaudeProfile().build_argv(spec)
    assert claude[claude.index("--resume"):claude.index("--resume") + 3] == ["--resume", "sess-9", "--fork-session"]
    assert CodexProfile().build_argv(spec)[-4:] == ["resume", "sess-9", "--", "go on"]
    assert "--resume=sess-9" in GeminiProfile().build_argv(spec)
    fresh = TaskSpec(1, 1, "x", "go on", {}, 60)
    assert not any("resume" in a for p in (ClaudeProfile(), CodexProfile(), GeminiProfile())
                   for a in p.build_argv(fresh))


def test_the_session_is_found_in_each_agents_output(tmp_path) -> None:
    from pgswarm.worker.sessions import session_of_attempt

    log = tmp_path / "a.log"
    log.write_text('{"type":"thread.started","thread_id":"th-1"}\n{"type":"turn.started"}\n')
    assert session_of_attempt(log, "", None) == "th-1"
    log.write_text('{"type":"system","subtype":"init","session_id":"s-1"}\n')
    assert session_of_attempt(log, "", None) == "s-1"
    log.write_text('{\n  "session_id": "g-1",\n  "response": "hi"\n}\n')  # gemini's pretty JSON document
    assert session_of_attempt(log, "", {"text": "hi", "session_id": "g-1"}) == "g-1"
    assert session_of_attempt(tmp_path / "missing.log", "", None) is None


def test_after_a_lost_lease_the_next_attempt_resumes_the_session_recorded_while_running(
        workers: Workers, db: psycopg.Connection) -> None:
    """The worker dies mid-run and never reports; the session it saw in the agent's output was
    recorded at once, so the attempt after the lease expired continues it."""
    import signal

    task_id = add(db, "mode:stall-then-echo", agent="claude")
    first = workers.start(config=fake_config("claude"), name="w1", lease_seconds=3)
    wait_for(lambda: ledger(db, task_id) and ledger(db, task_id)[0][2] == FIRST_SESSION, 30,
             "the running attempt's session to be recorded", diagnostics=workers.logs)
    first.signal(signal.SIGKILL)
    first.process.wait(10)
    # The same name again: the new worker sweeps the dead one's agent away, reaps, claims again.
    workers.start(config=fake_config("claude"), name="w1", lease_seconds=3)
    row = wait_status(workers.dsn, task_id, "completed", timeout=90, workers=workers)
    argv = json.loads(row["result"]["text"])
    assert argv[argv.index("--resume") + 1] == FIRST_SESSION
    assert [r[1] for r in ledger(db, task_id)] == ["lease_expired", "completed"]


def test_a_session_missing_on_this_node_runs_afresh_in_the_same_attempt(workers: Workers,
                                                                         db: psycopg.Connection) -> None:
    import socket

    task_id = add(db, "mode:success", agent="claude")
    token = db.execute("select lease_token from swarm.claim_task('w0', hostname => %s)",
                       (socket.gethostname(),)).fetchone()[0]
    db.execute("select * from swarm.release_task(%s, 'w0', 1, session_id => 'gone-1234', lease_token => %s)",
               (task_id, token))
    workers.start(config=fake_config("claude"))
    row = wait_status(workers.dsn, task_id, "completed", workers=workers)
    assert row["attempts"] == 1 and row["result"]["text"].startswith("Fixed the flaky test")
    assert ledger(db, task_id)[1][1:4] == ("completed", FIRST_SESSION, "gone-1234")
    assert workers.logged("cannot resume session gone-1234 here; starting a new session")
