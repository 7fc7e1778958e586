"""Real `pgswarm worker` processes for tests: start them as users do, stop them, read their logs,
and make sure neither they nor their agents outlive the test."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import psycopg

from tests.helpers.processes import reap

T = TypeVar("T")
AGENTS = Path(__file__).resolve().parents[1] / "agents"


def wait_for(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.05,
             diagnostics: Callable[[], str] | None = None, error: type[Exception] = AssertionError) -> T:
    """Poll condition() until it is truthy; raise `error` naming `what` (and the diagnostics) at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{diagnostics()}" if diagnostics else ""
            raise error(f"timed out after {timeout:.0f}s waiting for {what}{extra}")
        time.sleep(interval)


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def signal(self, sig: signal.Signals) -> None:
        if self.alive():
            self.process.send_signal(sig)

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait for the exit code."""
        self.signal(signal.SIGTERM)
        return self.process.wait(timeout)


@dataclass
class Workers:
    """Starts `pgswarm worker` subprocesses against one database."""

    dsn: str
    directory: Path
    started: list[WorkerProcess] = field(default_factory=list)

    def start(self, *options: str, name: str | None = None, config: str | None = None, concurrency: int = 2,
              lease_seconds: int = 30, allow_shell: bool = True, env: dict[str, str] | None = None) -> WorkerProcess:
        name = name or f"w{len(self.started) + 1}"
        command = [sys.executable, "-m", "pgswarm.cli.main", "worker", "--dsn", self.dsn, "--name", name,
                   "--concurrency", str(concurrency), "--lease-seconds", str(lease_seconds),
                   "--poll-interval", "1", "--log-dir", str(self.directory / "attempt-logs")]
        if allow_shell:
            command.append("--allow-shell")
        if config is not None:
            config_path = self.directory / f"{name}.toml"
            config_path.write_text(config)
            command += ["--config", str(config_path)]
        command += list(options)
        log_path = self.directory / f"{name}.log"
        base_env = {k: v for k, v in os.environ.items() if k not in ("PGSWARM_DSN", "DATABASE_URL")}
        with open(log_path, "ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**base_env, **(env or {})}, start_new_session=True)
        worker = WorkerProcess(name, process, log_path)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        """Stop every worker at once: SIGTERM twice (the second stops running attempts and
        releases them), so no agent outlives the test."""
        for worker in self.started:
            if worker.alive():
                os.kill(worker.process.pid, signal.SIGCONT)  # a frozen worker cannot handle SIGTERM
                worker.process.terminate()
        for worker in self.started:  # the second signal counts only once the first was handled
            with contextlib.suppress(AssertionError):
                wait_for(lambda: not worker.alive() or "no new claims" in worker.output(), 5, "SIGTERM handled")
        for worker in self.started:
            if worker.alive():
                worker.process.terminate()
        for worker in self.started:
            reap(worker.process, 30)

    def logs(self) -> str:
        """The tail of each worker's log, for failure messages."""
        return "\n".join(f"--- {w.name} (rc={w.process.poll()})\n{w.output()[-4000:]}" for w in self.started)

    def logged(self, text: str) -> bool:
        """Whether any worker's whole log contains text (logs() keeps only the tails)."""
        return any(text in w.output() for w in self.started)


def task_row(dsn: str, task_id: int) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute("select * from swarm.agent_tasks where id = %s", (task_id,))
        names = [d.name for d in cur.description]
        row = cur.fetchone()
    assert row is not None, f"task {task_id} does not exist"
    return dict(zip(names, row))


def wait_status(dsn: str, task_id: int, statuses: set[str] | str, timeout: float = 60,
                workers: Workers | None = None) -> dict:
    """Wait until the task reaches one of these statuses; return its row."""
    wanted = {statuses} if isinstance(statuses, str) else statuses
    return wait_for(lambda: (row := task_row(dsn, task_id))["status"] in wanted and row, timeout,
                    f"task {task_id} to become {'/'.join(sorted(wanted))}",
                    diagnostics=lambda: f"task: {task_row(dsn, task_id)}\n{workers.logs() if workers else ''}")


def processes_with(marker: str) -> list[str]:
    """Command lines of live agent processes (they carry PGSWARM_RUN_TOKEN) whose argv contains marker.

    Only processes a worker started count: a CI runner's own shell may hold any text in its argv.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            if marker not in cmdline:
                continue
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                from_a_worker = b"PGSWARM_RUN_TOKEN=" in f.read()
        except OSError:
            continue
        if from_a_worker and state != b"Z":
            found.append(f"{entry.name}: {cmdline}")
    return found
