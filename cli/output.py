"""Rendering: rich tables for people, JSON for scripts (`--json` on every listing)."""
from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

# Piped output (tests, scripts, less) gets a wide console instead of 80 columns of wrapped cells.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
STATUS_STYLE = {"waiting": "dim", "pending": "yellow", "running": "cyan", "completed": "green",
                "failed": "red", "cancelled": "magenta"}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(value: Any) -> None:
    print(json.dumps(value, default=_json_default, indent=2))


def duration(value: timedelta | None) -> str:
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return "-" + duration(-value)
    if seconds < 60:
        return f"{value.total_seconds():.1f}s" if seconds < 10 else f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    now = now or datetime.now(value.tzinfo)
    return duration(now - value) + " ago"


# C0 and C1 controls but tab and newline, DEL, and the invisible or reordering format characters
# (bidi overrides and isolates, zero-width ones, BOM): task data is written by anyone who may
# enqueue, or by an agent, and must not move the cursor, retitle or clear the terminal, or hide text.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, newlines: bool = False) -> str:
    """Task data as it may go to a terminal: control characters shown escaped (ESC as \\x1b);
    a newline kept only when newlines=True (multi-line output), else shown as \\n."""
    out = _UNPRINTABLE.sub(_escape, text)
    return out if newlines else out.replace("\n", "\\n")


def cell(value: Any) -> str | Text:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, (list, tuple)):
        return printable(",".join(str(v) for v in value))
    if isinstance(value, dict):
        return json.dumps(value, default=str)  # ensure_ascii: control characters come out as \u001b
    return printable(str(value))


def status_text(status: str | None) -> Text:
    return Text(status or "", style=STATUS_STYLE.get(status or "", ""))


def shorten(text: str | None, width: int = 60) -> str:
    if not text:
        return ""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def table(rows: Sequence[dict[str, Any]], columns: Iterable[str] | None = None, title: str | None = None) -> Table:
    columns = list(columns or (rows[0].keys() if rows else []))
    out = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for column in columns:
        out.add_column(column)
    for row in rows:
        # Text, not str: a prompt like "fix [flaky] test" is data, not rich markup.
        out.add_row(*[status_text(row[c]) if c == "status" else Text(str(cell(row.get(c)))) for c in columns])
    return out


def print_table(rows: Sequence[dict[str, Any]], columns: Iterable[str] | None = None, title: str | None = None,
                empty: str = "(none)") -> None:
    if title and not rows:
        console.print(f"[bold]{title}[/bold]: {empty}")
        return
    if not rows:
        console.print(empty)
        return
    console.print(table(rows, columns, title))
