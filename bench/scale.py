"""Scale benchmark: how pgswarm's cost grows with the work, on one PostgreSQL 15 server started for
this run (fsync, full_page_writes and synchronous_commit on, as in the peer runs).

    python bench/scale.py            # full sizes: 0 / 1 M / 10 M terminal rows, 1 M enqueue,
                                     # 100,000-task DAG, 3-minute held snapshot (about 35 min)
    python bench/scale.py --quick    # 0 / 100 k / 1 M terminal rows, 100 k enqueue, 10,000-task
                                     # DAG, 30 s snapshot (about 5 min)
    python bench/scale.py --only claim,dag   # some parts only (claim, enqueue, dag, release, snapshot,
                                             # snapshot-baseline, keepup)

Parts:
  claim     claim latency (one swarm.claim_task + complete_task at a time) with 0, 1 M and 10 M
            terminal rows in swarm.agent_tasks, then again after swarm.archive() moved them out.
  enqueue   1 M tasks by one INSERT ... SELECT, by 1,000-row multi-row INSERTs, and by COPY.
  dag       a layered DAG (10 layers, each task depends on 2 tasks of the layer above) drained
            by in-process consumers claiming 100 at a time.
  release   completing one task that 10,000 waiting tasks depend on.
  snapshot  steady enqueue + drain throughput, normally and while another session holds a
            REPEATABLE READ snapshot open (target: >= 80% of normal).
  keepup    (not in the default set) a queue that keeps up (enqueue 100 tasks, claim them, report
            them; 100,000 tasks in all) while a REPEATABLE READ snapshot is held: tasks/s per
            20,000, with and without the snapshot, then the time of a claim that finds nothing;
            again with a paused agent's backlog pending (a known slow case, docs/scaling.md).
  snapshot-baseline  (not in the default set) the same for the hand-written SKIP LOCKED baseline
            of ../shared/bench/peers (its jobs table, 100-job claims): what a held snapshot does
            to a plain one-table queue.
Every part records dead tuples (agent_tasks, or the baseline's jobs; task_events) and pg_notification_queue_usage()
once a second while it runs, with a LISTEN swarm_ready session consuming notifications as a
worker would. Terminal rows are bulk-loaded with session_replication_role = replica (no
triggers; one 'completed' event per task) and then VACUUM ANALYZEd, as autovacuum would.
Prints a table. This is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pgswarm.client.migrate import migrate  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

PG15_BIN = Path("/usr/lib/postgresql/15/bin")

# A batch consumer's two calls: claim up to N tasks, report them all at once.
CLAIM_BATCH = "select id, attempts, lease_token from swarm.claim_task($1, max_tasks => $2)"
COMPLETE_BATCH = "select count(*) filter (where accepted) from swarm.complete_tasks($1, $2, $3, null, $4::uuid[])"
SAMPLE = """
select coalesce((select sum(n_dead_tup) from pg_stat_user_tables
                  where (schemaname, relname) in (('swarm', 'agent_tasks'), ('public', 'jobs'))), 0)::bigint,
       coalesce((select n_dead_tup from pg_stat_user_tables where schemaname = 'swarm' and relname = 'task_events'), 0),
       pg_notification_queue_usage()"""


@dataclass(frozen=True)
class Sizes:
    terminal_rows: tuple[int, ...]
    enqueue_rows: int
    dag_tasks: int
    dependents: int
    snapshot_seconds: int


FULL = Sizes(terminal_rows=(0, 1_000_000, 10_000_000), enqueue_rows=1_000_000, dag_tasks=100_000,
             dependents=10_000, snapshot_seconds=180)
QUICK = Sizes(terminal_rows=(0, 100_000, 1_000_000), enqueue_rows=100_000, dag_tasks=10_000,
              dependents=10_000, snapshot_seconds=30)


@dataclass
class Row:
    part: str
    case: str
    figure: str
    dead_tasks_max: int = 0
    dead_events_max: int = 0
    notify_usage_max: float = 0.0


@dataclass
class Sampler:
    """Samples dead tuples and the notification queue once a second while a part runs."""
    dsn: str
    dead_tasks: list[int] = field(default_factory=list)
    dead_events: list[int] = field(default_factory=list)
    notify: list[float] = field(default_factory=list)
    notifications_seen: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.dsn)
        listener = await asyncpg.connect(self.dsn)

        def on_ready(*_args) -> None:
            self.notifications_seen += 1

        await listener.add_listener("swarm_ready", on_ready)
        try:
            while True:
                await self._sample(conn)
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                    break
                except asyncio.TimeoutError:
                    pass
            await asyncio.sleep(0.6)  # the cumulative stats are flushed at most once a second
            await self._sample(conn)
        finally:
            await listener.close()
            await conn.close()

    async def _sample(self, conn: asyncpg.Connection) -> None:
        dead_tasks, dead_events, usage = await conn.fetchrow(SAMPLE)
        self.dead_tasks.append(dead_tasks)
        self.dead_events.append(dead_events)
        self.notify.append(usage)

    def fill(self, row: Row) -> Row:
        row.dead_tasks_max = max(self.dead_tasks, default=0)
        row.dead_events_max = max(self.dead_events, default=0)
        row.notify_usage_max = max(self.notify, default=0.0)
        return row


async def sampled(dsn: str, body: Callable[[], Awaitable[list[Row]]]) -> list[Row]:
    """Run one part with a sampler beside it; every row of the part gets the part's maxima."""
    sampler = Sampler(dsn)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop), name="sampler")
    try:
        rows = await body()
    finally:
        stop.set()
        await sampling
    return [sampler.fill(row) for row in rows]


