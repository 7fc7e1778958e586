"""Whose fault a failed attempt is: the rules, in one place.

Three owners, three consequences (README "When an agent cannot run"):

- node: this machine cannot run the agent (the executable is missing, it is not logged in or has
  no credentials, its API is unreachable from here, a fixed set-up error such as codex's "Not
  inside a trusted directory"). The task is released without spending an attempt
  (swarm.release_task), this worker stops claiming the agent (its own quarantine, re-probed with
  backoff: quarantine.py) and the cluster-wide circuit breaker does not hear of it: other nodes
  keep running the agent.
- service: the failure says something about the agent's service (an API error, an overloaded or
  crashing backend, an unreadable answer). swarm.fail_task counts it towards the agent's circuit
  breaker (sql/60_agents.sql, swarm._agent_failed).
- task: the task's own failure (a shell command exiting 3, a refused prompt, a turn limit, a bad
  argument, a timeout with nothing to blame). Retried as the task says; never counted by the
  breaker.

The profiles name node faults they recognise by structure (gemini's exit 41, claude's
authentication_failed); `node_fault_reason` reads the final error text for the rest; which
failures count is decided in SQL from the `fault` a failure is reported with.
"""
from __future__ import annotations

import json
import re
from typing import Any, Literal

Fault = Literal["task", "service"]

# Final error text that means this node cannot run the agent. Matched against the profile's
# one-line summary of how the run ended (and a timed-out run's last printed error), never the
# whole output: an agent whose work prints "ECONNREFUSED" has not lost its network.
_NODE_FAULTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("not logged in", re.compile(r"not logged in|please run /login|invalid api key|no api key|"
                                 r"missing api key|could not (?:find|load) (?:default )?credentials|"
                                 r"authentication_failed|OAuth token (?:has )?expired", re.I)),
    ("untrusted directory", re.compile(r"not inside a trusted directory|untrusted workspace", re.I)),
    ("offline", re.compile(r"waiting for network|fetch failed|getaddrinfo|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|"
                           r"ENETUNREACH|EHOSTUNREACH|network is unreachable|name does not resolve|"
                           r"failed to lookup address|could not resolve host|temporary failure in name resolution|"
                           r"Connection error|connection_error|error sending request for url|"
                           r"API retry[^\n]*\(no response\)", re.I)),
)


def node_fault_reason(text: str) -> str | None:
    """'not logged in', 'untrusted directory' or 'offline' when this final error text says this
    node cannot run the agent; None otherwise."""
    for kind, pattern in _NODE_FAULTS:
        if pattern.search(text):
            return kind
    return None


# -- the last error an agent printed (for a timed-out attempt) ---------------------------------

_PLAIN_ERROR = re.compile(r"\b(?:error|failed|fetch failed|ECONN\w+|ENOTFOUND|timed? ?out|refused|unreachable)\b",
                          re.I)


def last_printed_error(output: str) -> str | None:
    """The last error the agent printed before it was stopped: a claude `api_retry` event, a
    codex `error` event ("Reconnecting... 3/5 (...)"), a JSON error, or a plain line that says
    error/failed (gemini's "fetch failed"). One line, at most 300 characters."""
    for line in reversed(output.splitlines()[-400:]):
        text = line.strip()
        if not text:
            continue
        if text.startswith("{"):
            try:
                event = json.loads(text)
            except ValueError:
                event = None
            if isinstance(event, dict):
                found = _event_error(event)
                if found:
                    return _one_line(found)
                continue
        if _PLAIN_ERROR.search(text):
            return _one_line(text)
    return None


def _event_error(event: dict[str, Any]) -> str | None:
    if event.get("subtype") == "api_retry":
        # claude stream-json, retrying a failed API call: {"attempt": 3, "max_retries": 10,
        # "error_status": 529, "error": "overloaded"} (error_status null without a response)
        attempt = f" {event['attempt']}/{event.get('max_retries', '?')}" if event.get("attempt") else ""
        status = f"HTTP {event['error_status']}" if event.get("error_status") else "no response"
        return f"API retry{attempt}: {_message(event.get('error')) or 'error'} ({status})"
    if event.get("type") in ("error", "turn.failed", "stream_error") or event.get("is_error") is True:
        return _message(event.get("error")) or _message(event.get("message")) or _message(event.get("result"))
    msg = event.get("msg")
    if isinstance(msg, dict) and msg.get("type") in ("error", "stream_error"):
        return _message(msg.get("message"))
    if isinstance(event.get("error"), (str, dict)) and event.get("type") not in ("assistant",):
        return _message(event["error"])
    return None


def _message(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        for key in ("message", "error", "type"):
            found = _message(value.get(key))
            if found:
                return found
    return None


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:299] + "…"
