"""Agents' event streams read as one kind of event: Claude Code's stream-json, Codex's `exec --json`
and Gemini CLI's stream-json (and its single `--output-format json` object).

One line in, the events it holds out; a line that is not an event (plain text, a JSON value of
another shape) gives none. The worker's progress (live_output.py) and the client's transcript
(pgswarm.client.transcript) both read agents' output through here, so they agree.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["session", "text", "tool", "tool_result", "usage", "result", "error"]


@dataclass(frozen=True)
class Event:
    kind: Kind
    text: str = ""
    tool: str | None = None
    arguments: Any = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    turns: int | None = None
    is_error: bool = False
    new_turn: bool = False  # an assistant turn starts here
    extra: dict[str, Any] = field(default_factory=dict)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text_of(content: Any) -> str:
    """The text of a tool result's content (a string, or a list of {type: text, text})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def parse_line(line: str) -> list[Event]:
    """The events of one line of an agent's output ([] when it holds none)."""
    line = line.strip()
    if not line.startswith("{"):
        return []
    try:
        obj = json.loads(line)
    except ValueError:
        return []
    if not isinstance(obj, dict):
        return []
    return parse_object(obj)


def parse_object(obj: dict[str, Any]) -> list[Event]:
    kind = obj.get("type")
    if kind == "result" and ("stats" in obj or "status" in obj):
        return _gemini(obj)
    if kind in ("system", "result") or (kind in ("assistant", "user") and "message" in obj):
        return _claude(obj)
    if isinstance(kind, str) and (kind.startswith(("thread.", "turn.", "item."))
                                  or (kind == "error" and "message" in obj)):
        return _codex(obj)
    if kind in ("init", "message", "tool_use", "tool_result", "result", "error"):
        return _gemini(obj)
    if "response" in obj and "stats" in obj:  # gemini --output-format json: one object at the end
        return [Event("text", text=str(obj.get("response") or "")), *_gemini_stats(obj.get("stats"), final=True)]
    return []


# -- Claude Code (claude -p --output-format stream-json --verbose) -----------------------------------
def _claude(obj: dict[str, Any]) -> list[Event]:
    kind = obj.get("type")
    if kind == "system":
        if obj.get("subtype") == "init":
            return [Event("session", text=str(obj.get("model") or ""), extra={"session_id": obj.get("session_id")})]
        return []
    if kind == "result":
        usage = _dict(obj.get("usage"))
        return [Event("result", text=str(obj.get("result") or ""), cost_usd=_number(obj.get("total_cost_usd")),
                      turns=_int(obj.get("num_turns")), input_tokens=_int(usage.get("input_tokens")),
                      output_tokens=_int(usage.get("output_tokens")),
                      is_error=bool(obj.get("is_error")) or obj.get("subtype") not in (None, "success"))]
    message = obj.get("message")
    if not isinstance(message, dict):
        return []
    content = message.get("content")
    parts = content if isinstance(content, list) else [{"type": "text", "text": content}] if isinstance(
        content, str) else []
    events: list[Event] = []
    first = kind == "assistant"
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and kind == "assistant":
            events.append(Event("text", text=str(part.get("text") or ""), new_turn=first))
            first = False
        elif part.get("type") == "tool_use":
            events.append(Event("tool", tool=str(part.get("name") or "?"), arguments=part.get("input"), new_turn=first))
            first = False
        elif part.get("type") == "tool_result":
            events.append(Event("tool_result", text=_text_of(part.get("content")), is_error=bool(part.get("is_error"))))
    if kind == "assistant" and isinstance(message.get("usage"), dict):
        events.append(Event("usage", input_tokens=_int(message["usage"].get("input_tokens")),
                            output_tokens=_int(message["usage"].get("output_tokens"))))
    if kind == "assistant" and obj.get("error"):
        events.append(Event("error", text=str(obj.get("error")), is_error=True))
    return events