async def complete_batch(conn: asyncpg.Connection, worker: str, claimed: list[asyncpg.Record]) -> int:
    """Report a claimed batch with one swarm.complete_tasks call. (Completing a batch with one
    complete_task per task in one transaction deadlocks when two batches share dependents: each
    call locks its own dependents. complete_tasks locks all of them in one id-ordered pass.)"""
    return await conn.fetchval(COMPLETE_BATCH, worker, [r["id"] for r in claimed], [r["attempts"] for r in claimed],
                               [r["lease_token"] for r in claimed])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def fmt_n(n: int) -> str:
    return f"{n / 1_000_000:g} M" if n >= 1_000_000 else f"{n:,}"


async def reset(conn: asyncpg.Connection) -> None:
    await conn.execute("truncate swarm.agent_tasks, swarm.task_events, swarm.agent_tasks_archive, "
                       "swarm.task_events_archive restart identity")
    await conn.execute("vacuum analyze swarm.agent_tasks")
    await conn.execute("checkpoint")


# -- claim latency ----------------------------------------------------------------------------
async def load_terminal(conn: asyncpg.Connection, rows: int) -> float:
    """Bulk-load finished tasks (finished two days ago) in 1 M-row statements; returns seconds."""
    start = time.perf_counter()
    await conn.execute("set session_replication_role = replica")
    done = 0
    while done < rows:
        chunk = min(1_000_000, rows - done)
        await conn.execute("""
            with finished as (
              insert into swarm.agent_tasks (prompt, status, attempts, worker, started_at, finished_at, exit_code,
                                             created_at, updated_at)
              select 'true', 'completed', 1, 'old', now() - interval '2 days', now() - interval '2 days', 0,
                     now() - interval '2 days', now() - interval '2 days'
                from generate_series(1, $1)
              returning id, finished_at)
            insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
            select id, finished_at, 'completed', 'old', 1, '{}' from finished""", chunk)
        done += chunk
    await conn.execute("set session_replication_role = default")
    await conn.execute("vacuum analyze swarm.agent_tasks")
    await conn.execute("vacuum analyze swarm.task_events")
    await conn.execute("checkpoint")
    return time.perf_counter() - start


