"""Live output benchmark: how long after an agent prints a line another client shows it.

    python bench/live_output.py                      # 4 tasks at once, 60 lines each, 2 rounds
    python bench/live_output.py --tasks 8 --lines 100

A real PostgreSQL, a real `pgswarm worker` (--allow-shell) and, per task, a real `pgswarm logs -f
ID --raw` in a process of its own (another HOME, the DSN only: what a second machine does). Each
task is an agent printing `MARK <n> <time.time()>` lines at random intervals (50-400 ms). The
follower stamps each MARK line when it reads it; latency = read time - printed time (one machine,
one clock). The path measured: pipe -> worker's stream -> ship_output every 250 ms -> NOTIFY
swarm_output -> follower's LISTEN -> SELECT of the new chunks -> stdout.
Prints p50/p95/max in ms and the goal (p95 <= 1000 ms); --save writes bench/results/live_output.txt.
This is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pgswarm.client.migrate import migrate  # noqa: E402
from tests.helpers.processes import stop_process  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

AGENT = """
import random, sys, time
for n in range({lines}):
    print("MARK", n, repr(time.time()), flush=True)
    time.sleep(random.uniform(0.05, 0.4))
"""


def follow(dsn: str, task_id: int, home: Path, latencies: list[float], lock: threading.Lock) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PGSWARM_DSN", "DATABASE_URL", "PGSWARM_HOME")}
    env.update({"HOME": str(home), "PGSWARM_DSN": dsn})
    process = subprocess.Popen([sys.executable, "-m", "pgswarm.cli.main", "logs", "-f", str(task_id), "--raw"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                               env=env, cwd=home, text=True, bufsize=1)
    assert process.stdout is not None
    for line in process.stdout:
        seen = time.time()
        parts = line.split()
        if len(parts) == 3 and parts[0] == "MARK":
            with lock:
                latencies.append((seen - float(parts[2])) * 1000)
    process.wait()


def run_round(dsn: str, tasks: int, lines: int, home: Path) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    prompt = f"{shlex.quote(sys.executable)} -u -c {shlex.quote(AGENT.format(lines=lines))}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        # The agent is paused until every follower listens: lines printed before a follower
        # started would measure how long `pgswarm logs` takes to start, not the live path.
        conn.execute("select swarm.pause_agent('shell', now() + interval '1 hour', 'bench: followers starting')")
        ids = [conn.execute("insert into swarm.agent_tasks (agent, prompt) values ('shell', %s) returning id",
                            (prompt,)).fetchone()[0] for _ in range(tasks)]
        threads = [threading.Thread(target=follow, args=(dsn, task_id, home, latencies, lock), daemon=True)
                   for task_id in ids]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while conn.execute("select count(*) from pg_stat_activity where pid <> pg_backend_pid() "
                           "and (query ilike 'listen swarm_output%%' or query ilike '%%from swarm.task_output%%')"
                           ).fetchone()[0] < tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        conn.execute("select swarm.resume_agent('shell')")
    for thread in threads:
        thread.join(600)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=4)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--save", action="store_true", help="write bench/results/live_output.txt")
    args = parser.parse_args()
    server = start_server(prefix="pgswarm-bench-live-")
    workdir = Path(tempfile.mkdtemp(prefix="pgswarm-bench-live-"))
    worker = None
    try:
        dsn = server.dsn()
        migrate(dsn)
        env = {k: v for k, v in os.environ.items() if k not in ("PGSWARM_DSN", "DATABASE_URL")}
        worker = subprocess.Popen([sys.executable, "-m", "pgswarm.cli.main", "worker", "--dsn", dsn, "--name", "bench",
                                   "--allow-shell", "--concurrency", str(args.tasks), "--log-dir",
                                   str(workdir / "logs")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=env, start_new_session=True)
        home = workdir / "another-machine"
        home.mkdir()
        samples: list[float] = []
        for _ in range(args.rounds):
            samples += run_round(dsn, args.tasks, args.lines, home)
        samples.sort()
        expected = args.tasks * args.lines * args.rounds
        p50 = statistics.median(samples)
        p95 = samples[int(0.95 * (len(samples) - 1))]
        lines = [
            f"live output: {len(samples)}/{expected} lines seen by another client "
            f"({args.tasks} tasks at once, {args.lines} lines each, {args.rounds} rounds)",
            f"latency printed -> shown: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {samples[-1]:.0f} ms "
            f"(goal p95 <= 1000 ms: {'met' if p95 <= 1000 else 'NOT met'})",
            f"machine: {platform.platform()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
            f"command: python bench/live_output.py --tasks {args.tasks} --lines {args.lines} --rounds {args.rounds}",
        ]
        print("\n".join(lines))
        if args.save:
            out = REPO / "bench" / "results" / "live_output.txt"
            out.write_text("\n".join(lines) + "\n")
            print(f"saved {out.relative_to(REPO)}")
    finally:
        stop_process(worker)
        server.stop()


if __name__ == "__main__":
    main()
