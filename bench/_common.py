"""What the benchmarks share: the best/median table of interleaved variants, and stopping a
child process (a worker, the web server) without leaving it behind."""
from __future__ import annotations

import signal
import statistics
import subprocess


def print_rates(tasks: int, seconds: dict[str, list[float]]) -> None:
    """One row a variant: tasks per second in its best round and its median one."""
    width = max(len("variant"), *map(len, seconds)) + 2
    print(f"{'variant':<{width}} {'best/s':>10} {'median/s':>10}")
    for name, runs in seconds.items():
        print(f"{name:<{width}} {tasks / min(runs):>10,.0f} {tasks / statistics.median(runs):>10,.0f}")


def stop_process(process: subprocess.Popen[bytes] | None, grace: float = 30.0) -> None:
    """SIGTERM, then SIGKILL when it has not ended after `grace` seconds (a process already
    ended, or none, is left as it is)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
