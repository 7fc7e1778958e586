"""Fleet benchmark: what N idle workers cost one database when tasks trickle in.

    python bench/fleet.py                       # N = 1, 10, 50, 200, 500 (about 4 minutes)
    python bench/fleet.py --sizes 1,50 --tasks 50
    python bench/fleet.py --dsn postgresql://... # an existing server (needs pg_stat_statements)

Each simulated worker is the real worker's idle machinery: pgswarm.worker.supervisor.Supervisor's
claim loop, wake-up handling, idle timer, heartbeat and reaper, on its own connection
(pgswarm.worker.sqlapi.Database: LISTEN, claim, poll), with concurrency 1. Only the attempt is
simulated: a claimed task is completed after --task-ms instead of running an agent. The workers
run in --procs child processes (asyncio, one connection each), so 500 fit on a small machine.

One producer then enqueues --tasks single-row INSERTs, --interval-ms apart, each in its own
transaction, committed with synchronous_commit = off (the WAL flush is the same for any fleet). For every N, on a fresh database, it prints:
  pickup p50/p95/p99   the INSERT's commit (track_commit_timestamp; else the producer seeing it
                       return) -> a worker's claim returning, in ms (one host, one clock)
  claims/task          claim calls (the worker's claim statement, pg_stat_statements) / tasks
  checks/task          the worker's other idle calls (wake-up checks, idle timers) / tasks
  db ms/task           database execution time of every statement (pg_stat_statements) / tasks
  db cpu ms/task       user+system CPU of the server's processes (/proc) / tasks
  connections          backends connected to the database while the workers ran
The last line is `fleet: workers=N pickup_p50_ms=... claims_per_task=... db_ms_per_task=...` for
the largest N. The machine is shared: compare figures within one run, as ratios.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # tests.pgserver; pgswarm comes from the installed package

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
AGENT = "fleet"


# -- the child: simulated workers --------------------------------------------------------------

def _sim_worker_class() -> type:
    from pgswarm.worker.records import ClaimedTask
    from pgswarm.worker.supervisor import Supervisor

    class SimWorker(Supervisor):
        """The worker's claim loop, timers and duties; the attempt is a sleep and a complete."""

        def __init__(self, config: Any, task_seconds: float, pickups: list[tuple[int, float]]) -> None:
            super().__init__(config, profiles=None)  # type: ignore[arg-type]
            self.task_seconds = task_seconds
            self.pickups = pickups
            self.busy = 0
            self.jobs: set[asyncio.Task[None]] = set()
            self.idle = asyncio.Event()

        def _free_slots(self) -> int:
            return self.config.concurrency - self.busy

        async def _declare_task_args(self) -> None:
            """No agent profiles here: nothing to declare (a real worker declares its profiles' args)."""

        async def _sleep_until_woken(self, timeout: float) -> bool:
            self.idle.set()  # the first idle sleep: this worker is ready
            return await super()._sleep_until_woken(timeout)

        def _start(self, task: ClaimedTask) -> None:
            self.pickups.append((task.id, time.time()))
            self.busy += 1
            job = asyncio.get_running_loop().create_task(self._finish(task), name=f"sim-task-{task.id}")
            self.jobs.add(job)
            job.add_done_callback(self.jobs.discard)

        async def _finish(self, task: ClaimedTask) -> None:
            try:
                await asyncio.sleep(self.task_seconds)
                await self.db.complete(task.id, task.attempt, result=None, exit_code=0, output_tail=None,
                                       log_path=None, cost_usd=None, input_tokens=None, output_tokens=None)
            finally:
                self.busy -= 1
                self.wake.set()

        async def run_sim(self) -> None:
            await self.db.connect()
            self.agents = [AGENT]
            await self._register()
            self._start_duty("heartbeat", self._heartbeat_loop())
            self._start_duty("reaper", self._reap_loop())
            await self._claim_loop()

        async def stop_sim(self) -> None:
            self._stop_claiming()
            for duty in self.duties:
                duty.cancel()
            await asyncio.gather(*self.duties, *self.jobs, return_exceptions=True)
            await self.db.close()

    return SimWorker


