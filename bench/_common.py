"""What the benchmarks share: the best/median table of interleaved variants. (Stopping a worker or
web server a benchmark starts: tests/helpers/processes.py.)"""
from __future__ import annotations

import statistics


def print_rates(tasks: int, seconds: dict[str, list[float]]) -> None:
    """One row a variant: tasks per second in its best round and its median one."""
    width = max(len("variant"), *map(len, seconds)) + 2
    print(f"{'variant':<{width}} {'best/s':>10} {'median/s':>10}")
    for name, runs in seconds.items():
        print(f"{name:<{width}} {tasks / min(runs):>10,.0f} {tasks / statistics.median(runs):>10,.0f}")
