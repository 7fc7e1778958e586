"""The role matrix of docs/security.md, tried cell by cell: a login per role (and one with no
pgswarm grant) attempts every action; the document's table is the expected answer (one source).

Each cell runs in a transaction of its own that is rolled back, against tasks that other logins
created and claimed beforehand, so cells do not disturb each other."""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from .conftest import Login, connect

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
ROLE_OF_COLUMN = {"swarm_enqueue": "swarm_enqueue", "swarm_worker": "swarm_worker",
                  "swarm_monitor": "swarm_monitor", "swarm_agent": "swarm_agent", "no grant": None}
TENANTS = " (tenants on)"


def expected_matrix() -> dict[str, dict[str, str]]:
    """{action: {column: 'yes' | 'no'}} from the table between the role-matrix markers
    (a cell's † only says that other work will change it)."""
    text = DOC.read_text()
    block = text.split("<!-- role-matrix: begin -->", 1)[1].split("<!-- role-matrix: end -->", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in block.strip().splitlines() if line.strip().startswith("|")]
    header, body = rows[0], [r for r in rows[2:]]
    matrix = {}
    for row in body:
        assert len(row) == len(header), row
        matrix[row[0]] = {column: re.sub(r"[†\s]", "", value) for column, value in zip(header[1:], row[1:])}
        assert set(matrix[row[0]].values()) <= {"yes", "no"}, row
    return matrix


@dataclass
class World:
    """Tasks other logins made: pending, cancelled, completed (with a result), archived, and one
    running under another worker login's claim; a pending shell task a cell may claim."""

    pending: int
    cancelled: int
    completed: int
    archived: int
    running: int
    claimable: int
    cell_worker: str
    running_token: str  # the running attempt's task token, as its worker hands it to the agent


Action = Callable[[psycopg.Connection, World], bool]
REFUSED_STATES = ("42501",)  # insufficient privilege; and every SW error of the engine


def refused(exc: psycopg.Error) -> bool:
    state = exc.sqlstate or ""
    return state in REFUSED_STATES or state.startswith("SW")


def rows(c: psycopg.Connection, sql: str, params: object = None) -> list[tuple]:
    return c.execute(sql, params).fetchall()


def changed(c: psycopg.Connection, sql: str, params: object = None) -> bool:
    return c.execute(sql, params).rowcount > 0


def any_of(c: psycopg.Connection, *statements: str) -> bool:
    """Whether any of the statements goes through (each in a savepoint of its own)."""
    for statement in statements:
        try:
            with c.transaction():
                c.execute(statement)
                return True
        except psycopg.Error as exc:
            if not refused(exc):
                raise
    return False


def own_claim(c: psycopg.Connection, w: World) -> tuple[int, int, object]:
    """The claimed task's id, attempt and lease token."""
    c.execute("select swarm.register_worker(%s, 'cell-host', 1, null, null, 1)", (w.cell_worker,))
    [(task_id, attempt, token)] = rows(c, "select id, attempts, lease_token from swarm.claim_task(%s, "
                                          "agents => '{shell}')", (w.cell_worker,))
    return task_id, attempt, token


def report(c: psycopg.Connection, function: str, task_id: int, worker: str, attempt: int, *extra: str,
           token: object = None) -> bool:
    """A report; another worker's claim is reported without its token (only its holder has it)."""
    args = ", ".join(["%s", "%s", "%s", *extra, "lease_token => %s"])
    return rows(c, f"select accepted from swarm.{function}({args})", (task_id, worker, attempt, token))[0][0]


def own_task(c: psycopg.Connection) -> int:
    return rows(c, "insert into swarm.agent_tasks (prompt) values ('mine') returning id")[0][0]


def cancel(c: psycopg.Connection, task_id: int) -> bool:
    return rows(c, "select swarm.cancel_task(%s)", (task_id,))[0][0] == "cancelled"


def retry(c: psycopg.Connection, task_id: int) -> bool:
    return rows(c, "select swarm.retry_task(%s)", (task_id,))[0][0] == "pending"


def heartbeat_owned(c: psycopg.Connection, worker: str, task_id: int, token: object = None) -> bool:
    return rows(c, "select owned from swarm.heartbeat(%s, %s, 60, %s::uuid[])", (worker, [task_id], [token]))[0][0]


def own_claim_then(check: Callable[[psycopg.Connection, World, int, int, object], bool]) -> Action:
    def act(c: psycopg.Connection, w: World) -> bool:
        task_id, attempt, token = own_claim(c, w)
        return check(c, w, task_id, attempt, token)
    return act


def reads_task(c: psycopg.Connection, task_id: int) -> bool:
    return bool(rows(c, "select result, prompt from swarm.agent_tasks where id = %s", (task_id,)))


def reads_events(c: psycopg.Connection, task_id: int) -> bool:
    return rows(c, "select count(*) from swarm.task_events where task_id = %s", (task_id,))[0][0] > 0


