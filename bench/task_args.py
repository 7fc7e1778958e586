"""What checking task args at INSERT costs (sql/14_task_args.sql): rows/s of one multi-row INSERT
with args '{}' (only the prompt size is checked), with three declared args, with the same args
for an agent without a declaration (any key: only the shared ones are looked up), and with a
widening path argument. One throwaway server, variants interleaved; best and median of --rounds.

    python bench/task_args.py                 # about a minute
    python bench/task_args.py --tasks 5000 --rounds 3

Prints a table; this is a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import interleaved, migrated_server, print_rates  # noqa: E402

VARIANTS = {
    "args '{}'": ("claude", {}),
    "3 declared args": ("claude", {"model": "sonnet", "max_turns": 20, "permission_mode": "acceptEdits"}),
    "3 args, undeclared agent": ("benchtool", {"model": "sonnet", "max_turns": 20, "mode": "fast"}),
    "a path outside (widening)": ("claude", {"add_dirs": ["/srv/shared"], "model": "sonnet"}),
}


def insert(conn: psycopg.Connection, tasks: int, agent: str, args: dict) -> float:
    """Seconds to insert `tasks` rows in one statement."""
    conn.execute("truncate swarm.agent_tasks, swarm.task_events")
    started = time.perf_counter()
    conn.execute("insert into swarm.agent_tasks (agent, prompt, args) "
                 "select %s, 'fix the flaky test ' || n, %s::jsonb from generate_series(1, %s) as n",
                 (agent, json.dumps(args), tasks))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with migrated_server() as conn:
        conn.execute("insert into swarm.agents (name) values ('benchtool')")
        seconds = interleaved(options.rounds, {name: functools.partial(insert, conn, options.tasks, agent, args)
                                               for name, (agent, args) in VARIANTS.items()})
        print(f"{options.tasks} tasks inserted in one statement, {options.rounds} rounds")
        print_rates(options.tasks, seconds)


if __name__ == "__main__":
    main()