async def claim_latencies(conn: asyncpg.Connection, samples: int) -> tuple[list[float], list[float]]:
    """ms per claim_task (max 1) and per claim of 100, each followed by its completion."""
    await conn.execute("insert into swarm.agent_tasks (prompt) select 'true' from generate_series(1, $1)",
                       samples + 100 + 20 * 100 + 100)
    await conn.execute("analyze swarm.agent_tasks")
    single, batch = [], []
    for i in range(samples + 100):
        start = time.perf_counter()
        claimed = await conn.fetch(CLAIM_BATCH, "lat", 1)
        elapsed = (time.perf_counter() - start) * 1000
        await conn.fetchval(COMPLETE_BATCH, "lat", [r["id"] for r in claimed], [r["attempts"] for r in claimed],
                            [r["lease_token"] for r in claimed])
        if i >= 100:  # warm-up: plans and buffers
            single.append(elapsed)
    for _ in range(20):
        start = time.perf_counter()
        claimed = await conn.fetch(CLAIM_BATCH, "lat", 100)
        batch.append((time.perf_counter() - start) * 1000)
        await conn.fetchval(COMPLETE_BATCH, "lat", [r["id"] for r in claimed], [r["attempts"] for r in claimed],
                            [r["lease_token"] for r in claimed])
    return single, batch


async def part_claim(dsn: str, sizes: Sizes, samples: int) -> list[Row]:
    rows: list[Row] = []
    conn = await asyncpg.connect(dsn, command_timeout=None)
    try:
        for terminal in sizes.terminal_rows:
            await reset(conn)
            load_s = await load_terminal(conn, terminal) if terminal else 0.0

            async def measure(label: str) -> list[Row]:
                single, batch = await claim_latencies(conn, samples)
                return [Row("claim", f"{fmt_n(terminal)} terminal rows, {label}",
                            f"claim 1: p50 {pct(single, 50):.3f} / p95 {pct(single, 95):.3f} / p99 {pct(single, 99):.3f} ms;"
                            f" claim 100: p50 {pct(batch, 50):.2f} ms")]

            loaded = f"in table (loaded in {load_s:.0f} s)" if terminal else "empty table"
            rows += await sampled(dsn, lambda: measure(loaded))
            if terminal:
                start = time.perf_counter()
                moved = 0
                while True:  # the archive policy a cron job would run: batches of 100,000
                    batch_moved = await conn.fetchval("select swarm.archive(interval '1 day', batch_size => 100000)")
                    moved += batch_moved
                    if batch_moved == 0:
                        break
                archive_s = time.perf_counter() - start
                await conn.execute("vacuum analyze swarm.agent_tasks")
                rows += await sampled(dsn, lambda: measure(
                    f"after swarm.archive() moved {fmt_n(moved)} in {archive_s:.0f} s (+ VACUUM)"))
    finally:
        await conn.close()
    return rows