# -- Codex (codex exec --json) -----------------------------------------------------------------------
def _codex(obj: dict[str, Any]) -> list[Event]:
    kind = obj.get("type")
    if kind == "thread.started":
        return [Event("session", extra={"session_id": obj.get("thread_id")})]
    if kind == "turn.started":
        return []
    if kind == "turn.completed":
        usage = _dict(obj.get("usage"))
        return [Event("usage", input_tokens=_int(usage.get("input_tokens")),
                      output_tokens=_int(usage.get("output_tokens")), turns=1)]
    if kind == "turn.failed":
        error = _dict(obj.get("error"))
        return [Event("error", text=str(error.get("message") or "turn failed"), is_error=True)]
    if kind == "error":
        return [Event("error", text=str(obj.get("message") or ""), is_error=True)]
    item = obj.get("item")
    if not isinstance(item, dict):
        return []
    item_type = item.get("type")
    if item_type == "agent_message" and kind == "item.completed":
        return [Event("text", text=str(item.get("text") or ""), new_turn=True)]
    if item_type == "reasoning" and kind == "item.completed":
        return [Event("text", text=str(item.get("text") or ""), extra={"reasoning": True})]
    if item_type == "command_execution":
        if kind == "item.started":
            return [Event("tool", tool="shell", arguments={"command": item.get("command")})]
        if kind == "item.completed":
            return [Event("tool_result", text=str(item.get("aggregated_output") or ""),
                          is_error=_int(item.get("exit_code")) not in (None, 0))]
    if item_type == "file_change" and kind == "item.completed":
        changes = _list(item.get("changes"))
        paths = [str(c.get("path")) for c in changes if isinstance(c, dict)]
        return [Event("tool", tool="edit", arguments={"files": paths})]
    if item_type == "mcp_tool_call" and kind == "item.started":
        return [Event("tool", tool=f"{item.get('server')}.{item.get('tool')}", arguments=item.get("arguments"))]
    if item_type == "error" and kind == "item.completed":
        return [Event("error", text=str(item.get("message") or ""))]
    return []


# -- Gemini CLI (gemini --output-format stream-json) ---------------------------------------------------
def _gemini_stats(stats: Any, final: bool) -> list[Event]:
    if not isinstance(stats, dict):
        return [Event("result")] if final else []
    models = _dict(stats.get("models"))
    input_tokens, output_tokens = _int(stats.get("input_tokens")), _int(stats.get("output_tokens"))
    if input_tokens is None and models:  # --output-format json: per model
        tokens = [m.get("tokens", {}) for m in models.values() if isinstance(m, dict)]
        input_tokens = sum(_int(t.get("prompt")) or 0 for t in tokens if isinstance(t, dict))
        output_tokens = sum(_int(t.get("candidates")) or 0 for t in tokens if isinstance(t, dict))
    return [Event("result", input_tokens=input_tokens, output_tokens=output_tokens)]


def _gemini(obj: dict[str, Any]) -> list[Event]:
    kind = obj.get("type")
    if kind == "init":
        return [Event("session", text=str(obj.get("model") or ""), extra={"session_id": obj.get("session_id")})]
    if kind == "message":
        if obj.get("role") != "assistant":
            return []
        return [Event("text", text=str(obj.get("content") or ""), new_turn=not obj.get("delta"),
                      extra={"delta": bool(obj.get("delta"))})]
    if kind == "tool_use":
        return [Event("tool", tool=str(obj.get("tool_name") or "?"), arguments=obj.get("parameters"))]
    if kind == "tool_result":
        return [Event("tool_result", text=_text_of(obj.get("output") or obj.get("error")),
                      is_error=obj.get("status") == "error")]
    if kind == "error":
        return [Event("error", text=str(obj.get("message") or ""), is_error=True)]
    if kind == "result":
        events = _gemini_stats(obj.get("stats"), final=True)
        if obj.get("status") not in (None, "success"):
            error = _dict(obj.get("error"))
            events.append(Event("error", text=str(error.get("message") or obj.get("status")), is_error=True))
        return events
    return []


@dataclass
class Progress:
    """How far an attempt got, from its events so far."""

    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    tool: str | None = None
    message: str | None = None
    _final_tokens: bool = False

    def add(self, event: Event) -> None:
        if event.new_turn:
            self.turns += 1
        if event.kind == "text" and event.text.strip() and not event.extra.get("reasoning"):
            delta = event.extra.get("delta")
            self.message = ((self.message or "") + event.text if delta else event.text)[-MESSAGE_CHARS:]
        elif event.kind == "tool":
            self.tool = f"{event.tool} {shorten_arguments(event.arguments, 80)}".strip()
        elif event.kind == "usage" and not self._final_tokens:
            self.input_tokens += event.input_tokens or 0
            self.output_tokens += event.output_tokens or 0
        elif event.kind == "result":
            # The final totals replace the running sums where the agent gives them.
            if event.input_tokens is not None or event.output_tokens is not None:
                self.input_tokens = event.input_tokens or 0
                self.output_tokens = event.output_tokens or 0
                self._final_tokens = True
            if event.turns is not None:
                self.turns = event.turns
            self.tool = None
            if event.text.strip():
                self.message = event.text[-MESSAGE_CHARS:]
        if event.cost_usd is not None:
            self.cost_usd = event.cost_usd

    def to_json(self) -> dict[str, Any]:
        return {"turns": self.turns, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost_usd": self.cost_usd, "tool": self.tool, "message": self.message}


MESSAGE_CHARS = 500


def shorten_arguments(arguments: Any, width: int) -> str:
    """A tool call's arguments on one line, cut to `width` characters."""
    if arguments is None:
        return ""
    if isinstance(arguments, dict) and len(arguments) == 1:
        (value,) = arguments.values()
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(arguments, ensure_ascii=False)
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 1] + "…"