ACTIONS: dict[str, Action] = {
    "insert a task for any agent": lambda c, w: bool(rows(
        c, "insert into swarm.agent_tasks (prompt, agent) values ('x', 'claude') returning id")),
    "insert a task setting a protected column (status, attempts, worker, created_by)": lambda c, w: any_of(
        c, "insert into swarm.agent_tasks (prompt, status) values ('x', 'completed')",
        "insert into swarm.agent_tasks (prompt, attempts) values ('x', 1)",
        "insert into swarm.agent_tasks (prompt, worker) values ('x', 'w')",
        "insert into swarm.agent_tasks (prompt, created_by) values ('x', 'someone_else')"),
    "claim a task": lambda c, w: bool(own_claim(c, w)),
    "heartbeat its own claim": own_claim_then(lambda c, w, t, a, k: heartbeat_owned(c, w.cell_worker, t, k)),
    "complete its own claim": own_claim_then(
        lambda c, w, t, a, k: report(c, "complete_task", t, w.cell_worker, a, token=k)),
    "fail its own claim": own_claim_then(
        lambda c, w, t, a, k: report(c, "fail_task", t, w.cell_worker, a, "'boom'", token=k)),
    "release its own claim": own_claim_then(
        lambda c, w, t, a, k: report(c, "release_task", t, w.cell_worker, a, token=k)),
    "heartbeat another worker's claim": lambda c, w: heartbeat_owned(c, "other-w", w.running),
    "complete another worker's claim": lambda c, w: report(c, "complete_task", w.running, "other-w", 1,
                                                           "'{\"forged\": 1}'"),
    "fail another worker's claim": lambda c, w: report(c, "fail_task", w.running, "other-w", 1, "'forged'"),
    "release another worker's claim": lambda c, w: report(c, "release_task", w.running, "other-w", 1),
    "cancel its own task": lambda c, w: cancel(c, own_task(c)),
    "cancel another login's task": lambda c, w: cancel(c, w.pending),
    "retry its own task": lambda c, w: (lambda t: cancel(c, t) and retry(c, t))(own_task(c)),
    "retry another login's task": lambda c, w: retry(c, w.cancelled),
    "wait for another login's task (watch_task)": lambda c, w: bool(
        rows(c, "select swarm.watch_task(%s)", (w.pending,))),
    "read another login's task and result": lambda c, w: reads_task(c, w.completed),
    "read task events": lambda c, w: reads_events(c, w.completed),
    "read the archive": lambda c, w: rows(c, "select count(*) from swarm.agent_tasks_archive")[0][0] > 0,
    "read workers": lambda c, w: rows(c, "select count(*) from swarm.workers")[0][0] > 0,
    "update a task by hand (priority, result)": lambda c, w: any_of(
        c, f"update swarm.agent_tasks set priority = 5 where id = {w.pending}",
        f"update swarm.agent_tasks set result = '{{\"forged\": 1}}' where id = {w.completed}") and
        rows(c, "select count(*) from swarm.agent_tasks where priority = 5 or result ? 'forged'")[0][0] > 0,
    "delete a task": lambda c, w: any_of(c, f"delete from swarm.agent_tasks where id = {w.pending}") and
        not rows(c, "select 1 from swarm.agent_tasks where id = %s", (w.pending,)),
    "rewrite task history (task_events)": lambda c, w: any_of(
        c, f"delete from swarm.task_events where task_id = {w.completed}",
        f"update swarm.task_events set event = 'completed' where task_id = {w.cancelled}"),
    "pause an agent": lambda c, w: any_of(c, "select swarm.pause_agent('claude', now() + interval '1 minute', 'x')"),
    "resume an agent": lambda c, w: any_of(c, "select swarm.resume_agent('claude')"),
    "change an agent's settings": lambda c, w: any_of(
        c, "update swarm.agents set max_concurrent = 1 where name = 'claude'"),
    "register an agent": lambda c, w: any_of(c, "insert into swarm.agents (name) values ('evil')"),
    "archive finished tasks": lambda c, w: any_of(c, "select swarm.archive('0 seconds')"),
    "reap expired leases": lambda c, w: any_of(c, "select swarm.reap_expired()"),
    "create a schedule": lambda c, w: any_of(
        c, "insert into swarm.schedules (name, cron, prompt) values ('cell', '0 3 * * *', 'x')"),
    "fire schedules": lambda c, w: any_of(c, "select swarm.fire_schedules()"),
    "change swarm.settings": lambda c, w: any_of(c, "update swarm.settings set test_clock = true"),
    "read web tokens": lambda c, w: any_of(c, "select * from swarm.web_tokens"),
    "send NOTIFY swarm_cancel (a hint: changes no task)": lambda c, w: any_of(
        c, f"notify swarm_cancel, '{w.running}'"),
    "move the engine's clock (SET swarm.now)": lambda c, w: any_of(c, "set local swarm.now = '2100-01-01 00:00+00'")
        and rows(c, "select swarm.now() > '2099-01-01'")[0][0],
    "create a table in schema swarm (DDL)": lambda c, w: any_of(c, "create table swarm.evil (x int)"),
    "TRUNCATE the queue": lambda c, w: any_of(c, "truncate swarm.agent_tasks cascade"),
    "enqueue a child of a running task (its task token)": lambda c, w: bool(rows(
        c, "select id from swarm.agent_enqueue(%s, %s, '[{\"prompt\": \"child\", \"agent\": \"claude\"}]')",
        (w.running, w.running_token))),
    "enqueue with a forged task token": lambda c, w: bool(rows(
        c, "select id from swarm.agent_enqueue(%s, %s, '[{\"prompt\": \"child\", \"agent\": \"claude\"}]')",
        (w.running, "f" * 64))),
    "read its own task (tenants on)": lambda c, w: reads_task(c, own_task(c)),
    "read another login's task (tenants on)": lambda c, w: reads_task(c, w.completed),
    "read another login's events (tenants on)": lambda c, w: reads_events(c, w.completed),
    "cancel another login's task (tenants on)": lambda c, w: cancel(c, w.pending),
    "retry another login's task (tenants on)": lambda c, w: retry(c, w.cancelled),
    "wait for another login's task (tenants on)": lambda c, w: bool(
        rows(c, "select swarm.watch_task(%s)", (w.pending,))),
    "depend on another login's task (tenants on)": lambda c, w: bool(rows(
        c, "insert into swarm.agent_tasks (prompt, depends_on) values ('x', %s) returning id", ([w.pending],))),
}


