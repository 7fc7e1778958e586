"""Where an enqueue's time goes: each INSERT path timed with the whole insert machinery, then with
one part of it switched off at a time (a trigger disabled, or the table's secondary indexes
dropped), on a PostgreSQL 15 server started for the run (fsync and synchronous_commit on).

    python bench/enqueue_profile.py              # 3 rounds; single INSERTs, 1,000-row INSERTs, COPY
    python bench/enqueue_profile.py --rounds 5

Prints, per path, tasks/s with everything on (the shipped engine) and the share of the time each
part costs (1 - on/off). A measurement, not a configuration: the engine needs every part. The
machine is shared; medians of the rounds, compare within one run. First, where one statement's
time goes inside the server: EXPLAIN ANALYZE of a one-row and a 1,000-row INSERT, the insert
itself (with any BEFORE row trigger) and each AFTER trigger, medians of 30 and 8 statements.
"""
from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.append(str(REPO))  # tests.pgserver; pgswarm comes from the installed package

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
SINGLE = 2_000
BULK_ROWS = 1_000
BULK_STATEMENTS = 20


def parts(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    """(name, switch off, switch on) for each trigger of agent_tasks fired by an INSERT, and indexes."""
    triggers = [name for (name,) in conn.execute(
        "select tgname from pg_trigger where tgrelid = 'swarm.agent_tasks'::regclass and not tgisinternal "
        "and (tgtype & 4) <> 0 order by tgname")]  # TRIGGER_TYPE_INSERT
    out = [(t, f"alter table swarm.agent_tasks disable trigger {t}", f"alter table swarm.agent_tasks enable trigger {t}")
           for t in triggers]
    indexes = conn.execute(
        "select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index "
        "where indrelid = 'swarm.agent_tasks'::regclass and not indisprimary and not indisunique").fetchall()
    out.append(("secondary indexes (%d)" % len(indexes),
                "; ".join(f"drop index {name}" for name, _ in indexes),
                "; ".join(definition for _, definition in indexes)))
    return out


def single(conn: psycopg.Connection) -> float:
    started = time.perf_counter()
    for _ in range(SINGLE):
        conn.execute("insert into swarm.agent_tasks (agent, prompt) values ('shell', 'profile')")
    return SINGLE / (time.perf_counter() - started)


def bulk(conn: psycopg.Connection) -> float:
    values = ", ".join(["('shell', 'profile')"] * BULK_ROWS)
    started = time.perf_counter()
    for _ in range(BULK_STATEMENTS):
        conn.execute(f"insert into swarm.agent_tasks (agent, prompt) values {values}")
    return BULK_ROWS * BULK_STATEMENTS / (time.perf_counter() - started)


def copy(conn: psycopg.Connection) -> float:
    data = "shell\tprofile\n" * BULK_ROWS
    started = time.perf_counter()
    for _ in range(BULK_STATEMENTS):
        with conn.cursor().copy("copy swarm.agent_tasks (agent, prompt) from stdin") as sink:
            sink.write(io.StringIO(data).read())
    return BULK_ROWS * BULK_STATEMENTS / (time.perf_counter() - started)


def explain(conn: psycopg.Connection) -> None:
    """Median ms of the insert node and of each trigger, from EXPLAIN ANALYZE."""
    statements = {"one-row INSERT": ("insert into swarm.agent_tasks (prompt) values ('profile')", 30),
                  "1,000-row INSERT": ("insert into swarm.agent_tasks (prompt) "
                                       "select 'profile ' || n from generate_series(1, 1000) as n", 8)}
    timed = re.compile(r"^(Insert on agent_tasks|Trigger [^:]+|Execution Time).*?"
                       r"(?:actual time=[0-9.]+\.\.|time=|Time: )([0-9.]+)")
    for label, (sql, runs) in statements.items():
        clear(conn)
        times: dict[str, list[float]] = {}
        for _ in range(runs):
            for (line,) in conn.execute(f"explain (analyze) {sql}").fetchall():
                found = timed.match(line)
                if found:
                    times.setdefault(found.group(1), []).append(float(found.group(2)))
        print(f"  {label}, ms (median of {runs}): "
              + "; ".join(f"{name.replace('Trigger ', '')} {statistics.median(values):.3f}"
                          for name, values in times.items()), flush=True)


def clear(conn: psycopg.Connection) -> None:
    conn.execute("truncate swarm.agent_tasks, swarm.task_events")
    conn.execute("vacuum analyze swarm.agent_tasks")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pgbin", type=Path, default=PG15_BIN)
    args = ap.parse_args()
    from pgswarm.client.migrate import migrate
    from tests.pgserver import start_server

    server = start_server(args.pgbin, prefix="pgswarm-enqprof-", fsync="on", synchronous_commit="on",
                          full_page_writes="on")
    try:
        migrate(server.dsn())
        paths = {"single INSERT": single, "1,000-row INSERT": bulk, "COPY 1,000 rows": copy}
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            version = conn.execute("show server_version").fetchone()[0]
            print(f"PostgreSQL {version}; medians of {args.rounds} rounds; single: {SINGLE} INSERTs, one a "
                  f"transaction; bulk: {BULK_STATEMENTS} statements of {BULK_ROWS} rows", flush=True)
            print("where a statement's time goes (the insert node includes any BEFORE row trigger):")
            explain(conn)
            print()
            cases = [("everything on (shipped)", "", "")] + parts(conn)
            results: dict[str, dict[str, float]] = {}
            for name, off, on in cases:
                results[name] = {}
                if off:
                    conn.execute(off)
                try:
                    for label, run in paths.items():
                        rates = []
                        for _ in range(args.rounds):
                            clear(conn)
                            rates.append(run(conn))
                        results[name][label] = statistics.median(rates)
                finally:
                    if on:
                        conn.execute(on)
                print(f"  {name:<42} " + "  ".join(f"{label}: {rate:>9,.0f}/s" for label, rate in results[name].items()),
                      flush=True)
        base = results[cases[0][0]]
        print("\nshare of the time each part costs (1 - rate with everything / rate without it):")
        for name, _, _ in cases[1:]:
            print(f"  {name:<42} " + "  ".join(f"{label}: {1 - base[label] / rate:>6.1%}"
                                             for label, rate in results[name].items()))
    finally:
        server.destroy()


if __name__ == "__main__":
    main()
