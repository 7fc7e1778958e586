"""Worker benchmark: end-to-end tasks/s of a real `pgswarm worker` (shell profile, /bin/true) at
concurrency 1, 8 and 32, beside the raw spawn floor measured in the same run (this machine
spawning and reaping /bin/true directly: subprocess.Popen from N threads, as
../shared/bench/peers/spawn_baseline.py does); pickup latency of an idle worker from the enqueue
commit to the claim and to the agent process running; the worker's RSS at concurrency 32.

    python bench/worker.py                       # the full table (a few minutes)
    python bench/worker.py --tasks 1000 --runs 1 # a quick look

PostgreSQL 15 (Debian's) when installed, else the embedded server; fsync and synchronous_commit
on. Figures are medians over --runs. This is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pgswarm.client.migrate import migrate  # noqa: E402
from tests.pgserver import PgServer, start_server  # noqa: E402

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
TRUE = "/bin/true"
# The concurrency at which the minimal workers are measured beside the real one (the target).
BOUNDS_CONCURRENCY = 8


def spawn_floor(tasks: int, in_flight: int) -> float:
    """Processes/s spawning and reaping /bin/true with `in_flight` threads."""
    def one(_: int) -> None:
        subprocess.Popen([TRUE]).wait()

    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(one, range(tasks)))
    return tasks / (time.perf_counter() - started)


class Worker:
    def __init__(self, dsn: str, concurrency: int, workdir: Path) -> None:
        self.log = open(workdir / f"worker-{concurrency}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pgswarm.cli.main", "worker", "--dsn", dsn, "--agents", "shell", "--allow-shell",
             "--concurrency", str(concurrency), "--name", f"bench-{concurrency}", "--poll-interval", "5",
             "--log-dir", str(workdir / "logs")],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PGSWARM_LOG_LEVEL": "WARNING"})
        self.peak_rss_kb = 0
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample_rss, daemon=True)
        self._sampler.start()

    def _sample_rss(self) -> None:
        while self._sampling and self.process.poll() is None:
            try:
                for line in open(f"/proc/{self.process.pid}/status"):
                    if line.startswith("VmRSS:"):
                        self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.05)

    def wait_registered(self, conn: psycopg.Connection) -> None:
        deadline = time.monotonic() + 30
        while not conn.execute("select 1 from swarm.workers where pid = %s", (self.process.pid,)).fetchone():
            if time.monotonic() > deadline or self.process.poll() is not None:
                sys.exit(f"bench/worker.py: the worker did not start; see {self.log.name}")
            time.sleep(0.05)

    def stop(self) -> None:
        self._sampling = False
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time of a process (user + system), or of its waited-for children."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    first = 13 if children else 11
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(server: PgServer) -> float:
    """CPU time of the server's live processes (postmaster and its children)."""
    assert server.process is not None
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = open(f"/proc/{entry.name}/stat").read().rsplit(")", 1)[1].split()
                if int(entry.name) == server.process.pid or int(fields[1]) == server.process.pid:
                    total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:
                continue
    return total


def fresh_database(server: PgServer, name: str) -> str:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    dsn = server.dsn(name)
    migrate(dsn)
    return dsn