# -- enqueue ----------------------------------------------------------------------------------
async def part_enqueue(dsn: str, sizes: Sizes) -> list[Row]:
    n = sizes.enqueue_rows
    conn = await asyncpg.connect(dsn, command_timeout=None)
    rows: list[Row] = []
    try:
        async def one_statement() -> list[Row]:
            await reset(conn)
            start = time.perf_counter()
            await conn.execute("insert into swarm.agent_tasks (prompt) select 'true' from generate_series(1, $1)", n)
            elapsed = time.perf_counter() - start
            return [Row("enqueue", f"{fmt_n(n)} by one INSERT ... SELECT", f"{n / elapsed:,.0f} tasks/s ({elapsed:.1f} s)")]

        async def multi_row() -> list[Row]:
            await reset(conn)
            per = 1000
            values = ", ".join(f"(${i + 1})" for i in range(per))
            statement = f"insert into swarm.agent_tasks (prompt) values {values}"
            prompts = ["true"] * per
            start = time.perf_counter()
            for _ in range(n // per):
                await conn.execute(statement, *prompts)
            elapsed = time.perf_counter() - start
            return [Row("enqueue", f"{fmt_n(n)} by 1,000-row multi-row INSERTs",
                        f"{n / elapsed:,.0f} tasks/s ({elapsed:.1f} s)")]

        async def copy() -> list[Row]:
            await reset(conn)
            records = [("true",)] * n
            start = time.perf_counter()
            await conn.copy_records_to_table("agent_tasks", schema_name="swarm", columns=["prompt"], records=records)
            elapsed = time.perf_counter() - start
            return [Row("enqueue", f"{fmt_n(n)} by COPY", f"{n / elapsed:,.0f} tasks/s ({elapsed:.1f} s)")]

        for body in (one_statement, multi_row, copy):
            rows += await sampled(dsn, body)
        pending = await conn.fetchval("select count(*) from swarm.agent_tasks where status = 'pending'")
        if pending != n:
            raise RuntimeError(f"enqueue: expected {n} pending tasks after COPY, found {pending}")
    finally:
        await conn.close()
    return rows


# -- draining ---------------------------------------------------------------------------------
async def drain(dsn: str, total: int, consumers: int = 4, batch: int = 100) -> float:
    """Claim-and-complete with `consumers` connections until `total` completions; returns seconds."""
    completed = 0
    done = asyncio.Event()

    async def consumer(index: int) -> None:
        nonlocal completed
        conn = await asyncpg.connect(dsn)
        name = f"drain-{index}"
        try:
            while not done.is_set():
                claimed = await conn.fetch(CLAIM_BATCH, name, batch)
                if not claimed:
                    await asyncio.sleep(0.002)  # dependents become pending as other consumers complete
                    continue
                accepted = await complete_batch(conn, name, claimed)
                completed += accepted  # not `completed += await ...`: that reads `completed` before awaiting
                if completed >= total:
                    done.set()
        finally:
            await conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(asyncio.create_task(consumer(i), name=f"drain-consumer-{i}") for i in range(consumers)))
    return time.perf_counter() - start


async def part_dag(dsn: str, sizes: Sizes) -> list[Row]:
    layers = 10
    width = sizes.dag_tasks // layers
    conn = await asyncpg.connect(dsn, command_timeout=None)
    try:
        await reset(conn)
        start = time.perf_counter()
        first = await conn.fetchval("""
            with layer as (insert into swarm.agent_tasks (prompt) select 'true' from generate_series(1, $1) returning id)
            select min(id) from layer""", width)
        for _ in range(1, layers):
            # each task depends on two random tasks of the previous layer (ids first .. first+width-1)
            first = await conn.fetchval("""
                with layer as (
                  insert into swarm.agent_tasks (prompt, depends_on)
                  select 'true', array[$1 + floor(random() * $2)::bigint, $1 + floor(random() * $2)::bigint]
                    from generate_series(1, $2)
                  returning id)
                select min(id) from layer""", first, width)
        build_s = time.perf_counter() - start
        await conn.execute("vacuum analyze swarm.agent_tasks")
    finally:
        await conn.close()

    async def body() -> list[Row]:
        seconds = await drain(dsn, layers * width)
        return [Row("dag", f"{fmt_n(layers * width)} tasks, {layers} layers x {width:,}, 2 deps each, 4 consumers",
                    f"drained in {seconds:.1f} s = {layers * width / seconds:,.0f} tasks/s (built in {build_s:.1f} s)")]

    rows = await sampled(dsn, body)
    await check_all_completed(dsn, layers * width, "dag")
    return rows


