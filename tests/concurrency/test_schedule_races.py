"""Eight sessions calling swarm.fire_schedules() in a loop, as every worker does: each slot is
enqueued exactly once."""
from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import pytest

from tests.helpers.workers import wait_for

SESSIONS = 8


class Firing:
    """SESSIONS connections calling fire_schedules() in a loop at the clock the test sets."""

    def __init__(self, dsn: str, clock: str) -> None:
        self.dsn = dsn
        self.clock = clock
        self.calls = 0
        self.fired = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        barrier = threading.Barrier(SESSIONS)
        self.threads = [threading.Thread(target=self._loop, args=(barrier,)) for _ in range(SESSIONS)]

    def _loop(self, barrier: threading.Barrier) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                barrier.wait()
                while not self.stop.is_set():
                    conn.execute("select set_config('swarm.now', %s, false)", (self.clock,))
                    fired = conn.execute("select swarm.fire_schedules()").fetchone()[0]
                    with self.lock:
                        self.calls += 1
                        self.fired += fired
        except BaseException as exc:  # surfaced by the test
            self.errors.append(exc)

    def __enter__(self) -> Firing:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        assert not self.errors, self.errors

    def calls_after(self, condition: Callable[[], bool], more: int) -> None:
        """Wait for the condition, then for `more` further calls (so late duplicates would show)."""
        wait_for(condition, 60, "the slot to be enqueued")
        seen = self.calls
        wait_for(lambda: self.calls >= seen + more, 60, f"{more} more calls")


def tasks(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute("select key, metadata->>'slot' from swarm.agent_tasks order by id").fetchall()


@pytest.mark.parametrize("catch_up", ["latest", "all", "none"])
def test_eight_sessions_in_a_loop_across_three_slots_enqueue_exactly_three_tasks(conn, dsn: str, catch_up: str) -> None:
    conn.execute("update swarm.settings set test_clock = true")
    conn.execute("set swarm.now = '2030-01-01 00:00:00+00'")
    conn.execute("insert into swarm.schedules (name, cron, prompt, catch_up) values ('tick', '* * * * *', 'x', %s)",
                 (catch_up,))
    with Firing(dsn, "2030-01-01 00:00:30+00") as firing:
        for n, clock in enumerate(["2030-01-01 00:01:00.5+00", "2030-01-01 00:02:00.5+00", "2030-01-01 00:03:00.5+00"],
                                  start=1):
            firing.clock = clock
            firing.calls_after(lambda: len(tasks(conn)) >= n, more=4 * SESSIONS)
    assert [slot for _, slot in tasks(conn)] == ["2030-01-01T00:01:00Z", "2030-01-01T00:02:00Z", "2030-01-01T00:03:00Z"]
    assert firing.fired == 3 and firing.calls > 12 * SESSIONS


def test_eight_sessions_catching_up_three_missed_slots_at_once_enqueue_each_once(conn, dsn: str) -> None:
    conn.execute("update swarm.settings set test_clock = true")
    conn.execute("set swarm.now = '2030-01-01 00:00:00+00'")
    conn.execute("insert into swarm.schedules (name, cron, prompt, catch_up) "
                 "select 'tick-' || g, '* * * * *', 'x', 'all' from generate_series(1, 20) as g")
    with Firing(dsn, "2030-01-01 00:03:30+00") as firing:
        firing.calls_after(lambda: len(tasks(conn)) >= 60, more=4 * SESSIONS)
    keys = [key for key, _ in tasks(conn)]
    assert len(keys) == len(set(keys)) == 60 == firing.fired
