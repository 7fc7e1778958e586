"""The engine's clock is the server's unless the schema owner enabled the test clock
(swarm.settings.test_clock): `SET swarm.now` in any other database moves nothing (issue 16,
defect 2)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import psycopg
import pytest

from tests.helpers.logins import Logins
from tests.helpers.swarm import SwarmClient

FUTURE = "2100-01-01 00:00:00+00"


@pytest.fixture
def as_role(logins: Logins) -> Callable[[str], psycopg.Connection]:
    """as_role(role) -> an autocommit connection of a new login granted only that role, whose
    session clock is set to 2100 (as an attacker would)."""
    def connect(role: str) -> psycopg.Connection:
        c = logins.connect(role)
        c.execute(f"set swarm.now = '{FUTURE}'")
        return c
    return connect


def test_the_test_clock_is_off_by_default(conn) -> None:
    assert conn.execute("select test_clock from swarm.settings").fetchone()[0] is False
    conn.execute(f"set swarm.now = '{FUTURE}'")
    assert conn.execute("select swarm.now() < '2099-01-01'").fetchone()[0]


def test_a_worker_login_cannot_expire_a_live_lease_by_moving_its_clock(swarm: SwarmClient, as_role) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("victim", lease_seconds=300)
    worker = as_role("swarm_worker")
    assert worker.execute("select swarm.reap_expired()").fetchone()[0] == 0
    task = swarm.task(task_id)
    assert task["status"] == "running" and task["worker"] == "victim"
    assert swarm.complete(task_id, "victim", 1).accepted


def test_a_worker_login_cannot_claim_a_task_of_2099_early(swarm: SwarmClient, as_role) -> None:
    swarm.make_task("later", run_after="2099-06-01 00:00:00+00")
    worker = as_role("swarm_worker")
    assert worker.execute("select id from swarm.claim_task('w')").fetchall() == []


def test_an_enqueue_login_cannot_forge_created_at(swarm: SwarmClient, as_role) -> None:
    enqueuer = as_role("swarm_enqueue")
    task_id = enqueuer.execute("insert into swarm.agent_tasks (prompt) values ('x') returning id").fetchone()[0]
    via_function = enqueuer.execute("select swarm.enqueue('y')").fetchone()[0]
    this_year = datetime.now(timezone.utc).year
    for tid in (task_id, via_function):
        task = swarm.task(tid)
        assert task["created_at"].year == this_year and task["run_after"].year == this_year
        [created] = [e for e in swarm.event_rows(tid) if e["event"] == "created"]
        assert created["at"].year == this_year


def test_the_owner_enables_the_test_clock_and_only_the_owner_can(conn, as_role) -> None:
    worker = as_role("swarm_worker")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        worker.execute("update swarm.settings set test_clock = true")
    conn.execute("update swarm.settings set test_clock = true")
    assert worker.execute("select swarm.now()").fetchone()[0] == datetime(2100, 1, 1, tzinfo=timezone.utc)
    conn.execute("update swarm.settings set test_clock = false")
    assert worker.execute("select swarm.now() < '2099-01-01'").fetchone()[0]