async def child_main(args: argparse.Namespace) -> None:
    from pgswarm.worker.config import WorkerConfig

    sim_worker = _sim_worker_class()
    pickups: list[tuple[int, float]] = []
    workers = [sim_worker(WorkerConfig(dsn=args.dsn, name=f"fleet-{args.first + i}", agents=[AGENT], concurrency=1,
                                       poll_interval=args.poll_interval, lease_seconds=60),
                          args.task_ms / 1000, pickups)
               for i in range(args.workers)]
    runs = []
    for w in workers:  # connect in small steps: 500 connections at once would queue on the postmaster
        runs.append(asyncio.get_running_loop().create_task(w.run_sim(), name=f"sim-{w.name}"))
        await asyncio.wait_for(w.idle.wait(), 60)
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    assert line.strip() == "stop", line
    await asyncio.gather(*(w.stop_sim() for w in workers))
    for run in runs:
        run.cancel()
    await asyncio.gather(*runs, return_exceptions=True)
    print(json.dumps(pickups), flush=True)


# -- the parent: server, producer, figures --------------------------------------------------------

@dataclass
class Figures:
    workers: int
    tasks: int
    pickup_ms: list[float]
    top: list[str]
    claims: int
    checks: int
    db_ms: float
    cpu_ms: float
    connections: int

    def pct(self, p: float) -> float:
        ordered = sorted(self.pickup_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def row(self) -> str:
        return (f"{self.workers:>5} {self.pct(50):>8.2f} {self.pct(95):>8.2f} {self.pct(99):>8.2f} "
                f"{self.claims / self.tasks:>11.2f} {self.checks / self.tasks:>11.2f} "
                f"{self.db_ms / self.tasks:>10.3f} {self.cpu_ms / self.tasks:>14.3f} {self.connections:>11}")


HEADER = (f"{'N':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'claims/task':>11} {'checks/task':>11} "
          f"{'db ms/task':>10} {'db cpu ms/task':>14} {'connections':>11}")


def server_cpu_ms(postmaster_pid: int) -> float:
    """User + system CPU of the postmaster and its children, in ms (/proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == postmaster_pid or ppid == postmaster_pid:
            total += int(fields[11]) + int(fields[12])
    return total * 1000 / ticks


async def statement_figures(conn: asyncpg.Connection) -> tuple[int, int, float]:
    """(claim calls, other idle calls of the workers, execution ms of everything) since the reset."""
    rows = await conn.fetch("select query, calls, total_exec_time from pg_stat_statements "
                            "where dbid = (select oid from pg_database where datname = current_database())")
    claims = sum(r["calls"] for r in rows if "claim_task" in r["query"] or "claim_or_wait" in r["query"])
    checks = sum(r["calls"] for r in rows if "next_run_after" in r["query"] or "idle_check" in r["query"])
    return claims, checks, sum(r["total_exec_time"] for r in rows)


async def top_statements(conn: asyncpg.Connection, tasks: int) -> list[str]:
    rows = await conn.fetch("select left(regexp_replace(query, '\\s+', ' ', 'g'), 70) as q, calls, total_exec_time "
                            "from pg_stat_statements where dbid = (select oid from pg_database "
                            "where datname = current_database()) order by total_exec_time desc limit 6")
    return [f"      {r['total_exec_time'] / tasks:7.3f} ms/task {r['calls'] / tasks:7.2f} calls/task  {r['q']}"
            for r in rows]


async def measure(dsn: str, postmaster_pid: int | None, n: int, args: argparse.Namespace) -> Figures:
    procs = min(args.procs, n)
    per = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    children = []
    first = 0
    for count in per:
        children.append(subprocess.Popen(
            [sys.executable, __file__, "--child", "--dsn", dsn, "--workers", str(count), "--first", str(first),
             "--poll-interval", str(args.poll_interval), "--task-ms", str(args.task_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        first += count
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a worker process did not start: {line!r}")
        conn = await asyncpg.connect(dsn)
        try:
            connections = await conn.fetchval("select count(*) from pg_stat_activity where datname = current_database()"
                                              " and pid <> pg_backend_pid()")
            await asyncio.sleep(1.0)  # let the start-up claims settle
            # The producer commits without waiting for the WAL flush: the flush (the disk's, shared
            # with other work on this machine) is the same for any fleet and would drown the wake-up.
            await conn.execute("set synchronous_commit = off")
            await conn.execute("select pg_stat_statements_reset()")
            cpu_before = server_cpu_ms(postmaster_pid) if postmaster_pid else 0.0
            committed: dict[int, float] = {}  # when the producer saw its INSERT return
            xids: dict[int, str] = {}
            start = time.monotonic()
            for i in range(args.tasks):
                target = start + i * args.interval_ms / 1000
                delay = target - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task_id, xid = await conn.fetchrow(
                    "insert into swarm.agent_tasks (agent, prompt) values ($1, 'fleet') "
                    "returning id, pg_current_xact_id()::text", AGENT)
                committed[task_id] = time.time()
                xids[task_id] = xid
            deadline = time.monotonic() + 60
            while await conn.fetchval("select count(*) from swarm.agent_tasks where status <> 'completed'"):
                if time.monotonic() > deadline:
                    raise RuntimeError("tasks left unfinished after 60 s")
                await asyncio.sleep(0.05)
            cpu_ms = (server_cpu_ms(postmaster_pid) - cpu_before) if postmaster_pid else float("nan")
            if await conn.fetchval("select current_setting('track_commit_timestamp')::bool"):
                # The commit itself, by the server's clock (the same host's): a woken worker's claim
                # can return before the producer's INSERT does.
                for task_id, xid in xids.items():
                    committed[task_id] = await conn.fetchval(
                        "select extract(epoch from pg_xact_commit_timestamp($1::text::xid))::float8", xid)
            claims, checks, db_ms = await statement_figures(conn)
            top = await top_statements(conn, args.tasks)
        finally:
            await conn.close()
    finally:
        pickups: dict[int, float] = {}
        for child in children:
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write("stop\n")
                child.stdin.flush()
                out = child.stdout.readline()
                pickups.update({task_id: at for task_id, at in json.loads(out)} if out else {})
            except (BrokenPipeError, json.JSONDecodeError):
                pass
            child.wait(30)
    latencies = [(pickups[t] - at) * 1000 for t, at in committed.items() if t in pickups]
    if len(latencies) != len(committed):
        raise RuntimeError(f"{len(committed) - len(latencies)} task(s) without a recorded pickup")
    return Figures(n, args.tasks, latencies, top, claims, checks, db_ms, cpu_ms, connections)


def fresh_database(admin_dsn: str, name: str) -> str:
    from pgswarm.client.migrate import migrate

    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute(f"drop database if exists {name} with (force)")
        c.execute(f"create database {name}")
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    migrate(dsn)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("create extension if not exists pg_stat_statements")
        c.execute("insert into swarm.agents (name) values (%s) on conflict do nothing", (AGENT,))
    return dsn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,10,50,200,500", help="fleet sizes, comma-separated")
    ap.add_argument("--tasks", type=int, default=100, help="tasks enqueued per size")
    ap.add_argument("--interval-ms", type=float, default=50.0, help="between two enqueues")
    ap.add_argument("--task-ms", type=float, default=5.0, help="how long a simulated attempt runs")
    ap.add_argument("--poll-interval", type=float, default=5.0, help="the workers' --poll-interval")
    ap.add_argument("--top", action="store_true", help="print each size's costliest statements")
    ap.add_argument("--procs", type=int, default=4, help="worker processes")
    ap.add_argument("--dsn", help="an existing server's admin DSN (default: start PostgreSQL 15 for the run)")
    ap.add_argument("--pgbin", type=Path, default=PG15_BIN)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        asyncio.run(child_main(args))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    server = None
    if args.dsn:
        admin_dsn, postmaster_pid = args.dsn, None
    else:
        from tests.pgserver import start_server

        server = start_server(args.pgbin, prefix="pgswarm-fleet-", fsync="on", synchronous_commit="on",
                              full_page_writes="on", max_connections=str(max(sizes) + 100),
                              shared_preload_libraries="pg_stat_statements", track_commit_timestamp="on")
        admin_dsn = server.dsn()
        assert server.process is not None
        postmaster_pid = server.process.pid
    try:
        with psycopg.connect(admin_dsn) as c:
            version = c.execute("show server_version").fetchone()[0]
        print(f"PostgreSQL {version}; {args.tasks} single INSERTs {args.interval_ms:g} ms apart per size; "
              f"workers: concurrency 1, --poll-interval {args.poll_interval:g}, attempts of {args.task_ms:g} ms; "
              f"{args.procs} worker processes; host {socket.gethostname()}, {os.cpu_count()} cores", flush=True)
        print(HEADER, flush=True)
        results = []
        for n in sizes:
            dsn = fresh_database(admin_dsn, f"fleet_{n}")
            figures = asyncio.run(measure(dsn, postmaster_pid, n, args))
            results.append(figures)
            print(figures.row(), flush=True)
            if args.top:
                print("\n".join(figures.top), flush=True)
        last = results[-1]
        base = results[0]
        print(f"pickup p50 at N={last.workers} / N={base.workers}: {last.pct(50) / base.pct(50):.2f}x")
        print(f"fleet: workers={last.workers} pickup_p50_ms={last.pct(50):.2f} "
              f"claims_per_task={last.claims / last.tasks:.2f} db_ms_per_task={last.db_ms / last.tasks:.3f}")
    finally:
        if server is not None:
            server.destroy()


if __name__ == "__main__":
    main()
