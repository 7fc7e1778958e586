"""The claim floor (sql/22_claim_floor.sql): claims start past the tasks already claimed, and no
task that becomes pending below the floor is passed over."""
from __future__ import annotations

import random
import threading
import time

import psycopg

from tests.helpers.claims import run_claimers
from tests.helpers.swarm import SwarmClient

FLOOR = "select last_value from swarm.claim_floor"
LOWEST_PENDING_RANK = """
select min(swarm._claim_rank(priority, run_after)) from swarm.agent_tasks where status = 'pending'"""


def claim_one(swarm: SwarmClient, worker: str = "w1") -> int:
    time.sleep(0.011)  # a session advances the floor at most every 10 ms
    [task] = swarm.claim(worker)
    return task["id"]


def test_claim_rank_orders_exactly_as_priority_desc_then_run_after(swarm: SwarmClient) -> None:
    """The claim index is ordered by (claim_rank, run_after, id): the same order as the spec's
    priority desc, run_after, id, for every priority and run_after, infinities included."""
    differing = swarm.scalar("""
        with samples as (
          select row_number() over () as id, p, t from (
            select (random() * 2000 - 1000)::int as p,
                   timestamptz '1990-01-01 00:00:00+00' + random() * interval '170 years' as t
              from generate_series(1, 20000)
            union all
            select p, t from unnest(array[-1000, 1000, 0]) as p,
                 unnest(array['-infinity', 'infinity', '2000-01-01 00:00:00+00', '1999-12-31 23:59:59.999999+00',
                              '2142-01-01 00:00:00+00', '2141-12-31 23:59:59.999999+00']::timestamptz[]) as t
            union all select 5, t from unnest(array['2026-11-23 10:00:00.000001+00', '2026-11-23 10:00:00.000001+00',
                                                    '2026-11-23 10:00:00.000002+00']::timestamptz[]) as t) as s)
        select count(*) from (
          select id, row_number() over (order by swarm._claim_rank(p, t), t, id) as by_rank,
                 row_number() over (order by p desc, t, id) as by_spec from samples) as ranked
         where by_rank <> by_spec""")
    assert differing == 0


def test_the_floor_follows_the_head_of_the_queue(swarm: SwarmClient) -> None:
    ids = [swarm.make_task(f"t{i}") for i in range(6)]
    assert swarm.scalar(FLOOR) == 0
    assert [claim_one(swarm) for _ in range(3)] == ids[:3]
    assert swarm.scalar(FLOOR) == swarm.scalar(LOWEST_PENDING_RANK)
    assert swarm.scalar("select swarm._claim_rank(priority, run_after) from swarm.agent_tasks where id = %s",
                        (ids[3],)) == swarm.scalar(FLOOR)



def test_an_empty_queue_puts_the_floor_at_the_top_and_the_next_task_lowers_it(swarm: SwarmClient) -> None:
    ids = [swarm.make_task(f"t{i}") for i in range(2)]
    assert [claim_one(swarm) for _ in range(2)] == ids
    assert swarm.scalar(FLOOR) == swarm.scalar("select swarm._claim_floor_top()")
    later = swarm.make_task("later")
    assert swarm.scalar(FLOOR) == swarm.scalar(LOWEST_PENDING_RANK)
    assert claim_one(swarm) == later


def test_a_wrong_floor_delays_a_task_and_is_put_right(swarm: SwarmClient) -> None:
    """Were the floor ever above a pending task (it is not, by the tests above), a claim that
    finds nothing above it looks below it (at most every 5 seconds), claims that task, and puts
    the floor back at or below every pending task."""
    ids = [swarm.make_task(f"t{i}") for i in range(3)]
    swarm.conn.execute("select setval('swarm.claim_floor', swarm._claim_floor_top())")
    swarm.conn.execute("select setval('swarm.claim_floor_checked_at', 0)")
    assert claim_one(swarm) == ids[0]
    assert swarm.scalar(FLOOR) <= swarm.scalar(LOWEST_PENDING_RANK)
    # Put right, the floor serves the next claims (the look below is not due again for 5 s).
    assert [claim_one(swarm) for _ in range(2)] == ids[1:]

