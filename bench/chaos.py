"""Long chaos runs with real workers and real agent processes (the CI-sized ones are tests/faults/).

    python bench/chaos.py soak            # 30 min: steady enqueue + drain + archive, a worker
                                          # killed (-9) every 5 min; throughput and sizes per minute
    python bench/chaos.py soak --minutes 10 --rate 50
    python bench/chaos.py burst           # 100,000 tasks in one INSERT against 4 workers

Workers are `pgswarm worker --agents shell --allow-shell` processes (concurrency 8, 10 s leases,
1 s poll) on a PostgreSQL 15 server started for the run (fsync and synchronous_commit on). Each
task is a shell command that appends its task id to a file, so an agent that ran twice is
counted. The end of each run prints the hardbyte suite's figures, live and archived rows
together: completed, lost (must be 0), recorded twice (must be 0), agents run twice (only a
killed worker's in-flight attempts may run again), dead tuples; the soak adds per-minute
throughput, pickup p50, table and index sizes, and its verdict:
`soak: minutes=30 first5_per_s=... last5_per_s=... ratio=... lost=0 recorded_twice=0 ...`.
The machine is shared with other work: the soak's figures move with the load around it.
"""
from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # tests.*; pgswarm comes from the installed package

from tests.faults.checks import chaos_report, recording_command  # noqa: E402
from tests.helpers.workers import Workers  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
SIZES = """
select pg_total_relation_size('swarm.agent_tasks'), pg_indexes_size('swarm.agent_tasks'),
       pg_total_relation_size('swarm.task_events'),
       (select coalesce(sum(n_dead_tup), 0) from pg_stat_user_tables
         where schemaname = 'swarm' and relname in ('agent_tasks', 'task_events'))::bigint,
       (select count(*) from swarm.agent_tasks where status = 'pending')"""
PICKUP = """
select percentile_cont(0.5) within group (order by extract(epoch from e.at - (e.detail->>'ready_at')::timestamptz))
  from swarm.task_events as e where e.event = 'claimed' and e.at > now() - interval '1 minute'"""


def start_workers(dsn: str, directory: Path, count: int) -> tuple[Workers, list]:
    workers = Workers(dsn, directory)
    fleet = [workers.start("--agents", "shell", name=f"w{i}", concurrency=8, lease_seconds=10)
             for i in range(count)]
    return workers, fleet


def completed_total(conn: psycopg.Connection) -> int:
    return conn.execute("select (select count(*) from swarm.agent_tasks where status = 'completed') "
                        "+ (select count(*) from swarm.agent_tasks_archive where status = 'completed')").fetchone()[0]


def soak(dsn: str, args: argparse.Namespace, directory: Path) -> None:
    runs = str(directory / "runs")
    command = recording_command(runs)
    ids: list[int] = []
    stop = threading.Event()
    moved = [0]

    def producer() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            per_tick = max(1, round(args.rate / 10))
            next_at = time.monotonic()
            while not stop.is_set():
                rows = conn.execute("insert into swarm.agent_tasks (agent, prompt, max_attempts) "
                                    "select 'shell', %s, 10 from generate_series(1, %s) returning id",
                                    (command, per_tick)).fetchall()
                ids.extend(r[0] for r in rows)
                next_at += 0.1
                stop.wait(max(0.0, next_at - time.monotonic()))

    def archiver() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.wait(args.archive_every):
                moved[0] += conn.execute("call swarm.archive_in_batches(%s::interval, 1000, null)",
                                         (f"{args.archive_older} seconds",)).fetchone()[0]

    workers, fleet = start_workers(dsn, directory, args.workers)
    threads = [threading.Thread(target=producer, name="soak-producer", daemon=True),
               threading.Thread(target=archiver, name="soak-archiver", daemon=True)]
    for thread in threads:
        thread.start()
    rng = random.Random(7)
    kills = 0
    per_minute: list[float] = []
    print(f"{'min':>4} {'done/s':>8} {'pickup p50 ms':>13} {'pending':>8} {'tasks MB':>9} {'idx MB':>7} "
          f"{'events MB':>9} {'dead':>8} {'archived':>9}", flush=True)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            last = completed_total(conn)
            started = time.monotonic()
            for minute in range(1, args.minutes + 1):
                time.sleep(max(0.0, started + minute * 60 - time.monotonic()))
                killed_now = bool(args.kill_every) and minute * 60 % args.kill_every == 0 and minute < args.minutes
                if killed_now:
                    victim = rng.randrange(len(fleet))
                    fleet[victim].signal(signal.SIGKILL)
                    fleet[victim].process.wait()
                    kills += 1
                    fleet[victim] = workers.start("--agents", "shell", name=f"w{victim}-{kills}", concurrency=8,
                                                  lease_seconds=10)
                now_done = completed_total(conn)
                rate = (now_done - last) / 60
                last = now_done
                per_minute.append(rate)
                tasks, indexes, events, dead, pending = conn.execute(SIZES).fetchone()
                pickup = conn.execute(PICKUP).fetchone()[0]
                print(f"{minute:>4} {rate:>8.1f} {(pickup or 0) * 1000:>13.1f} {pending:>8} {tasks / 2**20:>9.1f} "
                      f"{indexes / 2**20:>7.1f} {events / 2**20:>9.1f} {dead:>8} {moved[0]:>9}"
                      f"{'  (a worker killed -9)' if killed_now else ''}",
                      flush=True)
        stop.set()
        for thread in threads:
            thread.join(60)
        deadline = time.monotonic() + 300
        with psycopg.connect(dsn, autocommit=True) as conn:
            while completed_total(conn) < len(ids) and time.monotonic() < deadline:
                time.sleep(1)
    finally:
        stop.set()
        workers.stop_all()
    report = chaos_report(dsn, ids, runs)
    window = min(5, len(per_minute))
    first, final = statistics.mean(per_minute[:window]), statistics.mean(per_minute[-window:])
    print(f"{kills} worker(s) killed -9; {report}")
    print(f"soak: minutes={args.minutes} first5_per_s={first:.1f} last5_per_s={final:.1f} ratio={final / first:.2f} "
          f"lost={report['lost']} recorded_twice={report['recorded_twice']} "
          f"agents_run_twice={report['agents_run_twice']} kills={kills}", flush=True)


