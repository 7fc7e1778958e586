"""The engine at other revisions beside the working tree's, on one PostgreSQL 15 server started for
the run (fsync and synchronous_commit on): each drains the same tasks the way bench/peers_pgswarm.py's
engine consumer does (connections claiming `max_tasks => batch` with `durable => false` and
reporting each batch with one `swarm.complete_tasks`), in interleaved rounds, so that what a
change wins or costs is measured against its base on the same machine at the same time.

    python bench/engine_ab.py --base a7d2a37 --base 859214b    # 5 rounds of 20,000 tasks, 2 consumers

Each revision's schema is installed into a database of its own from that revision's migrations/
and sql/ files (`git show`), applied in order in one transaction as `pgswarm migrate` applies
them; the working tree's through `pgswarm migrate` itself. A revision whose reports carry no
lease token (before migration 0013) is driven without one. Printed per variant: tasks/s of the
drain (median and best round), the median time of one claim call and one completion call as the
consumers saw it, and the median drain against the first variant's.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # tests.pgserver; pgswarm comes from the installed package

from pgswarm.client.migrate import migrate  # noqa: E402
from tests.pgserver import start_server  # noqa: E402

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
WORKING_TREE = "working tree"


@dataclass
class Variant:
    name: str
    dsn: str
    lease_tokens: bool
    drains: list[float] = field(default_factory=list)  # seconds per round
    claim_calls: list[float] = field(default_factory=list)
    complete_calls: list[float] = field(default_factory=list)


def schema_at(revision: str) -> str:
    """The SQL `pgswarm migrate` applies for a fresh database at `revision`: its migrations, then sql/."""
    listing = subprocess.run(["git", "-C", str(REPO), "ls-tree", "--name-only", revision, "migrations/", "sql/"],
                             capture_output=True, text=True, check=True).stdout.split()
    files = sorted(p for p in listing if p.startswith("migrations/") and p.endswith(".sql"))
    files += sorted(p for p in listing if p.startswith("sql/") and p.endswith(".sql"))
    return "\n".join(subprocess.run(["git", "-C", str(REPO), "show", f"{revision}:{path}"], capture_output=True,
                                    text=True, check=True).stdout for path in files)


def install(admin_dsn: str, server_dsn: str, name: str, revision: str | None) -> Variant:
    database = "ab_" + (revision or "tree").replace("-", "_")
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'create database "{database}"')
    dsn = server_dsn.rsplit("/", 1)[0] + "/" + database
    if revision is None:
        migrate(dsn)
    else:
        with psycopg.connect(dsn) as conn:
            conn.execute(schema_at(revision))
    with psycopg.connect(dsn, autocommit=True) as conn:
        tokens = conn.execute("select exists (select 1 from pg_proc where proname = 'complete_tasks' "
                              "and pronamespace = 'swarm'::regnamespace and pronargs = 5)").fetchone()[0]
    return Variant(name, dsn, tokens)


async def drain_once(variant: Variant, tasks: int, consumers: int, batch: int) -> None:
    admin = await asyncpg.connect(variant.dsn)
    try:
        await admin.execute("delete from swarm.agent_tasks")
        await admin.execute("truncate swarm.task_events")
        if await admin.fetchval("select to_regclass('swarm.task_attempts') is not null"):
            await admin.execute("truncate swarm.task_attempts")
        await admin.execute("vacuum analyze swarm.agent_tasks")
        for start in range(0, tasks, 1000):
            await admin.execute("insert into swarm.agent_tasks (prompt) select g::text from generate_series(1, $1) g",
                                min(1000, tasks - start))
        await admin.execute("checkpoint")
    finally:
        await admin.close()
    token_column = ", lease_token" if variant.lease_tokens else ""
    claim = f"select id, attempts{token_column} from swarm.claim_task($1, max_tasks => $2, durable => false)"
    complete = ("select count(*) from swarm.complete_tasks($1, $2, $3, null, $4::uuid[])" if variant.lease_tokens
                else "select count(*) from swarm.complete_tasks($1, $2, $3)")
    connections = [await asyncpg.connect(variant.dsn) for _ in range(consumers)]
    for conn in connections:  # as a consumer that has been running: functions compiled, plans cached
        await conn.fetch(claim.replace("durable => false", "queues => array['warm-up'], durable => false"),
                         "warm-up", batch)

    async def consume(index: int, conn: asyncpg.Connection) -> None:
        worker = f"ab-{index}"
        while True:
            started = time.perf_counter()
            rows = await conn.fetch(claim, worker, batch)
            claimed = time.perf_counter()
            if not rows:
                return
            reports = [worker, [r["id"] for r in rows], [r["attempts"] for r in rows]]
            if variant.lease_tokens:
                reports.append([r["lease_token"] for r in rows])
            await conn.fetchval(complete, *reports)
            variant.claim_calls.append(claimed - started)
            variant.complete_calls.append(time.perf_counter() - claimed)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(consume(i, conn) for i, conn in enumerate(connections)))
        variant.drains.append(time.perf_counter() - started)
    finally:
        for conn in connections:
            await conn.close()
    admin = await asyncpg.connect(variant.dsn)
    try:
        left = await admin.fetchval("select count(*) from swarm.agent_tasks where status <> 'completed'")
    finally:
        await admin.close()
    if left:
        raise RuntimeError(f"{variant.name}: {left} tasks not completed after the drain")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", action="append", default=[], help="a git revision to set beside the working tree")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--consumers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    server = start_server(PG15_BIN, prefix="pgswarm-bench-", fsync="on", synchronous_commit="on",
                          shared_buffers="512MB")
    try:
        admin = server.dsn()
        with psycopg.connect(admin) as conn:
            version = conn.execute("select version()").fetchone()[0].split(" on ")[0]
        variants = [install(admin, server.dsn(), WORKING_TREE, None)]
        for revision in args.base:
            short = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", revision],
                                   capture_output=True, text=True, check=True).stdout.strip()
            variants.append(install(admin, server.dsn(), short, short))
        for _ in range(args.rounds):
            for variant in variants:
                asyncio.run(drain_once(variant, args.tasks, args.consumers, args.batch))
    finally:
        server.destroy()
    print(f"{version}; {args.tasks:,} tasks drained by {args.consumers} consumers claiming {args.batch} at a time "
          f"(durable => false) and completing each batch in one call; {args.rounds} interleaved rounds")
    first = statistics.median(variants[0].drains)
    print(f"{'variant':<14} {'median/s':>10} {'best/s':>10} {'claim ms':>9} {'complete ms':>12} {'vs first':>9}")
    for v in variants:
        median = statistics.median(v.drains)
        print(f"{v.name:<14} {args.tasks / median:>10,.0f} {args.tasks / min(v.drains):>10,.0f} "
              f"{statistics.median(v.claim_calls) * 1000:>9.1f} {statistics.median(v.complete_calls) * 1000:>12.1f} "
              f"{first / median:>8.2f}x")


if __name__ == "__main__":
    main()
