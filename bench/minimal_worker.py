"""The least a Python worker can do, for bench/worker.py to measure beside the real one.

    python bench/minimal_worker.py no-database TASKS CONCURRENCY
    python bench/minimal_worker.py engine TASKS CONCURRENCY DSN

no-database: an asyncio loop keeping CONCURRENCY /bin/true processes running (posix_spawn, exit
seen through a pidfd), TASKS in all: what asyncio itself allows next to the spawn floor.
engine: the same loop fed by the engine as a worker must be (claims of as many tasks as slots
are free through swarm.claim_task with durable => false, completions in batches through
swarm.complete_tasks, one asyncpg connection), with nothing else: no log file, no heartbeat, no
metrics, no timeout, no output kept. The TASKS pending tasks must already be enqueued.
Prints tasks/s. Not a worker to use: it exists to show how much of the distance between the real
worker and the spawn floor any worker on this engine and this machine would keep.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from typing import Any

TRUE = "/bin/true"
WORKER = "bench-minimal"


class Spawner:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.devnull = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        self.env = {"PATH": os.defpath}

    def start(self, on_exit: Callable[[], None]) -> None:
        """Start /bin/true; on_exit() once it has exited and been reaped."""
        pid = os.posix_spawn(TRUE, [TRUE], self.env, setsid=True,
                             file_actions=[(os.POSIX_SPAWN_DUP2, self.devnull, fd) for fd in (0, 1, 2)])
        pidfd = os.pidfd_open(pid)

        def exited() -> None:
            self.loop.remove_reader(pidfd)
            os.close(pidfd)
            os.waitpid(pid, 0)
            on_exit()

        self.loop.add_reader(pidfd, exited)


async def no_database(tasks: int, concurrency: int) -> float:
    spawner = Spawner()
    finished = spawner.loop.create_future()
    counts = {"started": 0, "exited": 0}

    def next_one() -> None:
        if counts["started"] < tasks:
            counts["started"] += 1
            spawner.start(on_exit)

    def on_exit() -> None:
        counts["exited"] += 1
        if counts["exited"] == tasks:
            finished.set_result(None)
        next_one()

    started = time.perf_counter()
    for _ in range(concurrency):
        next_one()
    await finished
    return tasks / (time.perf_counter() - started)


async def engine(tasks: int, concurrency: int, dsn: str) -> float:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    spawner = Spawner()
    lock = asyncio.Lock()  # one query at a time on the connection
    slot_freed = asyncio.Event()
    finished = spawner.loop.create_future()
    reports: list[tuple[int, int, Any]] = []
    state = {"free": concurrency, "completed": 0, "flushing": False}

    async def flush() -> None:
        state["flushing"] = True
        while reports:
            batch = reports[:]
            reports.clear()
            async with lock:
                await conn.execute("select swarm.complete_tasks($1, $2::bigint[], $3::int[], null, $4::uuid[])",
                                   WORKER, [task_id for task_id, _, _ in batch], [attempt for _, attempt, _ in batch],
                                   [token for _, _, token in batch])
            state["completed"] += len(batch)
        state["flushing"] = False
        if state["completed"] >= tasks and not finished.done():
            finished.set_result(None)

    def on_exit_of(task_id: int, attempt: int, token: Any) -> Callable[[], None]:
        def on_exit() -> None:
            state["free"] += 1
            slot_freed.set()
            reports.append((task_id, attempt, token))
            if not state["flushing"]:
                spawner.loop.create_task(flush())
        return on_exit

    async def claim_loop() -> None:
        while True:
            slot_freed.clear()
            if state["free"] == 0:
                await slot_freed.wait()
                continue
            async with lock:
                rows = await conn.fetch("select id, attempts, lease_token from swarm.claim_task($1, max_tasks => $2, "
                                        "durable => false)", WORKER, state["free"])
            if not rows:
                await slot_freed.wait()
                continue
            for row in rows:
                state["free"] -= 1
                spawner.start(on_exit_of(row["id"], row["attempts"], row["lease_token"]))

    started = time.perf_counter()
    claiming = spawner.loop.create_task(claim_loop())
    await finished
    elapsed = time.perf_counter() - started
    claiming.cancel()
    await conn.close()
    return tasks / elapsed


def main() -> None:
    mode, tasks, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode == "no-database":
        rate = asyncio.run(no_database(tasks, concurrency))
    elif mode == "engine":
        rate = asyncio.run(engine(tasks, concurrency, sys.argv[4]))
    else:
        sys.exit(f"unknown mode {mode!r}: no-database or engine")
    print(f"{rate:.1f}")


if __name__ == "__main__":
    main()
