"""Worker benchmark: one `pgswarm worker` supervising many concurrent agents that stream output.

200 fake claude agents (bench/streaming_agent.py) at once, each printing ~20 stream-json lines a
second for 60 s: the worker's CPU share (of one core) over the run, its peak RSS, and the bytes
the agents printed against the bytes in the attempts' logs (every byte must be logged).

    python bench/worker_streams.py                          # 200 agents x 60 s x 20 lines/s
    python bench/worker_streams.py --agents 50 --seconds 20 # a quick look

Goal (issue 15): <= 10 % of a core, <= 150 MB, every byte logged. This is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.worker import PG15_BIN, cpu_seconds, fresh_database  # noqa: E402
from tests.helpers.processes import stop_process  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

AGENT = REPO / "bench" / "streaming_agent.py"


def peak_rss_sampler(pid: int, peak: list[int], running: threading.Event, mid_at: float) -> None:
    """peak[0]: the peak RSS in KiB; peak[1]: the RSS at mid_at (monotonic), while every agent streams."""
    while running.is_set():
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
                    if not peak[1] and time.monotonic() >= mid_at:
                        peak[1] = int(line.split()[1])
        except OSError:
            return
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20, help="lines per second per agent")
    options = parser.parse_args()

    bindir = PG15_BIN if (PG15_BIN / "postgres").exists() else None
    server = start_server(bindir=bindir, prefix="pgswarm-bench-streams-")
    workdir = Path(tempfile.mkdtemp(prefix="pgswarm-bench-streams-"))
    counts = workdir / "counts"
    counts.mkdir()
    logs = workdir / "logs"
    config = workdir / "worker.toml"
    config.write_text(f'[profiles.claude]\ncommand = ["{sys.executable}", "{AGENT}"]\n'
                      f'env = {{ BENCH_COUNTS = "{counts}" }}\n')
    worker = None
    try:
        dsn = fresh_database(server, "bench_streams")
        log = open(workdir / "worker.log", "wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "pgswarm.cli.main", "worker", "--dsn", dsn, "--agents", "claude",
             "--concurrency", str(options.agents), "--config", str(config), "--name", "bench-streams",
             "--log-dir", str(logs)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PGSWARM_LOG_LEVEL": "WARNING"})
        with psycopg.connect(dsn, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while not conn.execute("select 1 from swarm.workers where pid = %s", (worker.pid,)).fetchone():
                if time.monotonic() > deadline or worker.poll() is not None:
                    sys.exit(f"the worker did not start; see {workdir / 'worker.log'}")
                time.sleep(0.1)
            lines = int(options.seconds * options.rate)
            peak = [0, 0]
            running = threading.Event()
            running.set()
            threading.Thread(target=peak_rss_sampler, args=(worker.pid, peak, running,
                                                            time.monotonic() + options.seconds / 2 + 5),
                             daemon=True).start()
            cpu_before = cpu_seconds(worker.pid)
            started = time.monotonic()
            with conn.transaction():
                for n in range(options.agents):
                    conn.execute("insert into swarm.agent_tasks (agent, prompt, timeout_seconds) values "
                                 "('claude', %s, %s)", (f"bench {n} lines:{lines} rate:{options.rate}",
                                                        int(options.seconds * 4 + 120)))
            while True:
                done, failed = conn.execute(
                    "select count(*) filter (where status = 'completed'), count(*) filter (where status = 'failed') "
                    "from swarm.agent_tasks").fetchone()
                if done + failed >= options.agents:
                    break
                if worker.poll() is not None:
                    sys.exit(f"the worker exited; see {workdir / 'worker.log'}")
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            cpu = cpu_seconds(worker.pid) - cpu_before
            running.clear()
        printed = sum(int(p.read_text()) for p in counts.glob("*.bytes"))
        logged = sum(p.stat().st_size for p in logs.glob("task-*-attempt-*.log"))
        print(f"PostgreSQL {server.version()}, {os.cpu_count()} CPUs; {options.agents} agents x "
              f"{lines} lines ({options.rate:g}/s for {options.seconds:g} s)\n")
        print("| agents | completed / failed | wall s | worker CPU s | CPU share of a core | RSS MB mid-run "
              "| peak RSS MB | bytes printed | bytes logged | every byte logged |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(f"| {options.agents} | {done} / {failed} | {elapsed:.1f} | {cpu:.1f} | {cpu / elapsed:.1%} "
              f"| {peak[1] / 1024:.1f} | {peak[0] / 1024:.1f} | {printed:,} | {logged:,} "
              f"| {'yes' if printed == logged else 'NO'} |")
    finally:
        stop_process(worker, grace=60)
        server.stop()


if __name__ == "__main__":
    main()
