"""What a call reads does not grow with the queue: claims, reports and heartbeats read the rows
they touch, not the backlog, the running tasks, the rows an old snapshot keeps alive, nor a
queue that has grown since the session's plans were made.

Measured as the index entries and rows of swarm.agent_tasks a call reads (the transaction's
statistics counters): a call that walks an index reads thousands here, one that reads its own
rows a few per task.
"""
from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers.swarm import SwarmClient

ENQUEUE = "insert into swarm.agent_tasks (prompt) select 'true' from generate_series(1, %s)"

ROWS_READ = """
select pg_stat_get_xact_tuples_returned('swarm.agent_tasks'::regclass)
       + (select sum(pg_stat_get_xact_tuples_returned(i.indexrelid)) from pg_index as i
           where i.indrelid = 'swarm.agent_tasks'::regclass)"""


# The lease token of every task claimed here (claim_task returns it; the table keeps a digest).
TOKENS: dict[int, object] = {}


def rows_read(conn: psycopg.Connection, call: str, params: tuple = ()) -> int:
    """Entries of agent_tasks' indexes and rows of its sequential scans read by one call: the
    backend's counters not yet sent to the statistics system, before and after, in one
    transaction (they are sent only between transactions)."""
    with conn.transaction():
        before = conn.execute(ROWS_READ).fetchone()[0]
        cur = conn.execute(call, params)
        if cur.description and cur.description[0].name == "id":
            names = [c.name for c in cur.description]
            TOKENS.update({row[0]: row[names.index("lease_token")] for row in cur.fetchall()})
        else:
            cur.fetchall()
        return int(conn.execute(ROWS_READ).fetchone()[0] - before)


def running_of(conn: psycopg.Connection, worker: str) -> list[tuple[int, int]]:
    return conn.execute("select id, attempts from swarm.agent_tasks where worker = %s and status = 'running' "
                        "order by id", (worker,)).fetchall()


def claim(conn: psycopg.Connection, worker: str, count: int) -> int:
    return rows_read(conn, "select * from swarm.claim_task(%s, max_tasks => %s)", (worker, count))


def complete_batch(conn: psycopg.Connection, worker: str, tasks: list[tuple[int, int]]) -> int:
    return rows_read(conn, "select * from swarm.complete_tasks(%s, %s, %s, lease_tokens => %s::uuid[])",
                     (worker, [t[0] for t in tasks], [t[1] for t in tasks], [TOKENS[t[0]] for t in tasks]))


def complete_one(conn: psycopg.Connection, worker: str, task: tuple[int, int]) -> int:
    return rows_read(conn, "select * from swarm.complete_task(%s, %s, %s, lease_token => %s)",
                     (task[0], worker, task[1], TOKENS[task[0]]))


def heartbeat(conn: psycopg.Connection, worker: str, tasks: list[tuple[int, int]]) -> int:
    return rows_read(conn, "select * from swarm.heartbeat(%s, %s, lease_tokens => %s::uuid[])",
                     (worker, [t[0] for t in tasks], [TOKENS[t[0]] for t in tasks]))


def test_reports_and_heartbeats_read_their_own_tasks_not_every_running_one(conn: psycopg.Connection) -> None:
    """Statistics taken while nothing ran (a quiet spell), then 3,000 tasks running: a report or a
    heartbeat still reads only its own tasks."""
    conn.execute(ENQUEUE, (3_100,))
    conn.execute("analyze swarm.agent_tasks")
    for _ in range(3):
        claim(conn, "busy", 1000)
    claim(conn, "w", 20)
    mine = running_of(conn, "w")
    assert len(running_of(conn, "busy")) == 3000 and len(mine) == 20
    # Each call once first, as in a worker that has been running (a session's first call plans).
    heartbeat(conn, "w", mine[:1])
    complete_one(conn, "w", mine[0])
    complete_batch(conn, "w", mine[1:2])

    assert heartbeat(conn, "w", mine[2:7]) < 50
    assert complete_one(conn, "w", mine[7]) < 20
    assert complete_batch(conn, "w", mine[8:18]) < 100
    still_running = {row[0] for row in running_of(conn, "w")}
    assert still_running == {t[0] for t in mine[2:7] + mine[18:]}


@pytest.fixture
def holder(dsn: str) -> Iterator[psycopg.Connection]:
    """Another session holding a REPEATABLE READ snapshot (a long report, pg_dump): vacuum can
    remove no row version made after it."""
    with psycopg.connect(dsn) as other:
        other.execute("set transaction isolation level repeatable read")
        other.execute("select count(*) from swarm.agent_tasks")
        yield other
        other.rollback()


