"""Agents' event streams as a transcript people read: assistant text, tool calls with their
arguments shortened, results, cost. Lines that are not events pass through as they are.

`pgswarm logs`, the web task page and the MCP transcript resource all render through here; the
events are read by pgswarm.worker.events, as the worker's progress is.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..worker.events import Event, parse_line, shorten_arguments

ARGUMENT_CHARS = 120
RESULT_CHARS = 300


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def render_event(event: Event) -> str | None:
    """One event as text (None: nothing worth a line)."""
    if event.kind == "session":
        model = f" model {event.text}" if event.text else ""
        session = event.extra.get("session_id")
        return f"── session{' ' + str(session) if session else ''}{model}"
    if event.kind == "text":
        if not event.text.strip():
            return None
        who = "thinking" if event.extra.get("reasoning") else "assistant"
        return f"{who}: {event.text.rstrip()}"
    if event.kind == "tool":
        return f"→ {event.tool}({shorten_arguments(event.arguments, ARGUMENT_CHARS)})"
    if event.kind == "tool_result":
        mark = "✗" if event.is_error else "←"
        return f"  {mark} {_one_line(event.text, RESULT_CHARS)}" if event.text.strip() else f"  {mark} (no output)"
    if event.kind == "error":
        return f"! error: {event.text}"
    if event.kind == "result":
        figures = []
        if event.cost_usd is not None:
            figures.append(f"cost ${event.cost_usd:.4f}")
        if event.turns is not None:
            figures.append(f"{event.turns} turns")
        if event.input_tokens is not None or event.output_tokens is not None:
            figures.append(f"tokens {event.input_tokens or 0} in / {event.output_tokens or 0} out")
        head = "── result" + (" (error)" if event.is_error else "")
        text = f": {event.text.rstrip()}" if event.text.strip() else ""
        return head + text + (f"\n   {' · '.join(figures)}" if figures else "")
    return None  # usage: counted in the result line


def render_line(line: str) -> list[str]:
    """A line of output as transcript lines: its events rendered, or the line itself."""
    events = parse_line(line)
    if not events:
        return [line]
    out = [text for event in events if (text := render_event(event)) is not None]
    return out


def render(text: str) -> str:
    """A whole output as a transcript."""
    renderer = TranscriptRenderer()
    return renderer.feed(text) + renderer.finish()


class TranscriptRenderer:
    """Renders output as it comes: complete lines at once, a partial line when the stream ends.
    Gemini's streamed assistant deltas are joined into one line."""

    def __init__(self) -> None:
        self._partial = ""
        self._delta_open = False

    def feed(self, text: str) -> str:
        data = self._partial + text
        lines = data.split("\n")
        self._partial = lines.pop()
        return self._render(lines)

    def finish(self) -> str:
        rest, self._partial = self._partial, ""
        out = self._render([rest]) if rest else ""
        if self._delta_open:
            out += "\n"
            self._delta_open = False
        return out

    def _render(self, lines: Iterable[str]) -> str:
        out: list[str] = []
        for line in lines:
            events = parse_line(line)
            if not events:
                out.append(self._close_delta() + line + "\n")
                continue
            for event in events:
                if event.kind == "text" and event.extra.get("delta"):
                    out.append(event.text if self._delta_open else "assistant: " + event.text)
                    self._delta_open = True
                    continue
                rendered = render_event(event)
                if rendered is not None:
                    out.append(self._close_delta() + rendered + "\n")
        return "".join(out)

    def _close_delta(self) -> str:
        if self._delta_open:
            self._delta_open = False
            return "\n"
        return ""
