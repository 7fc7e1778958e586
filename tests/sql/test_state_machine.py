"""A stateful property test: random operations from several workers against the real engine,
with the invariants checked in SQL after every step."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.helpers.swarm import SwarmClient

WORKERS = st.sampled_from(["w1", "w2", "w3"])

# Each query returns the ids of tasks that break one invariant.
INVARIANTS = {
    "running exactly when owned and leased": """
        select id from swarm.agent_tasks
         where (status = 'running') <> (lease_expires_at is not null)
            or (status = 'running' and worker is null)""",
    "attempts within 0..max_attempts": """
        select id from swarm.agent_tasks where attempts < 0 or attempts > max_attempts""",
    "waiting exactly when a dependency is unresolved (count kept right)": """
        select task.id from swarm.agent_tasks as task
         where task.status = 'waiting'
           and task.unmet_dependencies is distinct from (
             select count(*) from swarm.agent_tasks as dep
              where dep.id = any(task.depends_on)
                and not (dep.status = 'completed'
                         or (dep.status in ('failed', 'cancelled') and task.on_dependency_failure = 'run')))
            or (task.status = 'waiting' and task.unmet_dependencies = 0)""",
    "tasks past waiting under policy cancel had every dependency completed": """
        select task.id from swarm.agent_tasks as task
         where task.on_dependency_failure = 'cancel' and task.status in ('pending', 'running', 'completed')
           and exists (select 1 from swarm.agent_tasks as dep
                        where dep.id = any(task.depends_on) and dep.status <> 'completed')""",
    "the last transition event names the current status": """
        select task.id from swarm.agent_tasks as task
         where task.status is distinct from (
           select e.detail ->> 'to' from swarm.task_events as e
            where e.task_id = task.id and e.detail ? 'to' order by e.id desc limit 1)""",
    "finished tasks have finished_at, others not": """
        select id from swarm.agent_tasks
         where (status in ('completed', 'failed', 'cancelled')) <> (finished_at is not null)""",
}


class QueueMachine(RuleBasedStateMachine):
    tasks = Bundle("tasks")

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.swarm = SwarmClient(self.conn)
        self.conn.execute("truncate swarm.agent_tasks, swarm.task_events, swarm.agent_starts restart identity")
        self.conn.execute("update swarm.agents set paused_until = null, consecutive_failures = 0, breaker_threshold = null")
        self.clock = datetime(2030, 1, 1, tzinfo=timezone.utc)
        self.swarm.set_now(self.clock.isoformat())
        self.attempts_seen: list[tuple[int, str, int]] = []  # every (task, worker, attempt) ever claimed

    def teardown(self) -> None:
        self.conn.close()

    @initialize(target=tasks)
    def first_task(self) -> int:
        return self.swarm.make_task("first")

    @rule(target=tasks, deps=st.lists(tasks, max_size=3, unique=True), policy=st.sampled_from(["cancel", "run"]),
          max_attempts=st.integers(1, 3))
    def insert(self, deps: list[int], policy: str, max_attempts: int) -> int:
        return self.swarm.make_task("t", depends_on=deps, on_dependency_failure=policy, max_attempts=max_attempts)

    @rule(worker=WORKERS, max_tasks=st.integers(1, 3), lease=st.integers(5, 60))
    def claim(self, worker: str, max_tasks: int, lease: int) -> None:
        for task in self.swarm.claim(worker, max_tasks=max_tasks, lease_seconds=lease):
            assert task["status"] == "running" and task["worker"] == worker
            self.attempts_seen.append((task["id"], worker, task["attempts"]))

    @rule(worker=WORKERS)
    def heartbeat(self, worker: str) -> None:
        mine = [r[0] for r in self.conn.execute(
            "select id from swarm.agent_tasks where status = 'running' and worker = %s", (worker,))]
        answer = self.swarm.heartbeat(worker, mine, 60)
        assert all(owned for owned, _ in answer.values())

    def _report(self, data: st.DataObject, kind: str, **kwargs) -> None:
        if not self.attempts_seen:
            return
        task_id, worker, attempt = data.draw(st.sampled_from(self.attempts_seen))
        before = self.swarm.task(task_id)
        current = before["status"] == "running" and (before["worker"], before["attempts"]) == (worker, attempt)
        report = getattr(self.swarm, kind)(task_id, worker, attempt, **kwargs)
        assert report.accepted == current
        if not current:
            after = self.swarm.task(task_id)
            assert (after["status"], after["attempts"], after["worker"]) == \
                   (before["status"], before["attempts"], before["worker"]), "a stale report changed the task"
            assert self.swarm.events(task_id)[-1] == "stale_report"

    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        self._report(data, "complete")

    @rule(data=st.data(), retryable=st.booleans())
    def fail(self, data: st.DataObject, retryable: bool) -> None:
        self._report(data, "fail", retryable=retryable, retry_in_seconds=data.draw(st.sampled_from([None, 0, 30])))

    @rule(data=st.data(), count=st.booleans())
    def release(self, data: st.DataObject, count: bool) -> None:
        self._report(data, "release", count_attempt=count)

    @rule(seconds=st.integers(1, 120))
    def advance_time(self, seconds: int) -> None:
        self.clock += timedelta(seconds=seconds)
        self.swarm.set_now(self.clock.isoformat())

    @rule()
    def reap(self) -> None:
        self.swarm.reap()

    def _operator(self, call, task_id: int) -> None:
        before = self.swarm.task(task_id)
        try:
            call(task_id)
        except psycopg.Error as exc:
            assert exc.sqlstate in ("SW003", "SW004"), exc
            after = self.swarm.task(task_id)
            assert after["status"] == before["status"], "a refused call changed the task"

    @rule(task_id=tasks)
    def cancel(self, task_id: int) -> None:
        self._operator(self.swarm.cancel, task_id)

    @rule(task_id=tasks)
    def retry(self, task_id: int) -> None:
        self._operator(self.swarm.retry, task_id)

    @invariant()
    def engine_invariants_hold(self) -> None:
        broken = {name: [r[0] for r in self.conn.execute(sql)] for name, sql in INVARIANTS.items()}
        broken = {name: ids for name, ids in broken.items() if ids}
        assert not broken, broken


def test_random_operations_keep_every_invariant(dsn: str) -> None:
    run_state_machine_as_test(
        lambda: QueueMachine(dsn),
        settings=settings(max_examples=int(os.environ.get("PGSWARM_STATEFUL_EXAMPLES", "60")),
                          stateful_step_count=40, deadline=None, derandomize=os.environ.get("CI") == "true",
                          suppress_health_check=list(HealthCheck)))
