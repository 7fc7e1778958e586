"""What a "task finished" signal for Client.wait costs the reports: batch completions/s with no
such trigger, with a trigger function that looks each finished task up in a table of watches (the
design not taken), and with the shipped one (a WHEN on agent_tasks.watched: an unwatched task never
calls a function). One session, one throwaway server, variants interleaved; best and median of
--rounds each.

    python bench/finish_notify.py                # about two minutes
    python bench/finish_notify.py --tasks 5000 --rounds 3

Prints a table; this is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import interleaved, migrated_server, print_rates  # noqa: E402

SHIPPED = "_910_agent_tasks_notify_finished"
LOOKUP = """
create table if not exists public.bench_watches (task_id bigint primary key);
create or replace function bench_notify_by_lookup() returns trigger language plpgsql as $$
begin
  if exists (select 1 from public.bench_watches as w where w.task_id = new.id) then
    perform pg_notify('swarm_finished', new.id::text);
  end if;
  return null;
end $$;
create trigger bench_lookup after update of status on swarm.agent_tasks for each row
  when (old.status is distinct from new.status and new.status in ('completed', 'failed', 'cancelled'))
  execute function bench_notify_by_lookup();
"""


def drain(conn: psycopg.Connection, tasks: int, batch: int) -> float:
    """Seconds to complete `tasks` claimed tasks in batches of `batch` (complete_tasks)."""
    conn.execute("truncate swarm.agent_tasks, swarm.task_events")
    conn.execute("insert into swarm.agent_tasks (prompt) select 'x' from generate_series(1, %s)", (tasks,))
    conn.execute("analyze swarm.agent_tasks")
    claims = []
    while rows := conn.execute("select id, attempts, lease_token from swarm.claim_task('w', max_tasks => %s)",
                               (batch,)).fetchall():
        claims.append(rows)
    started = time.perf_counter()
    for rows in claims:
        conn.execute("select count(*) from swarm.complete_tasks('w', %s, %s, null, %s::uuid[])",
                     ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=8)
    options = parser.parse_args()
    with migrated_server() as conn:
        shipped = conn.execute("select pg_get_triggerdef(oid) from pg_trigger where tgname = %s",
                               (SHIPPED,)).fetchone()[0]
        variants = {
            "no finish trigger": ["drop trigger if exists bench_lookup on swarm.agent_tasks",
                                  f"drop trigger if exists {SHIPPED} on swarm.agent_tasks"],
            "lookup in a table of watches": [f"drop trigger if exists {SHIPPED} on swarm.agent_tasks", LOOKUP],
            "WHEN new.watched (shipped)": ["drop trigger if exists bench_lookup on swarm.agent_tasks", shipped],
        }

        def run(setup: list[str]) -> float:
            for statement in setup:
                conn.execute(statement)
            return drain(conn, options.tasks, options.batch)

        seconds = interleaved(options.rounds, {name: functools.partial(run, setup) for name, setup in variants.items()})
        print(f"{options.tasks} tasks completed in batches of {options.batch}, {options.rounds} rounds")
        print_rates(options.tasks, seconds)


if __name__ == "__main__":
    main()
