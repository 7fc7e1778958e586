"""What the fault and failover tests enqueue and what they check at the end.

Tasks are shell tasks (`true` by default), enqueued by one plain INSERT as any service would.
Every fault test ends with `assert_each_completed_once`: each committed task is there,
completed, with exactly one outcome event, no attempt handed out twice, nothing left running.
"""
from __future__ import annotations

import psycopg


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, connect_timeout=5)


def enqueue_shell(dsn: str, count: int, command: str = "true") -> list[int]:
    """`count` committed shell tasks running `command`; returns their ids."""
    with connect(dsn) as conn:
        rows = conn.execute("insert into swarm.agent_tasks (agent, prompt, max_attempts) "
                            "select 'shell', %s, 10 from generate_series(1, %s) returning id",
                            (command, count)).fetchall()
    return [row[0] for row in rows]


def status_counts(dsn: str) -> dict[str, int]:
    """Tasks per status; {} while the server is down or full (callers poll again)."""
    try:
        with connect(dsn) as conn:
            return dict(conn.execute("select status, count(*) from swarm.agent_tasks group by 1").fetchall())
    except psycopg.OperationalError:
        return {}


def all_finished(dsn: str, total: int) -> bool:
    counts = status_counts(dsn)
    return sum(counts.get(s, 0) for s in ("completed", "failed", "cancelled")) >= total


def event_count(dsn: str, event: str) -> int:
    with connect(dsn) as conn:
        return conn.execute("select count(*) from swarm.task_events where event = %s", (event,)).fetchone()[0]


def assert_each_completed_once(dsn: str, ids: list[int]) -> None:
    """Every committed task is there, completed, with exactly one recorded outcome; none stuck."""
    with connect(dsn) as conn:
        statuses = dict(conn.execute("select id, status from swarm.agent_tasks where id = any(%s)",
                                     (ids,)).fetchall())
        missing = set(ids) - set(statuses)
        assert not missing, f"{len(missing)} committed tasks lost, e.g. {sorted(missing)[:5]}"
        not_completed = {i: s for i, s in statuses.items() if s != "completed"}
        assert not not_completed, (f"{len(not_completed)} tasks not completed, "
                                   f"e.g. {list(not_completed.items())[:5]}")
        outcomes = dict(conn.execute("""
            select task_id, count(*) from swarm.task_events
             where task_id = any(%s) and event in ('completed', 'failed', 'cancelled')
             group by task_id""", (ids,)).fetchall())
        wrong = {i: outcomes.get(i, 0) for i in ids if outcomes.get(i, 0) != 1}
        assert not wrong, f"{len(wrong)} tasks without exactly one outcome event, e.g. {list(wrong.items())[:5]}"
        double_claims = conn.execute("""
            select task_id, attempt from swarm.task_events where event = 'claimed' and task_id = any(%s)
             group by 1, 2 having count(*) > 1""", (ids,)).fetchall()
        assert not double_claims, f"an attempt was handed out twice: {double_claims[:5]}"
        unfinished = conn.execute("select count(*) from swarm.agent_tasks "
                                  "where status in ('running', 'pending', 'waiting')").fetchone()[0]
        assert unfinished == 0, f"{unfinished} tasks still running, pending or waiting"


def recording_command(runs_file: str, then: str = "true") -> str:
    """A shell task that appends its task id and attempt to runs_file (one line per agent run)."""
    return f'echo "$PGSWARM_TASK_ID" >> {runs_file}; {then}'


def agent_runs(runs_file: str) -> dict[int, int]:
    """How many times each task's agent ran, from a recording_command's file."""
    runs: dict[int, int] = {}
    try:
        with open(runs_file) as lines:
            for line in lines:
                if line.strip():
                    runs[int(line)] = runs.get(int(line), 0) + 1
    except FileNotFoundError:
        pass
    return runs


def chaos_report(dsn: str, ids: list[int], runs_file: str | None = None) -> dict[str, int]:
    """The hardbyte suite's figures, live and archived rows together: completed, lost (committed
    and gone), recorded twice (more than one outcome event), agents run twice, dead tuples."""
    with connect(dsn) as conn:
        statuses = dict(conn.execute(
            "select id, status from swarm.agent_tasks where id = any(%(ids)s) "
            "union all select id, status from swarm.agent_tasks_archive where id = any(%(ids)s)",
            {"ids": ids}).fetchall())
        outcomes = dict(conn.execute("""
            select task_id, count(*) from (
              select task_id, event from swarm.task_events where task_id = any(%(ids)s)
              union all select task_id, event from swarm.task_events_archive where task_id = any(%(ids)s)) as e
             where event in ('completed', 'failed', 'cancelled') group by task_id""", {"ids": ids}).fetchall())
        dead = conn.execute("select coalesce(sum(n_dead_tup), 0)::bigint from pg_stat_user_tables "
                            "where schemaname = 'swarm'").fetchone()[0]
    runs = agent_runs(runs_file) if runs_file else {}
    return {"tasks": len(ids), "completed": sum(1 for s in statuses.values() if s == "completed"),
            "lost": len(set(ids) - set(statuses)), "recorded_twice": sum(1 for n in outcomes.values() if n > 1),
            "agents_run_twice": sum(1 for n in runs.values() if n > 1), "dead_tuples": dead}
