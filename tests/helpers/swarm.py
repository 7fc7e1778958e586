"""SwarmClient: the engine's SQL API as Python calls, for tests (one method per swarm.* function).

Tests act through these methods and assert on what a user would see: statuses, events, errors.
"""
from __future__ import annotations

import json
from decimal import Decimal
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row


@dataclass(frozen=True)
class Report:
    accepted: bool
    status: str
    message: str | None


def _sql_value(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, float):
        return Decimal(str(value))  # numeric parameters do not take float8 implicitly
    return value


class SwarmClient:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        # The lease token of each task this client claimed last (reports carry it, as a worker's do).
        self.tokens: dict[int, Any] = {}

    # -- time ---------------------------------------------------------------------------------
    def set_now(self, when: str | None) -> None:
        """Move this session's clock (swarm.now()); None goes back to the real time. Turns the
        database's test clock on (as its owner), without which swarm.now is ignored."""
        if when:
            self.conn.execute("update swarm.settings set test_clock = true where not test_clock")
        self.conn.execute("select set_config('swarm.now', %s, false)", (when or "",))

    def now(self):
        return self.conn.execute("select swarm.now()").fetchone()[0]

    # -- enqueue ------------------------------------------------------------------------------
    def make_task(self, prompt: str = "echo hi", **columns: Any) -> int:
        """INSERT one task the way any service would, returning its id."""
        columns = {"prompt": prompt, **columns}
        names = ", ".join(columns)
        marks = ", ".join(["%s"] * len(columns))
        values = [json.dumps(v) if isinstance(v, dict) else v for v in columns.values()]
        return self.conn.execute(
            f"insert into swarm.agent_tasks ({names}) values ({marks}) returning id", values).fetchone()[0]

    def enqueue(self, prompt: str, **kwargs: Any) -> int:
        named = ", ".join(f"{k} => %({k})s" for k in kwargs)
        sql = f"select swarm.enqueue(%(prompt)s{', ' if named else ''}{named})"
        params = {"prompt": prompt, **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in kwargs.items()}}
        return self.conn.execute(sql, params).fetchone()[0]

    # -- worker side --------------------------------------------------------------------------
    def claim(self, worker: str = "w1", **kwargs: Any) -> list[dict]:
        named = "".join(f", {k} => %({k})s" for k in kwargs)
        cur = self.conn.cursor(row_factory=dict_row)
        rows = cur.execute(f"select * from swarm.claim_task(worker => %(worker)s{named})",
                           {"worker": worker, **kwargs}).fetchall()
        self.tokens.update({row["id"]: row["lease_token"] for row in rows})
        return rows

    def heartbeat(self, worker: str, task_ids: list[int], lease_seconds: int = 60) -> dict[int, tuple[bool, bool]]:
        tokens = [self.tokens.get(task_id) for task_id in task_ids]
        rows = self.conn.execute("select * from swarm.heartbeat(%s, %s, %s, %s::uuid[])",
                                 (worker, task_ids, lease_seconds, tokens))
        return {task_id: (owned, cancel) for task_id, owned, cancel in rows}

    def _report(self, function: str, task_id: int, worker: str, attempt: int, **kwargs: Any) -> Report:
        """A report fenced like a worker's: with the token of this client's claim of the task,
        unless the test passes lease_token itself."""
        kwargs.setdefault("lease_token", self.tokens.get(task_id))
        named = "".join(f", {k} => %({k})s" for k in kwargs)
        params = {"task_id": task_id, "worker": worker, "attempt": attempt,
                  **{k: _sql_value(v) for k, v in kwargs.items()}}
        row = self.conn.execute(
            f"select * from swarm.{function}(task_id => %(task_id)s, worker => %(worker)s, attempt => %(attempt)s{named})",
            params).fetchone()
        return Report(*row)

    def complete(self, task_id: int, worker: str, attempt: int, **kwargs: Any) -> Report:
        return self._report("complete_task", task_id, worker, attempt, **kwargs)

    def fail(self, task_id: int, worker: str, attempt: int, error: str = "boom", **kwargs: Any) -> Report:
        return self._report("fail_task", task_id, worker, attempt, error=error, **kwargs)

    def release(self, task_id: int, worker: str, attempt: int, **kwargs: Any) -> Report:
        return self._report("release_task", task_id, worker, attempt, **kwargs)

    def reap(self) -> int:
        return self.conn.execute("select swarm.reap_expired()").fetchone()[0]

    # -- operator side ------------------------------------------------------------------------
    def cancel(self, task_id: int, reason: str | None = None) -> str:
        return self.conn.execute("select swarm.cancel_task(%s, %s)", (task_id, reason)).fetchone()[0]

    def retry(self, task_id: int) -> str:
        return self.conn.execute("select swarm.retry_task(%s)", (task_id,)).fetchone()[0]

    def pause(self, agent: str, until: str | None = None, reason: str | None = None):
        return self.conn.execute("select swarm.pause_agent(%s, %s, %s)", (agent, until, reason)).fetchone()[0]

    def resume(self, agent: str) -> None:
        self.conn.execute("select swarm.resume_agent(%s)", (agent,))

    def archive(self, older_than: str, batch_size: int | None = None) -> int:
        return self.conn.execute("select swarm.archive(%s::interval, %s)", (older_than, batch_size)).fetchone()[0]

    # -- reading ------------------------------------------------------------------------------
    def task(self, task_id: int) -> dict:
        cur = self.conn.cursor(row_factory=dict_row)
        row = cur.execute("select * from swarm.agent_tasks where id = %s", (task_id,)).fetchone()
        assert row is not None, f"task {task_id} not found"
        return row

    def status(self, task_id: int) -> str:
        return self.task(task_id)["status"]

    def statuses(self, task_ids: list[int]) -> dict[int, str]:
        return dict(self.conn.execute("select id, status from swarm.agent_tasks where id = any(%s)", (task_ids,)))

    def events(self, task_id: int) -> list[str]:
        return [e for (e,) in self.conn.execute(
            "select event from swarm.task_events where task_id = %s order by id", (task_id,))]

    def event_rows(self, task_id: int) -> list[dict]:
        cur = self.conn.cursor(row_factory=dict_row)
        return cur.execute("select * from swarm.task_events where task_id = %s order by id", (task_id,)).fetchall()

    def set_agent(self, name: str, **columns: Any) -> None:
        sets = ", ".join(f"{k} = %s" for k in columns)
        self.conn.execute(f"update swarm.agents set {sets} where name = %s", [*columns.values(), name])

    def scalar(self, sql: str, params: Any = None) -> Any:
        return self.conn.execute(sql, params).fetchone()[0]
