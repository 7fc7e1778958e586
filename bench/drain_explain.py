"""Where a drain's time goes inside the server: the plan, with actual times, of one batch claim
(`swarm.claim_task(max_tasks => 1000, durable => false)`) and of its completion
(`swarm.complete_tasks` of the 1,000), as the engine consumer of bench/peers_pgswarm.py makes them,
on a PostgreSQL 15 server started for the run (fsync and synchronous_commit on) with 20,000
pending tasks. auto_explain logs every statement the two functions run; this prints the plans of
the statements that took more than a millisecond. Timing every plan node costs time itself:
compare the nodes with each other, not with the drain's rate.

    python bench/drain_explain.py
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # tests.pgserver; pgswarm comes from the installed package

from pgswarm.client.migrate import migrate  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
CLAIM = "select id, attempts, lease_token from swarm.claim_task('bench', max_tasks => 1000, durable => false)"
COMPLETE = "select count(*) from swarm.complete_tasks('bench', %s, %s, null, %s::uuid[])"
AUTO_EXPLAIN = {"log_min_duration": "0", "log_analyze": "on", "log_nested_statements": "on",
                "log_level": "warning", "log_timing": "on", "log_triggers": "on"}


def claim_and_complete(conn: psycopg.Connection) -> tuple[float, float]:
    started = time.perf_counter()
    rows = conn.execute(CLAIM).fetchall()
    claimed = time.perf_counter()
    conn.execute(COMPLETE, ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]))
    return (claimed - started) * 1000, (time.perf_counter() - claimed) * 1000


def slow_plans(log: str, over_ms: float = 1.0) -> list[str]:
    """The logged plans of statements over `over_ms`, without their query text and context."""
    plans = []
    for entry in re.split(r"\n(?=\S.*WARNING:  duration: )", log):
        found = re.search(r"duration: ([\d.]+) ms", entry)
        if not found or float(found.group(1)) < over_ms:
            continue
        lines = entry.splitlines()
        plan_start = next((i for i, line in enumerate(lines)
                           if re.match(r"\s+(Sort|Aggregate|Result|Function Scan|Nested Loop|Hash|Limit)\b", line)), None)
        body = []
        for line in lines[plan_start:] if plan_start is not None else []:
            if "CONTEXT:" in line:  # the statement's text follows: not part of the plan
                break
            body.append(line)
        plans.append(f"-- {found.group(1)} ms\n" + "\n".join(body))
    return plans


def main() -> None:
    server = start_server(PG15_BIN, fsync="on", synchronous_commit="on", shared_buffers="512MB")
    try:
        dsn = server.dsn()
        migrate(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            version = conn.execute("select version()").fetchone()[0].split(" on ")[0]
            conn.execute("insert into swarm.agent_tasks (prompt) select g::text from generate_series(1, 20000) as g")
            conn.execute("analyze")
            for _ in range(3):  # as a running consumer: functions compiled, plans cached
                claim_and_complete(conn)
            plain = claim_and_complete(conn)
            conn.execute("load 'auto_explain'")
            for name, value in AUTO_EXPLAIN.items():
                conn.execute(f"set auto_explain.{name} = '{value}'")
            log_start = server.logfile.stat().st_size
            explained = claim_and_complete(conn)
        with open(server.logfile) as log:
            log.seek(log_start)
            plans = slow_plans(log.read())
    finally:
        server.destroy()
    print(f"{version}; 20,000 pending tasks; one claim of 1,000 and its completion")
    print(f"without auto_explain: claim {plain[0]:.1f} ms, complete {plain[1]:.1f} ms; "
          f"with it: claim {explained[0]:.1f} ms, complete {explained[1]:.1f} ms\n")
    print("\n\n".join(plans))


if __name__ == "__main__":
    main()