def test_tasks_that_become_pending_below_the_floor_are_claimed_in_order(swarm: SwarmClient) -> None:
    """Every way a task can land ahead of the head of the queue: inserted with a higher priority
    or an earlier run_after, its priority raised while pending, a dependent of higher priority
    unblocked, a retried task; and a released attempt goes behind the queue."""
    dependency = swarm.make_task("dependency", priority=-1)
    dependent = swarm.make_task("dependent", depends_on=[dependency], priority=3)
    failed = swarm.make_task("fails", max_attempts=1, priority=-2)
    queue = [swarm.make_task(f"t{i}") for i in range(8)]
    assert claim_one(swarm) == queue[0] and claim_one(swarm) == queue[1]
    floor = swarm.scalar(FLOOR)
    assert floor > 0

    urgent = swarm.make_task("urgent", priority=5)
    overdue = swarm.make_task("overdue", run_after="2001-01-01T00:00:00Z")
    assert swarm.scalar(FLOOR) < floor
    assert [claim_one(swarm) for _ in range(2)] == [urgent, overdue]
    assert claim_one(swarm) == queue[2]

    swarm.conn.execute("update swarm.agent_tasks set priority = 7 where id = %s", (queue[7],))
    assert claim_one(swarm) == queue[7]

    released = claim_one(swarm)
    assert released == queue[3]
    swarm.release(released, "w1", 1)  # back to pending at run_after = now: behind the queue
    assert claim_one(swarm) == queue[4]

    # The dependency and the failing task sit below priority 0: take them out of the way by hand.
    swarm.conn.execute("update swarm.agent_tasks set priority = 9 where id = any(%s)", ([dependency, failed],))
    assert claim_one(swarm) == dependency
    assert claim_one(swarm) == failed
    swarm.complete(dependency, "w1", 1)
    assert swarm.status(dependent) == "pending"
    assert claim_one(swarm) == dependent  # priority 3

    swarm.fail(failed, "w1", 1, retryable=False)
    assert swarm.status(failed) == "failed"
    swarm.retry(failed)
    assert claim_one(swarm) == failed  # priority 9

    assert [claim_one(swarm) for _ in range(3)] == [queue[5], queue[6], released]
    assert swarm.claim("w1") == []


def test_an_open_enqueuing_transaction_keeps_the_floor_below_its_task(swarm: SwarmClient, dsn: str) -> None:
    """A task whose insert is not yet committed is invisible to the claims that raise the floor;
    the floor must not rise past it meanwhile, or it would be passed over once committed."""
    queue = [swarm.make_task(f"t{i}") for i in range(8)]
    assert claim_one(swarm) == queue[0]
    between = swarm.scalar("select run_after + (select run_after - t.run_after from swarm.agent_tasks "
                           "where id = %s) / 2 from swarm.agent_tasks as t where id = %s", (queue[5], queue[4]))
    with psycopg.connect(dsn) as enqueuer:  # a transaction of its own, left open
        late = enqueuer.execute("insert into swarm.agent_tasks (prompt, run_after) values ('late', %s) returning id",
                                (between,)).fetchone()[0]
        assert [claim_one(swarm) for _ in range(4)] == queue[1:5]
        assert swarm.scalar(FLOOR) <= swarm.scalar("select swarm._claim_rank(0, %s::timestamptz)", (between,))
        enqueuer.commit()
    assert [claim_one(swarm) for _ in range(2)] == [late, queue[5]]


def test_under_concurrent_enqueues_claims_and_retries_the_floor_never_passes_a_pending_task(
        swarm: SwarmClient, dsn: str) -> None:
    """8 enqueuers (random priorities, some run_after in the past) and 8 claimers (some attempts
    released back to pending) at once; whenever all stop, the floor is at or below every pending
    task, and in the end every task was completed exactly once."""
    stop = threading.Event()
    completed: list[int] = []
    lock = threading.Lock()

    def enqueue(conn: psycopg.Connection, i: int) -> None:
        rng = random.Random(i)
        while not stop.is_set():
            conn.execute("""
                insert into swarm.agent_tasks (prompt, priority, run_after)
                select 'x', %s, now() - make_interval(secs => %s) from generate_series(1, %s)""",
                         (rng.choice([0, 0, 0, 1, 5]), rng.choice([0, 0, 0.5, 30]), rng.randint(1, 20)))

    def claim(conn: psycopg.Connection, i: int) -> None:
        rng = random.Random(100 + i)
        worker = f"c{i}"
        while not stop.is_set():
            for task in conn.execute("select id, attempts, lease_token from swarm.claim_task(%s, max_tasks => %s)",
                                     (worker, rng.randint(1, 10))).fetchall():
                if rng.random() < 0.1:
                    conn.execute("select * from swarm.release_task(%s, %s, %s, lease_token => %s)",
                                 (task[0], worker, task[1], task[2]))
                else:
                    conn.execute("select * from swarm.complete_task(%s, %s, %s, lease_token => %s)",
                                 (task[0], worker, task[1], task[2]))
                    with lock:
                        completed.append(task[0])

    for _round in range(4):
        stop.clear()
        timer = threading.Timer(1.5, stop.set)
        timer.start()
        run_claimers(dsn, lambda conn, i: (enqueue if i < 8 else claim)(conn, i), n=16)
        lowest = swarm.scalar(LOWEST_PENDING_RANK)
        assert lowest is not None, "the claimers caught up: the round proves nothing"
        assert swarm.scalar(FLOOR) <= lowest

    while rows := swarm.claim("drain", max_tasks=1000):
        for task in rows:
            swarm.complete(task["id"], "drain", task["attempts"])
            completed.append(task["id"])
    total = swarm.scalar("select count(*) from swarm.agent_tasks")
    assert sorted(completed) == sorted(set(completed)) and len(completed) == total
    assert swarm.scalar("select count(*) from swarm.agent_tasks where status <> 'completed'") == 0
