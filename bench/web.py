"""Web benchmark: the task list page and /api/v1/tasks with 1,000,000 tasks in history, and the
overview's database cost per refresh, against a real `pgswarm web` process.

    python bench/web.py                 # 1,000,000 tasks (about 3 minutes, most of it loading)
    python bench/web.py --tasks 100000  # a quicker look

History is bulk-loaded with session_replication_role = replica (no triggers): tasks over the
last 30 days, 97 % completed, 2 % failed, 1 % cancelled, 2,000 pending; agents claude 60 %,
codex 30 %, shell 9 %, gemini 1 %; one prompt in 10,000 holds the word 'needle'; one event per
finished task. Then VACUUM ANALYZE, as autovacuum would. Each request kind runs --requests
times, one at a time, over keep-alive HTTP; p50 and p95 in ms. The overview's cost: the time of
one refresh (the seven statements behind the page, on one connection) and the shared buffers it
touches (pg_stat_database's blks_hit + blks_read, per refresh, on a quiet server).
Prints a table. This is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pgswarm.client.migrate import migrate  # noqa: E402
from pgswarm.cli.web.pages import overview_data  # noqa: E402
from tests.helpers.processes import stop_process  # noqa: E402
from tests.pgserver import start_server  # noqa: E402
from tests.web.conftest import free_port, make_token  # noqa: E402

LOAD = """
with history as (
  insert into swarm.agent_tasks (prompt, agent, queue, status, attempts, worker, tags, parent_id, created_at,
                                 run_after, started_at, finished_at, updated_at, exit_code, cost_usd, error)
  select format('task %%s: %%s', g, case when g %% 10000 = 0 then 'find the needle in the cache layer'
                                       else 'refactor the session cache and keep the public API stable' end),
         case when g %% 100 = 0 then 'gemini' when g %% 100 < 10 then 'shell' when g %% 100 < 40 then 'codex'
              else 'claude' end,
         case when g %% 7 = 0 then 'nightly' else 'default' end,
         case when g %% 100 = 1 then 'cancelled' when g %% 50 = 2 then 'failed' else 'completed' end,
         1, 'bench-w1', array['bench', 'batch-' || (g %% 100)], case when g %% 1000 = 5 then g - 1 end,
         t.created, t.created, t.created + interval '20 seconds', t.created + interval '80 seconds',
         t.created + interval '80 seconds', 0, 0.01, case when g %% 50 = 2 then 'exited 1: tests failed' end
    from generate_series(1, %(n)s) as g,
         lateral (select now() - interval '30 days' * (1 - g::float8 / %(n)s) - interval '2 minutes' as created) as t
  returning id, status, finished_at)
insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
select id, finished_at, case status when 'completed' then 'completed' when 'failed' then 'failed' else 'cancelled' end,
       'bench-w1', 1, '{"run_seconds": 60}' from history
"""


def load(dsn: str, tasks: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")
        conn.execute(LOAD, {"n": tasks})
        conn.execute("set session_replication_role = default")
        conn.execute("insert into swarm.agent_tasks (prompt, agent) select 'pending ' || g, 'claude' "
                     "from generate_series(1, 2000) as g")
        conn.execute("vacuum analyze swarm.agent_tasks")
        conn.execute("vacuum analyze swarm.task_events")
        conn.execute("checkpoint")
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()

    server = start_server()
    web: subprocess.Popen[bytes] | None = None
    try:
        dsn = server.dsn()
        migrate(dsn)
        seconds = load(dsn, args.tasks)
        with psycopg.connect(dsn) as conn:
            version = conn.execute("show server_version").fetchone()[0]
        print(f"loaded {args.tasks:,} tasks in {seconds:.0f} s; PostgreSQL {version}")
        token = make_token(dsn, "read", "bench")
        port = free_port()
        web = subprocess.Popen([sys.executable, "-m", "pgswarm.cli.main", "web", "--port", str(port)],
                               env={**os.environ, "PGSWARM_DSN": dsn}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=REPO)
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            deep = client.get("/api/v1/tasks", params={"limit": 1}).json()["tasks"][0]["id"] // 2
            kinds = [
                ("newest 50", ""),
                ("page at the middle", f"before={deep}"),
                ("status=failed", "status=failed"),
                ("agent=gemini (1 %)", "agent=gemini"),
                ("tag=batch-7", "tag=batch-7"),
                ("q=needle (1 in 10,000)", "q=needle"),
                ("parent=1,004", "parent=1004"),
                ("failed, claude, last 7 days", "status=failed&agent=claude&from=7d"),
            ]
            rows = []
            for label, query in kinds:
                for prefix in ("/tasks", "/api/v1/tasks"):
                    client.get(f"{prefix}?{query}").raise_for_status()  # warm
                    samples = []
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        response = client.get(f"{prefix}?{query}")
                        samples.append((time.perf_counter() - t0) * 1000)
                        response.raise_for_status()
                    p50, p95 = percentiles(samples)
                    rows.append((label, prefix, p50, p95))
        print(f"\n{'request':<30} {'route':<15} {'p50 ms':>8} {'p95 ms':>8}")
        for label, prefix, p50, p95 in rows:
            print(f"{label:<30} {prefix:<15} {p50:8.1f} {p95:8.1f}")

        with psycopg.connect(dsn, autocommit=True) as conn:
            overview_data(conn)  # warm
            db = conn.execute("select current_database()").fetchone()[0]
            blocks = "select blks_hit + blks_read from pg_stat_database where datname = %s"
            conn.execute("select pg_stat_clear_snapshot()")
            before = conn.execute(blocks, (db,)).fetchone()[0]
            samples = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                overview_data(conn)
                samples.append((time.perf_counter() - t0) * 1000)
            time.sleep(1.0)  # statistics are flushed by the backends about once a second
            conn.execute("select pg_stat_clear_snapshot()")
            after = conn.execute(blocks, (db,)).fetchone()[0]
        p50, p95 = percentiles(samples)
        print(f"\noverview refresh (7 statements): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
              f"{(after - before) / args.requests:,.0f} shared buffers per refresh "
              f"({args.tasks:,} tasks in history, ~{args.tasks // 30:,} finished in the last 24 h)")
    finally:
        stop_process(web)
        server.destroy()


if __name__ == "__main__":
    main()