def burst(dsn: str, args: argparse.Namespace, directory: Path) -> None:
    runs = str(directory / "runs")
    workers, _fleet = start_workers(dsn, directory, args.workers)
    try:
        time.sleep(3)  # the workers connect and go idle (they poll every second anyway)
        started = time.monotonic()
        with psycopg.connect(dsn, autocommit=True) as conn:
            ids = [r[0] for r in conn.execute(
                "insert into swarm.agent_tasks (agent, prompt, max_attempts) "
                "select 'shell', %s, 10 from generate_series(1, %s) returning id",
                (recording_command(runs), args.tasks)).fetchall()]
            enqueued = time.monotonic() - started
            marks = []
            while completed_total(conn) < len(ids) and time.monotonic() - started < 3600:
                time.sleep(5)
                marks.append((time.monotonic() - started, completed_total(conn)))
            drained = time.monotonic() - started
            tasks, indexes, events, dead, pending = conn.execute(SIZES).fetchone()
    finally:
        workers.stop_all()
    report = chaos_report(dsn, ids, runs)
    print(f"burst: {args.tasks} tasks enqueued in {enqueued:.2f} s (one INSERT), drained by {args.workers} workers "
          f"x 8 slots in {drained:.1f} s ({args.tasks / drained:.0f} tasks/s); tables at the end: agent_tasks "
          f"{tasks / 2**20:.1f} MB (indexes {indexes / 2**20:.1f}), task_events {events / 2**20:.1f} MB, "
          f"{dead} dead tuples; {report}")
    print(f"burst: tasks={args.tasks} enqueue_s={enqueued:.2f} drain_s={drained:.1f} lost={report['lost']} "
          f"recorded_twice={report['recorded_twice']} agents_run_twice={report['agents_run_twice']}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", choices=["soak", "burst"])
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--rate", type=float, default=100.0, help="soak: tasks enqueued a second")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--kill-every", type=int, default=300, help="soak: seconds between kill -9 of a worker")
    ap.add_argument("--archive-every", type=float, default=30.0, help="soak: seconds between archive calls")
    ap.add_argument("--archive-older", type=int, default=60, help="soak: archive tasks finished this many s ago")
    ap.add_argument("--tasks", type=int, default=100_000, help="burst: tasks in the one INSERT")
    ap.add_argument("--pgbin", type=Path, default=PG15_BIN)
    args = ap.parse_args()
    server = start_server(args.pgbin, prefix="pgswarm-chaos-", fsync="on", synchronous_commit="on",
                          full_page_writes="on", max_connections="100")
    directory = Path(tempfile.mkdtemp(prefix="pgswarm-chaos-run-"))
    try:
        from pgswarm.client.migrate import migrate

        with psycopg.connect(server.dsn(), autocommit=True) as c:
            c.execute("create database chaos")
        dsn = server.dsn("chaos")
        migrate(dsn)
        with psycopg.connect(dsn) as c:
            version = c.execute("show server_version").fetchone()[0]
        print(f"PostgreSQL {version}; bench/chaos.py {' '.join(sys.argv[1:])}", flush=True)
        (soak if args.run == "soak" else burst)(dsn, args, directory)
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
