"""Stopping the child processes the tests and benchmarks start (servers, workers, web servers)
without leaving one behind."""
from __future__ import annotations

import signal
import subprocess


def reap(process: subprocess.Popen, grace: float) -> None:
    """Wait for a process that was told to stop; SIGKILL it when it has not ended within `grace` seconds."""
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def stop_process(process: subprocess.Popen | None, sig: signal.Signals = signal.SIGTERM, grace: float = 30.0) -> None:
    """Send `sig` to a process still running, then reap it (a process already ended, or none, is left as it is)."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    reap(process, grace)
