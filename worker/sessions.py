"""Agent sessions: which session an attempt's agent ran in, so that a later attempt can resume it.

The id is recorded in the attempt ledger (swarm.task_attempts.session_id) with the report; the
engine decides at claim whether the next attempt continues it (args.resume_on_retry) and hands
it over as ClaimedTask.resume_session; the profile turns that into the agent's resume flags.
Agents print their session early (claude's init event, codex's thread.started, gemini's init),
so the head of the attempt's log is read, then the tail, then the parsed result.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SESSION_SCAN_BYTES = 64 * 1024
_MARKERS = ('"session_id"', '"thread_id"', '"sessionId"')
# What the agents print when the session to resume is not on this node: claude "No conversation
# found with session ID: X", codex "no rollout found for thread id X", gemini "session X not found".
_RESUME_REFUSED = re.compile(r"no conversation found with session id|no rollout found|"
                             r"session\b.{0,100}\bnot found|invalid session identifier", re.I)


def find_session_id(text: str) -> str | None:
    """The first session id in JSON lines of agent output: `session_id` (claude, gemini),
    `sessionId`, or codex's `{"type": "thread.started", "thread_id": ...}`."""
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{") or not any(marker in line for marker in _MARKERS):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        for key in ("session_id", "sessionId"):
            value = event.get(key)
            if isinstance(value, str) and value:
                return value
        if event.get("type") == "thread.started" and isinstance(event.get("thread_id"), str):
            return event["thread_id"]
    return None


def session_of_attempt(log_path: Path, tail: str, result: dict[str, Any] | None) -> str | None:
    """The session an attempt ran in: from the head of its log, its tail, or its parsed result."""
    try:
        with open(log_path, "rb") as log:
            head = log.read(SESSION_SCAN_BYTES).decode("utf-8", "replace")
    except OSError:
        head = ""
    found = find_session_id(head) or find_session_id(tail)
    if found is None and result is not None and isinstance(result.get("session_id"), str):
        found = result["session_id"]
    return found[:200] if found else None


def resume_refused(session: str | None, output: str) -> bool:
    """Whether a run started to resume `session` said that session does not exist here."""
    return bool(session) and bool(_RESUME_REFUSED.search(output))

