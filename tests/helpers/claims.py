"""Many real connections at once, released together by a barrier (the concurrency tests' harness)."""
from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

CLAIMERS = 16


def run_claimers(dsn: str, body: Callable[[psycopg.Connection, int], None], n: int = CLAIMERS) -> None:
    """Run body(connection, i) for i in 0..n-1 in n threads, each on its own connection, all starting
    together; re-raise what any of them raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, application_name=f"claimer-{i}") as c:
                barrier.wait()
                body(c, i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
