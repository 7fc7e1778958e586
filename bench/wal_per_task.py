"""WAL and disk per task, for capacity plans (docs/scaling.md): a task's whole life through the
SQL API (single-row INSERT, claim, complete with a 2 KB output tail and a small result), on a
PostgreSQL 15 server started for the run (fsync, full_page_writes and synchronous_commit on).

    python bench/wal_per_task.py            # 20,000 tasks, one at a time, then in batches of 100
    python bench/wal_per_task.py --tasks 50000

Prints WAL bytes per task (pg_current_wal_lsn before and after; checkpoints are pushed out of
the run so full-page images count as they would in steady state about once per checkpoint),
and the on-disk bytes per task of agent_tasks and task_events (heap + indexes + TOAST) and of
the archive tables after swarm.archive_in_batches moved everything.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # bench, tests.pgserver; pgswarm comes from the installed package

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
# 2 KB of output tail that compresses about as well as a log does (hex: about 2:1), not "x" * 2048.
TAIL = os.urandom(1024).hex()
RESULT = json.dumps({"summary": "done", "files_changed": 3})
SIZES = """select pg_total_relation_size('swarm.agent_tasks') + pg_total_relation_size('swarm.task_events'),
                  pg_total_relation_size('swarm.agent_tasks_archive') + pg_total_relation_size('swarm.task_events_archive')"""


def life(conn: psycopg.Connection, tasks: int, batch: int) -> None:
    for start in range(0, tasks, batch):
        n = min(batch, tasks - start)
        if batch == 1:
            conn.execute("insert into swarm.agent_tasks (prompt) values ('write the release notes for 1.4')")
        else:
            conn.execute("insert into swarm.agent_tasks (prompt) select 'write the release notes for 1.4' "
                         "from generate_series(1, %s)", (n,))
        claimed = conn.execute("select id, attempts, lease_token from swarm.claim_task('w1', max_tasks => %s, "
                               "durable => false)", (n,)).fetchall()
        for task_id, attempt, token in claimed:
            conn.execute("select swarm.complete_task(%s, 'w1', %s, result => %s::jsonb, exit_code => 0, "
                         "output_tail => %s, lease_token => %s)", (task_id, attempt, RESULT, TAIL, token))


def measure(conn: psycopg.Connection, tasks: int, batch: int) -> str:
    conn.execute("truncate swarm.agent_tasks, swarm.task_events, swarm.agent_tasks_archive, swarm.task_events_archive")
    conn.execute("checkpoint")
    before = conn.execute("select pg_current_wal_lsn()").fetchone()[0]
    life(conn, tasks, batch)
    wal = conn.execute("select pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (before,)).fetchone()[0]
    conn.execute("vacuum analyze swarm.agent_tasks, swarm.task_events")
    live, _ = conn.execute(SIZES).fetchone()
    archive_before = conn.execute("select pg_current_wal_lsn()").fetchone()[0]
    started = time.perf_counter()
    conn.execute("call swarm.archive_in_batches('0 seconds', 1000, null)")
    archive_rate = tasks / (time.perf_counter() - started)
    archive_wal = conn.execute("select pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (archive_before,)).fetchone()[0]
    _, archived = conn.execute(SIZES).fetchone()
    return (f"{'one at a time' if batch == 1 else f'batches of {batch}':>14}: WAL {wal / tasks:,.0f} B/task "
            f"(archive move: {archive_wal / tasks:,.0f} B/task more, at {archive_rate:,.0f} tasks/s); on disk {live / tasks:,.0f} B/task live, "
            f"{archived / tasks:,.0f} B/task archived")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=20_000)
    ap.add_argument("--pgbin", type=Path, default=PG15_BIN)
    args = ap.parse_args()
    from bench._common import migrated_server

    with migrated_server(args.pgbin, prefix="pgswarm-wal-", fsync="on", synchronous_commit="on",
                         full_page_writes="on", max_wal_size="4GB", checkpoint_timeout="1h") as conn:
        version = conn.execute("show server_version").fetchone()[0]
        print(f"PostgreSQL {version}; {args.tasks} tasks: INSERT, claim, complete (2 KB output tail, a small "
              f"result), then archived", flush=True)
        for batch in (1, 100):
            print(measure(conn, args.tasks, batch), flush=True)


if __name__ == "__main__":
    main()
