"""Reading a task's log: the worker's per-attempt log file when it is on this machine, else the tail
stored on the task (`output_tail`)."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from . import queries

TERMINAL = ("completed", "failed", "cancelled")
POLL_SECONDS = 0.5


def local_log(task: dict[str, Any]) -> Path | None:
    path = task.get("log_path")
    if path and Path(path).is_file():
        return Path(path)
    return None


def print_log(task: dict[str, Any]) -> None:
    path = local_log(task)
    if path is not None:
        sys.stdout.write(path.read_text(errors="replace"))
    elif task.get("output_tail"):
        print(f"(log file not on this machine; the last lines stored with task {task['id']}:)", file=sys.stderr)
        sys.stdout.write(task["output_tail"] if task["output_tail"].endswith("\n") else task["output_tail"] + "\n")
    else:
        state = "has not started yet" if task["status"] in ("waiting", "pending") else "left no output"
        print(f"(task {task['id']} {state})", file=sys.stderr)
    sys.stdout.flush()


def follow(conn: psycopg.Connection, task_id: int) -> None:
    """Stream the running attempt's log until the task reaches a final status (Ctrl-C stops)."""
    offset = 0
    current: Path | None = None
    announced_wait = False
    while True:
        task = queries.get_task(conn, task_id)
        assert task is not None
        path = local_log(task)
        if path is not None and path != current:
            current, offset = path, 0
        if current is not None:
            with open(current, "rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
                offset += len(chunk)
            if chunk:
                sys.stdout.write(chunk.decode(errors="replace"))
                sys.stdout.flush()
        if task["status"] in TERMINAL:
            if current is None:
                print_log(task)
            print(f"(task {task_id} {task['status']})", file=sys.stderr)
            return
        if current is None and not announced_wait:
            print(f"(task {task_id} is {task['status']}; waiting for its log)", file=sys.stderr)
            announced_wait = True
        time.sleep(POLL_SECONDS)
