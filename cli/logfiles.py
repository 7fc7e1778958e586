"""Reading a task's log: the worker's per-attempt log file when it is on this machine, else what
the database holds (the live output of the latest attempt, or the tail stored with its report);
following a running attempt from any machine through the database. Agents' event streams are
shown as a transcript (pgswarm.client.transcript) unless raw bytes are asked for; the transcript
shows control characters escaped (an agent's output must not drive the reader's terminal), --raw
gives the bytes."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psycopg

from ..client import Client
from ..client.transcript import TranscriptRenderer, render
from .output import printable

TERMINAL = ("completed", "failed", "cancelled")


def local_log(task: dict[str, Any]) -> Path | None:
    path = task.get("log_path")
    if path and Path(path).is_file():
        return Path(path)
    return None


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _shown(text: str) -> str:
    return printable(text, newlines=True)


def print_log(conn: psycopg.Connection, task: dict[str, Any], raw: bool = False) -> None:
    path = local_log(task)
    if path is not None and task["status"] in TERMINAL:
        text = path.read_text(errors="replace")
    else:
        output = Client(conn=conn).output(task["id"])
        text = output.text
        if text and not output.complete:
            print(f"(log file not on this machine; the last of task {task['id']}'s output stored in the database:)",
                  file=sys.stderr)
    if not text:
        state = "has not started yet" if task["status"] in ("waiting", "pending") else "left no output"
        print(f"(task {task['id']} {state})", file=sys.stderr)
        return
    if not text.endswith("\n"):
        text += "\n"
    _write(text if raw else _shown(render(text)))


def follow(conn: psycopg.Connection, task_id: int, raw: bool = False) -> None:
    """Print the task's output as it comes, through the database (so from any machine), until the
    task reaches a final status (Ctrl-C stops)."""
    renderer = TranscriptRenderer()
    attempt = None
    client = Client(conn=conn)
    for chunk in client.follow(task_id):
        if chunk.attempt != attempt:
            if attempt is not None and not raw:
                _write(_shown(renderer.finish()))
            attempt = chunk.attempt
            print(f"(attempt {attempt})", file=sys.stderr)
        _write(chunk.text if raw else _shown(renderer.feed(chunk.text)))
    if not raw:
        _write(_shown(renderer.finish()))
    status = client.get(task_id).status
    print(f"(task {task_id} {status})", file=sys.stderr)
