"""What a task printed and how far it got: the one place the pages and the API read it.

Today that is the output tail the worker stores with each report (`agent_tasks.output_tail`), so
a running attempt shows its output when it ends. Live output in the database (issue 17 §2:
`swarm.task_output` chunks with a sequence number, `agent_tasks.progress`) replaces the bodies of
`read_output` and `progress` below; the page's partial `_transcript.html` and the API's SSE
stream `/api/v1/tasks/{id}/output` stay as they are.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import psycopg

from .. import queries

TERMINAL = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Output:
    text: str  # the output after `cursor` (today: the whole stored tail)
    cursor: str  # where the next read starts; the SSE event id
    replace: bool  # the text replaces what the reader has (a tail), rather than appending to it
    finished: bool  # the task has reached a final status: nothing more will come


def read_output(conn: psycopg.Connection, task_id: int, after: str | None) -> Output | None:
    """The task's output since `after` (None: from the start); None for an unknown task."""
    task = queries.get_task(conn, task_id)
    if task is None:
        return None
    tail = task.get("output_tail") or ""
    cursor = f"{task['attempts']}-{len(tail)}-{zlib.crc32(tail.encode()):x}"
    finished = task["status"] in TERMINAL
    if after == cursor:
        return Output("", cursor, False, finished)
    return Output(tail, cursor, True, finished)


def progress(task: dict[str, Any]) -> dict[str, Any] | None:
    """Parsed progress of a running attempt (turns, tokens, cost so far, current tool, last
    message); None until the worker reports it (issue 17 §2 adds `agent_tasks.progress`)."""
    value = task.get("progress")
    return value if isinstance(value, dict) and value else None