def try_cell(c: psycopg.Connection, action: Action, world: World) -> bool:
    """Whether the login could do it; everything it did is rolled back."""
    try:
        with c.transaction(force_rollback=True):
            return bool(action(c, world))
    except psycopg.Error as exc:
        if refused(exc):
            return False
        raise


def build_world(conn: psycopg.Connection, login: Login) -> World:
    other_app = login("swarm_enqueue")
    other_worker = login("swarm_worker")
    with connect(other_app) as app:
        def add(prompt: str, agent: str) -> int:
            return app.execute("insert into swarm.agent_tasks (prompt, agent) values (%s, %s) returning id",
                               (prompt, agent)).fetchone()[0]
        pending = add("someone else's pending task", "aider")
        cancelled = add("someone else's cancelled task", "aider")
        app.execute("select swarm.cancel_task(%s)", (cancelled,))
        completed = add("someone else's finished task", "gemini")
        running = add("someone else's running task", "codex")
        archived = add("someone else's archived task", "aider")
        app.execute("select swarm.cancel_task(%s)", (archived,))
    conn.execute("update swarm.agent_tasks set finished_at = now() - interval '1 day' where id = %s", (archived,))
    conn.execute("select swarm.archive('1 hour')")
    with connect(other_worker) as worker:
        worker.execute("select swarm.register_worker('other-w', 'other-host', 1, null, null, 2)")
        [(done_attempt, token)] = worker.execute(
            "select attempts, lease_token from swarm.claim_task('other-w', agents => '{gemini}')")
        worker.execute("""select swarm.complete_task(%s, 'other-w', %s, '{"secret": 42}', lease_token => %s)""",
                       (completed, done_attempt, token))
        worker.execute("select swarm.register_agent_key('other-w', %s)", (os.urandom(32),))
        worker.execute("select swarm.claim_task('other-w', agents => '{codex}', lease_seconds => 3600)")
    [token] = conn.execute("select swarm._agent_token(k.key, task.id, task.attempts, task.started_at) "
                           "from swarm.agent_tasks as task join swarm.agent_keys as k on k.worker = task.worker "
                           "where task.id = %s", (running,)).fetchone()
    claimable = conn.execute("insert into swarm.agent_tasks (prompt, agent) values ('echo cell', 'shell') "
                             "returning id").fetchone()[0]
    return World(pending, cancelled, completed, archived, running, claimable, cell_worker="cell-w",
                 running_token=token)


def snapshot(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("select id, status, worker, attempts, priority, result, lease_expires_at "
                        "from swarm.agent_tasks order by id").fetchall()


def test_the_matrix_names_every_action_the_test_knows() -> None:
    assert list(expected_matrix()) == list(ACTIONS)


@pytest.mark.parametrize("column", list(ROLE_OF_COLUMN))
def test_role_matrix(conn: psycopg.Connection, login: Login, column: str) -> None:
    matrix = expected_matrix()
    if column not in next(iter(matrix.values())):
        pytest.skip(f"docs/security.md has no column {column}")
    world = build_world(conn, login)
    before = snapshot(conn)
    me = login(ROLE_OF_COLUMN[column])
    wrong = []
    with connect(me) as c:
        for tenants in (False, True):
            conn.execute("update swarm.settings set tenant_isolation = %s", (tenants,))
            for action, cells in matrix.items():
                if action.endswith(TENANTS) != tenants:
                    continue
                got = "yes" if try_cell(c, ACTIONS[action], world) else "no"
                if got != cells[column]:
                    wrong.append(f"{action}: expected {cells[column]}, got {got}")
    assert wrong == [], f"{column}:\n" + "\n".join(wrong)
    assert snapshot(conn) == before, "a cell left a change behind"
