"""What the benchmarks share: a throwaway migrated server, variants timed in interleaved rounds and
their best/median table. (Stopping a worker or web server a benchmark starts:
tests/helpers/processes.py.) Import it after putting the repository on sys.path, as the scripts do."""
from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from pgswarm.client.migrate import migrate
from tests.pgserver import start_server


@contextmanager
def migrated_server(bindir: Path | None = None, prefix: str = "pgswarm-bench-",
                    **settings: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a throwaway server (tests/pgserver.py's start_server: the
    binaries of `bindir`, those settings) with the schema migrated; destroyed after the block."""
    server = start_server(bindir, prefix=prefix, **settings)
    try:
        migrate(server.dsn())
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            yield conn
    finally:
        server.destroy()


def interleaved(rounds: int, variants: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """The seconds each variant took in every round; a round runs each variant once, so a drift of
    the machine falls on all of them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            seconds[name].append(run())
    return seconds


def print_rates(tasks: int, seconds: dict[str, list[float]]) -> None:
    """One row a variant: tasks per second in its best round and its median one."""
    width = max(len("variant"), *map(len, seconds)) + 2
    print(f"{'variant':<{width}} {'best/s':>10} {'median/s':>10}")
    for name, runs in seconds.items():
        print(f"{name:<{width}} {tasks / min(runs):>10,.0f} {tasks / statistics.median(runs):>10,.0f}")
