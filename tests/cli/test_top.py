"""`pgswarm top` in a real terminal (tmux): the running-tasks panel, 80x24 and larger, `q` quits;
stopped workers leave the list; an operator's retry is not a failure."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.cli.conftest import REPO, Cli


class Terminal:
    """A tmux session of its own running one command."""

    def __init__(self, command: list[str], env: dict[str, str], width: int, height: int) -> None:
        self.name = f"pgswarm-top-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v!r}" for k, v in env.items())
        shell = f"cd {str(REPO)!r} && env {exports} {' '.join(command)}"
        subprocess.run(["tmux", "-L", self.name, "new-session", "-d", "-s", self.name, "-x", str(width),
                        "-y", str(height), shell], check=True)

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True)

    def screen(self) -> list[str]:
        return self._tmux("capture-pane", "-p", "-t", self.name).stdout.splitlines()

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def alive(self) -> bool:
        return self._tmux("has-session", "-t", self.name).returncode == 0

    def close(self) -> None:
        self._tmux("kill-server")

    def wait_for(self, *texts: str, timeout: float = 20) -> list[str]:
        """The screen once every one of texts is on it (a screen read mid-draw may lack the last lines)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if all(any(text in line for line in lines) for text in texts):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts!r} not all on the screen:\n" + "\n".join(lines))
            time.sleep(0.1)


@pytest.fixture
def terminal(dsn: str) -> Iterator[object]:
    if shutil.which("tmux") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the terminal tests: tmux is missing (scripts/install-ui-test-tools.sh)")
        pytest.skip("tmux is not installed (scripts/install-ui-test-tools.sh)")
    opened: list[Terminal] = []

    def start(width: int = 80, height: int = 24, target: str | None = None) -> Terminal:
        env = {"PGSWARM_DSN": target or dsn, "TERM": "xterm-256color", "PATH": os.environ["PATH"]}
        session = Terminal([sys.executable, "-m", "pgswarm.cli.main", "top", "--interval", "0.5"], env, width, height)
        opened.append(session)
        return session

    yield start
    for session in opened:
        session.close()


def running_tasks(db: psycopg.Connection, count: int) -> list[int]:
    db.execute("select swarm.register_worker('node-a-w1', 'node-a', 4242, array['shell'], null, 50)")
    ids = [db.execute("insert into swarm.agent_tasks (prompt) values (%s) returning id",
                      (f"task number {i}: refactor the session cache and keep the public API stable " * 2,)
                      ).fetchone()[0] for i in range(count)]
    db.execute("select swarm.claim_task('node-a-w1', max_tasks => %s)", (count,))
    return ids


def test_top_fits_80x24_shows_running_tasks_grows_with_the_terminal_and_q_quits(
        terminal, conn: psycopg.Connection) -> None:
    ids = running_tasks(conn, 30)
    screen = terminal(80, 24)
    lines = screen.wait_for("running (30)", "recent failures")  # the whole frame drawn
    assert lines[0].startswith("pgswarm top") and "q quits" in lines[0]
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines), "\n".join(lines)
    first = next(line for line in lines if re.match(rf"\s*{ids[0]}\s+shell\s", line))
    assert "node-a-w1" in first and "try 1/3" in first and "task number 0" in first
    assert any("more" in line for line in lines), "what does not fit is counted"
    for section in ("agents", "queues", "workers", "recent failures"):
        assert any(line.startswith(section) for line in lines), (section, lines)
    shown_small = sum(1 for line in lines if line.strip()[:1].isdigit() and "node-a-w1" in line)

    screen.resize(140, 50)
    deadline = time.monotonic() + 10
    while True:
        lines = screen.screen()
        shown_large = sum(1 for line in lines if line.strip()[:1].isdigit() and "node-a-w1" in line)
        if shown_large > shown_small or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert shown_large > shown_small, "\n".join(lines)
    assert any(len(line) > 80 for line in lines), "the prompt column grows with the width"

    screen.keys("q")
    deadline = time.monotonic() + 10
    while screen.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not screen.alive(), "q quits"


def test_a_long_dsn_gives_way_in_the_header_and_q_quits_stays(terminal, dsn: str) -> None:
    long_dsn = f"{dsn}?application_name={'a-long-application-name-' * 2}"
    screen = terminal(80, 24, target=long_dsn)
    lines = screen.wait_for("agents")
    assert lines[0].startswith("pgswarm top") and lines[0].endswith("  q quits"), lines[0]
    assert "…" in lines[0] and len(lines[0]) <= 80


def test_stopped_workers_leave_the_list_and_a_manual_retry_is_not_a_failure(
        cli: Cli, conn: psycopg.Connection) -> None:
    conn.execute("select swarm.register_worker('gone-long-ago', 'h', 1, null, null, 1)")
    conn.execute("select swarm.stop_worker('gone-long-ago')")
    conn.execute("update swarm.workers set heartbeat_at = now() - interval '3 minutes' where name = 'gone-long-ago'")
    conn.execute("select swarm.register_worker('just-stopped', 'h', 2, null, null, 1)")
    conn.execute("select swarm.stop_worker('just-stopped')")
    conn.execute("select swarm.register_worker('silent-for-ages', 'h', 3, null, null, 1)")
    conn.execute("update swarm.workers set heartbeat_at = now() - interval '1 hour' where name = 'silent-for-ages'")
    task = conn.execute("insert into swarm.agent_tasks (prompt, max_attempts) values ('exit 1', 1) returning id").fetchone()[0]
    token = conn.execute("select lease_token from swarm.claim_task('w1')").fetchone()[0]
    conn.execute("select swarm.fail_task(%s, 'w1', 1, 'exited 1: boom', lease_token => %s)", (task, token))
    conn.execute("select swarm.retry_task(%s)", (task,))
    out = cli("top", "--once").ok().stdout
    assert "just-stopped" in out and "stopped" in out
    assert "gone-long-ago" not in out and "silent-for-ages" not in out
    failures = out.split("recent failures", 1)[1]
    assert "exited 1: boom" in failures
    assert "retry_scheduled" not in failures, "the operator's retry is listed as a failure"
