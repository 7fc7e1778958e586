"""What a task printed and how far it got: the one place the pages and the API read it.

The latest attempt's live output (swarm.task_output, shipped by its worker as it comes) rendered
as a transcript (pgswarm.client.transcript); where an attempt shipped none, the tail stored with
its report. The cursor is "attempt:bytes": a reader resumes after the last complete line it got.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

import psycopg

from .. import queries
from ...client.transcript import render

TERMINAL = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Output:
    text: str  # the transcript after `cursor` (or all of it when `replace`)
    cursor: str  # where the next read starts; the SSE event id
    replace: bool  # the text replaces what the reader has (a new attempt, a tail), rather than appending to it
    finished: bool  # the task has reached a final status: nothing more will come


def _cursor(after: str | None) -> tuple[int, str] | None:
    if not after or ":" not in after:
        return None
    attempt, _, rest = after.partition(":")
    return (int(attempt), rest) if attempt.isdigit() else None


def read_output(conn: psycopg.Connection, task_id: int, after: str | None) -> Output | None:
    """The task's output since `after` (None: from the start); None for an unknown task."""
    task = queries.get_task(conn, task_id)
    if task is None:
        return None
    finished = task["status"] in TERMINAL
    attempt = task["attempts"]
    previous = _cursor(after)
    same_attempt = previous is not None and previous[0] == attempt and previous[1].isdigit()
    consumed = int(previous[1]) if same_attempt and previous is not None else 0
    rows = queries.output_since(conn, task_id, attempt, consumed) if not task.get("archived") else []
    if not rows:
        if same_attempt:
            return Output("", after or "", False, finished)
        tail = task.get("output_tail") or ""
        cursor = f"{attempt}:t{zlib.crc32(tail.encode()):x}"
        if after == cursor:
            return Output("", cursor, False, finished)
        return Output(render(tail) if tail else "", cursor, True, finished)
    start = rows[0]["offset_bytes"]
    data = "".join(row["chunk"] for row in rows).encode()
    skip = max(0, consumed - start)
    data = data[skip:]
    if not finished:  # complete lines only: a line is rendered once, whole
        end = data.rfind(b"\n") + 1
        data = data[:end]
    consumed = start + skip + len(data)
    return Output(render(data.decode("utf-8", "replace")), f"{attempt}:{consumed}", not same_attempt, finished)


def progress(task: dict[str, Any]) -> dict[str, Any] | None:
    """Parsed progress of the latest attempt (turns, tokens, cost so far, current tool, last
    message), as the worker ships it with the output; None before it has any."""
    value = task.get("progress")
    if not isinstance(value, dict) or not value:
        return None
    shown = {"attempt": value.get("attempt"), "turns": value.get("turns"),
             "tokens": f"{value.get('input_tokens') or 0} in / {value.get('output_tokens') or 0} out"
                       if "input_tokens" in value else None,
             "cost so far": f"${value['cost_usd']:.4f}" if isinstance(value.get("cost_usd"), (int, float)) else None,
             "tool": value.get("tool"), "last message": value.get("message"),
             "the agent says": json.dumps(value["agent"]) if value.get("agent") is not None else None}
    return {k: v for k, v in shown.items() if v not in (None, "")}