async def check_all_completed(dsn: str, expected: int, part: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        completed, other = await conn.fetchrow("""
            select count(*) filter (where status = 'completed'), count(*) filter (where status <> 'completed')
              from swarm.agent_tasks""")
    finally:
        await conn.close()
    if completed < expected or other:
        raise RuntimeError(f"{part}: {completed} completed (expected {expected}), {other} not completed")


async def part_release(dsn: str, sizes: Sizes) -> list[Row]:
    conn = await asyncpg.connect(dsn, command_timeout=None)
    try:
        await reset(conn)
        root = await conn.fetchval("insert into swarm.agent_tasks (prompt) values ('true') returning id")
        await conn.execute("""insert into swarm.agent_tasks (prompt, depends_on)
                              select 'true', array[$1::bigint] from generate_series(1, $2)""", root, sizes.dependents)
        await conn.execute("vacuum analyze swarm.agent_tasks")

        async def body() -> list[Row]:
            claimed = await conn.fetch(CLAIM_BATCH, "release", 1)
            start = time.perf_counter()
            accepted = await conn.fetchval(COMPLETE_BATCH, "release", [claimed[0]["id"]], [claimed[0]["attempts"]],
                                           [claimed[0]["lease_token"]])
            elapsed = (time.perf_counter() - start) * 1000
            pending = await conn.fetchval("select count(*) from swarm.agent_tasks where status = 'pending'")
            if accepted != 1 or pending != sizes.dependents:
                raise RuntimeError(f"release: {pending} pending after completing the root (expected {sizes.dependents})")
            return [Row("release", f"complete 1 task with {sizes.dependents:,} waiting dependents",
                        f"{elapsed:,.0f} ms for the complete_task transaction ({pending:,} now pending)")]

        return await sampled(dsn, body)
    finally:
        await conn.close()


# -- throughput under a held snapshot ---------------------------------------------------------
@dataclass(frozen=True)
class SteadyQueue:
    """What the snapshot part drives: pgswarm, or the hand-written baseline for comparison."""
    name: str
    enqueue_500: str  # one statement enqueuing 500 tasks
    cycle: Callable[[asyncpg.Connection, str], Awaitable[int]]  # claim up to 100, complete them
    reset: Callable[[asyncpg.Connection], Awaitable[None]]


async def swarm_cycle(conn: asyncpg.Connection, worker: str) -> int:
    claimed = await conn.fetch(CLAIM_BATCH, worker, 100)
    return await complete_batch(conn, worker, claimed) if claimed else 0


# The baseline of ../shared/bench/peers/baseline_pgbench.py (its table and its batch statements).
BASELINE_SCHEMA = """
create table if not exists jobs (
    id bigserial primary key, status text not null default 'pending', priority int not null default 0,
    payload jsonb not null default '{}', created_at timestamptz not null default now(),
    started_at timestamptz, finished_at timestamptz);
create index if not exists jobs_pending_idx on jobs (priority desc, id) where status = 'pending'"""
BASELINE_CLAIM = """
with c as (select id from jobs where status = 'pending' order by priority desc, id limit 100 for update skip locked)
update jobs j set status = 'running', started_at = now() from c where j.id = c.id returning j.id"""


async def baseline_cycle(conn: asyncpg.Connection, worker: str) -> int:
    ids = [r["id"] for r in await conn.fetch(BASELINE_CLAIM)]
    if ids:
        await conn.execute("update jobs set status = 'done', finished_at = now() where id = any($1::bigint[])", ids)
    return len(ids)


async def baseline_reset(conn: asyncpg.Connection) -> None:
    await conn.execute(BASELINE_SCHEMA)
    await conn.execute("truncate jobs restart identity")
    await conn.execute("vacuum analyze jobs")
    await conn.execute("checkpoint")


SWARM_QUEUE = SteadyQueue("pgswarm", "insert into swarm.agent_tasks (prompt) select 'true' from generate_series(1, 500)",
                          swarm_cycle, reset)
BASELINE_QUEUE = SteadyQueue("the hand-written baseline", "insert into jobs (priority) select 0 from generate_series(1, 500)",
                             baseline_cycle, baseline_reset)


async def steady_throughput(dsn: str, seconds: float, queue: SteadyQueue, backlog: int = 20_000) -> list[float]:
    """A producer keeps about `backlog` tasks pending; 2 consumers drain. Returns tasks/s per 10 s."""
    completed = 0
    enqueued = 0
    stop = asyncio.Event()

    async def producer() -> None:
        nonlocal enqueued
        conn = await asyncpg.connect(dsn)
        try:
            while not stop.is_set():
                if enqueued - completed < backlog:
                    await conn.execute(queue.enqueue_500)
                    enqueued += 500
                else:
                    await asyncio.sleep(0.005)
        finally:
            await conn.close()

    async def consumer(index: int) -> None:
        nonlocal completed
        conn = await asyncpg.connect(dsn)
        try:
            while not stop.is_set():
                done = await queue.cycle(conn, f"steady-{index}")
                if not done:
                    await asyncio.sleep(0.002)
                completed += done
        finally:
            await conn.close()

    tasks = [asyncio.create_task(producer(), name="steady-producer")]
    tasks += [asyncio.create_task(consumer(i), name=f"steady-consumer-{i}") for i in range(2)]
    await asyncio.sleep(2)  # warm-up, not counted
    rates = []
    bucket = 10.0
    for _ in range(max(1, int(seconds // bucket))):
        before = completed
        await asyncio.sleep(bucket)
        rates.append((completed - before) / bucket)
    stop.set()
    await asyncio.gather(*tasks)
    return rates


async def part_snapshot(dsn: str, sizes: Sizes, queue: SteadyQueue = SWARM_QUEUE) -> list[Row]:
    part = "snapshot" if queue is SWARM_QUEUE else "snapshot-baseline"

    async def fresh() -> None:
        conn = await asyncpg.connect(dsn, command_timeout=None)
        try:
            await queue.reset(conn)
        finally:
            await conn.close()

    await fresh()
    normal_rate: list[float] = []

    async def normal() -> list[Row]:
        rates = await steady_throughput(dsn, sizes.snapshot_seconds, queue)
        normal_rate.append(statistics.fmean(rates))
        return [Row(part, f"{queue.name}: steady enqueue + drain, {sizes.snapshot_seconds} s, no snapshot held",
                    f"{normal_rate[0]:,.0f} tasks/s (per 10 s: {', '.join(f'{r:,.0f}' for r in rates)})")]

    rows = await sampled(dsn, normal)
    await fresh()

    async def held() -> list[Row]:
        holder = await asyncpg.connect(dsn)
        transaction = holder.transaction(isolation="repeatable_read")
        await transaction.start()
        await holder.fetchval("select count(*) from swarm.agent_tasks")  # takes the snapshot
        try:
            rates = await steady_throughput(dsn, sizes.snapshot_seconds, queue)
        finally:
            await transaction.rollback()
            await holder.close()
        rate = statistics.fmean(rates)
        ratio = rate / normal_rate[0]
        return [Row(part, f"{queue.name}: same, another session holds a REPEATABLE READ snapshot "
                          f"{sizes.snapshot_seconds} s",
                    f"{rate:,.0f} tasks/s = {ratio:.0%} of normal, last 10 s {rates[-1] / normal_rate[0]:.0%} "
                    f"(target >= 80%: {'met' if ratio >= 0.8 else 'NOT met'}) "
                    f"(per 10 s: {', '.join(f'{r:,.0f}' for r in rates)})")]

    rows += await sampled(dsn, held)
    return rows


# -- a queue that keeps up, under a held snapshot ---------------------------------------------
KEEPUP_TASKS = 100_000


async def keepup_rates(conn: asyncpg.Connection, total: int) -> list[float]:
    """Enqueue 100, claim them, report them, until `total`; tasks/s per 20,000."""
    rates, done, started = [], 0, time.perf_counter()
    while done < total:
        await conn.execute("insert into swarm.agent_tasks (agent, prompt) select 'shell', 'true' "
                           "from generate_series(1, 100)")
        done += await swarm_cycle(conn, "keepup")
        if done % 20_000 == 0:
            now = time.perf_counter()
            rates.append(20_000 / (now - started))
            started = now
    return rates


async def empty_claim_ms(conn: asyncpg.Connection, samples: int = 50) -> float:
    """Median time of a claim that finds nothing (an idle poll)."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        assert not await conn.fetch(CLAIM_BATCH, "idle", 1)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def part_keepup(dsn: str) -> list[Row]:
    rows: list[Row] = []
    for case, held, paused in (("no snapshot held", False, False), ("a snapshot held", True, False),
                               ("a snapshot held, a paused agent's 100 tasks pending", True, True)):
        conn = await asyncpg.connect(dsn, command_timeout=None)
        holder = await asyncpg.connect(dsn)
        transaction = holder.transaction(isolation="repeatable_read")
        try:
            await reset(conn)
            if paused:
                await conn.execute("insert into swarm.agent_tasks (agent, prompt) select 'claude', 'x' "
                                   "from generate_series(1, 100)")
                await conn.execute("select swarm.pause_agent('claude', now() + interval '1 hour', 'usage limit')")
            if held:
                await transaction.start()
                await holder.fetchval("select count(*) from swarm.agent_tasks")  # takes the snapshot

            async def body() -> list[Row]:
                rates = await keepup_rates(conn, KEEPUP_TASKS)
                idle = await empty_claim_ms(conn) if not paused else None
                return [Row("keepup", f"enqueue 100, claim, report; {KEEPUP_TASKS:,} tasks; {case}",
                            f"tasks/s per 20,000: {', '.join(f'{r:,.0f}' for r in rates)}"
                            + (f"; then a claim that finds nothing: p50 {idle:.2f} ms" if idle is not None else ""))]

            rows += await sampled(dsn, body)
        finally:
            if held:
                await transaction.rollback()
            await holder.close()
            await conn.close()
    return rows


def print_table(rows: list[Row]) -> None:
    print()
    print("| part | case | result | dead tuples max (tasks / events) | notify queue max |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.part} | {row.case} | {row.figure} | {row.dead_tasks_max:,} / {row.dead_events_max:,} "
              f"| {row.notify_usage_max:.4%} |")


async def run(dsn: str, sizes: Sizes, parts: list[str], samples: int) -> list[Row]:
    rows: list[Row] = []
    runners = {
        "claim": lambda: part_claim(dsn, sizes, samples),
        "enqueue": lambda: part_enqueue(dsn, sizes),
        "dag": lambda: part_dag(dsn, sizes),
        "release": lambda: part_release(dsn, sizes),
        "snapshot": lambda: part_snapshot(dsn, sizes),
        "snapshot-baseline": lambda: part_snapshot(dsn, sizes, BASELINE_QUEUE),
        "keepup": lambda: part_keepup(dsn),
    }
    for part in parts:
        print(f"-- {part} ...", flush=True)
        part_rows = await runners[part]()
        for row in part_rows:
            print(f"   {row.case}: {row.figure}", flush=True)
        rows += part_rows
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (see the module docstring)")
    ap.add_argument("--only", default="claim,enqueue,dag,release,snapshot", help="comma-separated parts")
    ap.add_argument("--samples", type=int, default=1000, help="claims measured per latency case")
    ap.add_argument("--pgbin", type=Path, default=PG15_BIN, help="PostgreSQL binaries (default: 15)")
    args = ap.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - {"claim", "enqueue", "dag", "release", "snapshot", "snapshot-baseline", "keepup"}
    if unknown:
        sys.exit(f"bench/scale.py: unknown part(s) {', '.join(sorted(unknown))}")
    if not (args.pgbin / "postgres").exists():
        sys.exit(f"bench/scale.py: no postgres binary in {args.pgbin}")
    sizes = QUICK if args.quick else FULL

    server = start_server(args.pgbin, prefix="pgswarm-scale-", fsync="on", full_page_writes="on",
                          synchronous_commit="on", shared_buffers="512MB", max_connections="200",
                          max_wal_size="4GB")
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as c:
            c.execute("create database bench_scale")
        migrate(server.dsn("bench_scale"))
        print(f"PostgreSQL {server.version()} (fsync on, synchronous_commit on, shared_buffers 512MB, "
              f"max_wal_size 4GB; autovacuum: server defaults + the per-table settings of the migration); sizes: {'--quick' if args.quick else 'full'}", flush=True)
        rows = asyncio.run(run(server.dsn("bench_scale"), sizes, parts, args.samples))
    finally:
        server.destroy()
    print_table(rows)


if __name__ == "__main__":
    main()
