"""Live output: a running attempt's output reaches the database as it comes, so another machine
follows it (`pgswarm logs -f`), and its progress is parsed from the agent's events."""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

from tests.helpers.workers import AGENTS, Workers, wait_for
from tests.worker.conftest import add

REPO = Path(__file__).resolve().parents[2]


class Follower:
    """`pgswarm logs -f ID` in a process of its own: another HOME, no PGSWARM_HOME, the DSN only."""

    def __init__(self, dsn: str, task_id: int, home: Path, *options: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PGSWARM_DSN", "DATABASE_URL", "PGSWARM_HOME")}
        env.update({"HOME": str(home), "PGSWARM_DSN": dsn, "COLUMNS": "200"})
        self.process = subprocess.Popen([sys.executable, "-m", "pgswarm.cli.main", "logs", "-f", str(task_id),
                                         *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, env=env, cwd=home, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True, name="follower-stdout").start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for_line(self, wanted: str, timeout: float) -> float:
        """Seconds until a line holding `wanted` arrived."""
        started = time.monotonic()
        while True:
            left = timeout - (time.monotonic() - started)
            assert left > 0, f"no line with {wanted!r} within {timeout}s; saw {self.seen}"
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if wanted in line:
                return time.monotonic() - started

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        _, stderr = self.process.communicate(timeout=timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.process.returncode, stderr


def test_another_client_follows_a_running_task_and_sees_its_first_line_before_it_ends(
        dsn: str, db: psycopg.Connection, workers: Workers, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    task = add(db, f"echo 'first line'; while [ ! -e {gate} ]; do sleep 0.05; done; echo 'last line'", agent="shell")
    workers.start(name="node-a")
    wait_for(lambda: db.execute("select status from swarm.agent_tasks where id = %s", (task,)).fetchone()[0]
             == "running", 60, "the task to start")
    elsewhere = tmp_path / "another-machine"
    elsewhere.mkdir()
    follower = Follower(dsn, task, elsewhere)
    try:
        follower.wait_for_line("first line", timeout=30)
        assert db.execute("select status from swarm.agent_tasks where id = %s", (task,)).fetchone()[0] == "running"
        gate.touch()
        follower.wait_for_line("last line", timeout=30)
        code, stderr = follower.finish()
    finally:
        follower.process.kill()
    assert code == 0, stderr
    assert f"(task {task} completed)" in stderr
    assert [line.strip() for line in follower.seen] == ["first line", "last line"]
    chunks = db.execute("select string_agg(chunk, '' order by seq) from swarm.task_output where task_id = %s",
                        (task,)).fetchone()[0]
    assert chunks == "first line\nlast line\n"


def test_progress_is_parsed_from_the_event_stream_and_logs_renders_a_transcript(
        dsn: str, db: psycopg.Connection, workers: Workers, tmp_path: Path) -> None:
    config = f'[profiles.claude]\ncommand = {json.dumps([sys.executable, str(AGENTS / "fake_claude.py")])}\n'
    task = add(db, "fix it", agent="claude")
    workers.start(name="node-a", config=config, allow_shell=False)
    wait_for(lambda: db.execute("select status from swarm.agent_tasks where id = %s", (task,)).fetchone()[0]
             == "completed", 60, "the task to complete", )
    progress = db.execute("select progress from swarm.agent_tasks where id = %s", (task,)).fetchone()[0]
    assert progress["turns"] == 3 and progress["cost_usd"] == 0.0127 and progress["attempt"] == 1
    assert progress["output_tokens"] == 420
    assert progress["message"].startswith("Fixed the flaky test")
    env = {k: v for k, v in os.environ.items() if k not in ("PGSWARM_DSN", "DATABASE_URL", "PGSWARM_HOME")}
    env.update({"PGSWARM_DSN": dsn, "HOME": str(tmp_path)})
    shown = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", "logs", str(task)], capture_output=True,
                           text=True, env=env, timeout=120, cwd=REPO)
    assert shown.returncode == 0, shown.stderr
    assert "assistant: Working on it." in shown.stdout
    assert "── result: Fixed the flaky test" in shown.stdout and "cost $0.0127 · 3 turns" in shown.stdout
    raw = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", "logs", str(task), "--raw"], capture_output=True,
                         text=True, env=env, timeout=120, cwd=REPO)
    assert raw.stdout.splitlines()[0].startswith('{"type":"system"')