def throughput(server: PgServer, concurrency: int, tasks: int,
               workdir: Path) -> tuple[float, int, tuple[float, ...], tuple[float, float]]:
    """(tasks/s from the enqueue commit to the last completion, peak worker RSS in KiB, CPU ms per
    task of the worker, of its agent processes and of PostgreSQL, tasks per claim call and per
    completion call)."""
    dsn = fresh_database(server, f"bench_c{concurrency}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        worker = Worker(dsn, concurrency, workdir)
        try:
            worker.wait_registered(conn)
            cpu_before = (cpu_seconds(worker.process.pid), cpu_seconds(worker.process.pid, children=True),
                          server_cpu_seconds(server))
            committed = conn.execute("insert into swarm.agent_tasks (prompt) select %s from generate_series(1, %s) "
                                     "returning clock_timestamp()", (TRUE, tasks)).fetchone()[0]
            while conn.execute("select count(*) from swarm.agent_tasks where status in ('completed', 'failed')"
                               ).fetchone()[0] < tasks:
                time.sleep(0.05)
            failed, last = conn.execute("select count(*) filter (where status = 'failed'), max(finished_at) "
                                        "from swarm.agent_tasks").fetchone()
            if failed:
                sys.exit(f"bench/worker.py: {failed} tasks failed; see {worker.log.name}")
            cpu_after = (cpu_seconds(worker.process.pid), cpu_seconds(worker.process.pid, children=True),
                         server_cpu_seconds(server))
            # One call's events share its transaction's timestamp.
            claims, reports = conn.execute("select count(distinct at) filter (where event = 'claimed'), "
                                           "count(distinct at) filter (where event = 'completed') "
                                           "from swarm.task_events").fetchone()
        finally:
            worker.stop()
    per_task = tuple((after - before) * 1000 / tasks for before, after in zip(cpu_before, cpu_after))
    return tasks / (last - committed).total_seconds(), worker.peak_rss_kb, per_task, (tasks / claims, tasks / reports)


def minimal_worker(mode: str, tasks: int, concurrency: int, dsn: str | None = None) -> float:
    """tasks/s of bench/minimal_worker.py (no-database, or engine on a queue of `tasks` /bin/true)."""
    args = [sys.executable, str(REPO / "bench" / "minimal_worker.py"), mode, str(tasks), str(concurrency)]
    if dsn is not None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("insert into swarm.agent_tasks (prompt) select %s from generate_series(1, %s)", (TRUE, tasks))
        args.append(dsn)
    return float(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def pickup(server: PgServer, samples: int, workdir: Path) -> tuple[list[float], list[float]]:
    """Milliseconds from the enqueue commit to the claim, and to the agent process running.

    The agent is `date +%s%N`, which the shell profile executes directly (no `sh` in between):
    its first output is the moment it runs, read back from the task's output_tail.
    """
    dsn = fresh_database(server, "bench_pickup")
    to_claim, to_start = [], []
    with psycopg.connect(dsn, autocommit=True) as conn:
        worker = Worker(dsn, 4, workdir)
        try:
            worker.wait_registered(conn)
            for i in range(samples):
                time.sleep(0.02 + (i % 7) * 0.005)  # the worker is idle, waiting on LISTEN
                task_id = conn.execute("insert into swarm.agent_tasks (prompt) values ('date +%s%N') returning id"
                                       ).fetchone()[0]
                committed = time.time()  # the commit has returned
                while (row := conn.execute("select status, started_at, output_tail from swarm.agent_tasks "
                                           "where id = %s", (task_id,)).fetchone())[0] != "completed":
                    if row[0] == "failed":
                        sys.exit(f"bench/worker.py: pickup task {task_id} failed; see {worker.log.name}")
                    time.sleep(0.005)
                to_claim.append((row[1].timestamp() - committed) * 1000)
                to_start.append((int(row[2].split()[0]) / 1e9 - committed) * 1000)
        finally:
            worker.stop()
    return to_claim, to_start


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def print_alongside(rates: dict[str, list[float]]) -> None:
    """Where the worker stands between the floor and what any Python worker on this engine reaches."""
    floor = statistics.median(rates["floor"])
    print(f"\nAt concurrency {BOUNDS_CONCURRENCY}, in the same runs (bench/minimal_worker.py; medians):\n")
    print("| what starts /bin/true | tasks/s | of the spawn floor |")
    print("|---|---|---|")
    for label, key in (("spawn floor: threads calling subprocess.Popen", "floor"),
                       ("an asyncio loop with posix_spawn, no database", "no-database"),
                       ("the least worker on the engine: claim_task + complete_tasks, nothing else", "engine"),
                       ("pgswarm worker", "pgswarm worker")):
        rate = statistics.median(rates[key])
        print(f"| {label} | {rate:,.0f} | {rate / floor:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3000, help="tasks per throughput run")
    parser.add_argument("--runs", type=int, default=3, help="repeats; medians are printed")
    parser.add_argument("--samples", type=int, default=300, help="pickup latency samples")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    options = parser.parse_args()

    bindir = PG15_BIN if (PG15_BIN / "postgres").exists() else None
    server = start_server(bindir=bindir, prefix="pgswarm-bench-worker-")
    workdir = Path(tempfile.mkdtemp(prefix="pgswarm-bench-worker-"))
    os.chmod(workdir, 0o755)
    try:
        print(f"PostgreSQL {server.version()}, {options.tasks} tasks per run, median of {options.runs} runs, "
              f"{os.cpu_count()} CPUs\n")
        print("| concurrency | spawn floor /s | worker tasks/s | ratio | worker RSS MB "
              "| CPU ms/task: worker | agents | PostgreSQL | tasks per claim / completion call |")
        print("|---|---|---|---|---|---|---|---|---|")
        alongside: dict[str, list[float]] = {"floor": [], "no-database": [], "engine": [], "pgswarm worker": []}
        for concurrency in options.concurrency:
            floors, rates, rss, cpu, batching = [], [], [], [], []
            for _ in range(options.runs):
                floors.append(spawn_floor(options.tasks, concurrency))
                if concurrency == BOUNDS_CONCURRENCY:
                    alongside["floor"].append(floors[-1])
                    alongside["no-database"].append(minimal_worker("no-database", options.tasks, concurrency))
                    alongside["engine"].append(minimal_worker(
                        "engine", options.tasks, concurrency, fresh_database(server, "bench_minimal")))
                rate, peak, per_task, per_call = throughput(server, concurrency, options.tasks, workdir)
                if concurrency == BOUNDS_CONCURRENCY:
                    alongside["pgswarm worker"].append(rate)
                rates.append(rate)
                rss.append(peak / 1024)
                cpu.append(per_task)
                batching.append(per_call)
            floor, rate = statistics.median(floors), statistics.median(rates)
            worker_ms, agents_ms, server_ms = (statistics.median(c[i] for c in cpu) for i in range(3))
            print(f"| {concurrency} | {floor:,.0f} | {rate:,.0f} | {rate / floor:.2f}x | {max(rss):.1f} "
                  f"| {worker_ms:.2f} | {agents_ms:.2f} | {server_ms:.2f} "
                  f"| {statistics.median(b[0] for b in batching):.1f} / {statistics.median(b[1] for b in batching):.1f} |",
                  flush=True)
        if alongside["floor"]:
            print_alongside(alongside)
        to_claim, to_start = pickup(server, options.samples, workdir)
        print(f"\nPickup of an idle worker ({options.samples} tasks enqueued one at a time), ms from the commit:\n")
        print("| to | p50 | p95 | p99 |")
        print("|---|---|---|---|")
        for label, values in (("claim", to_claim), ("process running", to_start)):
            print(f"| {label} | {percentile(values, 50):.2f} | {percentile(values, 95):.2f} | "
                  f"{percentile(values, 99):.2f} |")
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
