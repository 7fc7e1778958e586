"""Attempt logs hold prompts, code and whatever an agent printed: the worker's user reads them, nobody else."""
from __future__ import annotations

import stat
from pathlib import Path

import psycopg

from tests.helpers.workers import Workers, wait_status
from tests.worker.conftest import add, workers  # noqa: F401 (fixture)


def test_attempt_logs_are_700_and_600(workers: Workers, conn: psycopg.Connection) -> None:  # noqa: F811
    log_dir = workers.directory / "attempt-logs"
    log_dir.mkdir(mode=0o755)
    log_dir.chmod(0o755)  # an existing directory, open to all, is tightened
    task_id = add(conn, "echo secret output")
    workers.start()
    log = Path(wait_status(workers.dsn, task_id, "completed", workers=workers)["log_path"])
    assert log.parent == log_dir
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