def test_an_old_snapshot_does_not_slow_claims_or_reports(conn: psycopg.Connection,
                                                         holder: psycopg.Connection) -> None:
    """While a snapshot is held, every task claimed and completed leaves its index entries behind.
    A claim of 100 tasks and their reports read about as many entries after 6,000 tasks as after
    the first 100 (a few per task; a walk of the history reads thousands). (Enqueued 100 per
    transaction: the tasks one transaction enqueues share their claim rank, and the claim floor
    does not divide a rank; see sql/22_claim_floor.sql.)"""
    for _ in range(63):
        conn.execute(ENQUEUE, (100,))

    def cycle() -> int:
        read = claim(conn, "w", 100)
        tasks = running_of(conn, "w")
        assert len(tasks) == 100
        read += complete_batch(conn, "w", tasks[:99])
        read += complete_one(conn, "w", tasks[99])
        return read

    first = cycle()
    for _ in range(60):
        cycle()
    last = cycle()
    assert conn.execute("select count(*) from swarm.agent_tasks where status = 'completed'").fetchone()[0] == 6_200
    assert first < 1_500 and last < 1_500, (first, last)



def test_an_old_snapshot_does_not_slow_a_queue_that_keeps_up(conn: psycopg.Connection,
                                                             holder: psycopg.Connection) -> None:
    """While a snapshot is held, a queue that is empty after every claim (each batch claimed as
    soon as it is enqueued): the 60th claim reads about as many entries as the first; and claims
    that find nothing (idle polls, a lost race) read a few entries, not the history (at most one
    in 5 seconds looks below the claim floor, in case it were wrong)."""

    def cycle() -> int:
        conn.execute(ENQUEUE, (100,))
        read = claim(conn, "w", 100)
        tasks = running_of(conn, "w")
        assert len(tasks) == 100
        complete_batch(conn, "w", tasks)
        return read

    first = cycle()
    for _ in range(58):
        cycle()
    last = cycle()
    assert first < 1_000 and last < 1_000, (first, last)

    empty = [claim(conn, "idle", 1) for _ in range(20)]
    assert conn.execute("select count(*) from swarm.agent_tasks where status <> 'completed'").fetchone()[0] == 0
    assert sum(read > 1_000 for read in empty) <= 1, empty

def test_plans_made_on_an_empty_queue_stay_cheap_as_it_fills(conn: psycopg.Connection,
                                                             swarm: SwarmClient) -> None:
    """A worker that connects while the queue is empty (a new queue, or after a TRUNCATE) keeps
    its plans for the session; 20,000 tasks later its claims and reports still read only their
    own rows."""
    conn.execute("analyze swarm.agent_tasks")
    for _ in range(7):  # past plpgsql's five custom plans, so each statement keeps its final plan
        swarm.make_task("true")
        claim(conn, "w", 1)
        [task] = running_of(conn, "w")
        complete_batch(conn, "w", [task])
        swarm.make_task("true")
        claim(conn, "w", 1)
        [task] = running_of(conn, "w")
        heartbeat(conn, "w", [task])
        complete_one(conn, "w", task)
    conn.execute(ENQUEUE, (20_000,))

    assert claim(conn, "w", 100) < 1_000
    tasks = running_of(conn, "w")
    assert len(tasks) == 100
    assert heartbeat(conn, "w", tasks[:10]) < 100
    assert complete_batch(conn, "w", tasks[:99]) < 1_000
    assert complete_one(conn, "w", tasks[99]) < 20
    assert running_of(conn, "w") == []


def test_a_batch_report_reads_its_dependents_not_the_table(conn: psycopg.Connection) -> None:
    """Completing 100 tasks, each with a waiting dependent, among 20,000 other tasks: the report
    reads the batch and the 100 dependents, not the table, and releases every dependent."""
    conn.execute(ENQUEUE, (20_000,))
    parents = [row[0] for row in conn.execute(
        "insert into swarm.agent_tasks (prompt, priority) select 'true', 10 from generate_series(1, 100) "
        "returning id").fetchall()]
    conn.execute("insert into swarm.agent_tasks (prompt, depends_on) select 'true', array[p] from unnest(%s::bigint[]) as p",
                 (parents,))
    conn.execute("analyze swarm.agent_tasks")
    claim(conn, "w", 100)
    batch = running_of(conn, "w")
    assert [t[0] for t in batch] == parents

    assert complete_batch(conn, "w", batch) < 2_000
    assert conn.execute("select count(*) from swarm.agent_tasks where status = 'waiting'").fetchone()[0] == 0


def test_functions_that_disable_scans_also_disable_jit(conn: psycopg.Connection) -> None:
    """Before PostgreSQL 18 a disabled scan adds 1e10 to a plan's cost, which crosses every JIT
    threshold: a function run with enable_seqscan = off and JIT on compiled each statement that
    must scan anyway (reading the claim floor took 7 ms; releasing 1,000 dependents 7 s)."""
    offenders = conn.execute("""
        select p.oid::regprocedure::text from pg_proc as p
         where p.pronamespace = 'swarm'::regnamespace
           and p.proconfig && array['enable_seqscan=off', 'enable_indexscan=off']
           and not p.proconfig @> array['jit=off']""").fetchall()
    assert offenders == []
