"""`pgswarm top`: a full-screen view that fits the terminal (80x24 and up) and quits on `q`.

The frame is built for an exact size: every section gets a title line, a header line and as
many rows as the height allows (running tasks first), rows never wrap, and what does not fit
is counted ("+3 more"). Workers that stopped or went silent leave the list after two minutes.
"""
from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from . import queries
from .output import duration, printable, shorten
from ..worker.dsn import redact_dsn

WORKERS_GONE_AFTER = timedelta(minutes=2)


@dataclass
class Section:
    title: str
    columns: list[tuple[str, dict[str, Any]]]  # name, rich column options
    rows: list[list[str | Text]]
    empty: str


def _worker_state(worker: dict[str, Any]) -> str:
    """alive / stopped / silent, and the agents it quarantined (its node cannot run them)."""
    state = "alive" if worker["alive"] else "stopped" if worker["stopped_at"] else "silent"
    quarantined = sorted(worker.get("quarantined") or {})
    return f"{state}, no {','.join(quarantined)}" if quarantined and worker["alive"] else state


def progress_text(row: dict[str, Any]) -> str:
    """The running attempt's progress (turns, cost, current tool) where the worker reports it,
    else the attempt number."""
    progress = row.get("progress")
    attempt = f"try {row['attempts']}/{row['max_attempts']}"
    if not isinstance(progress, dict) or not progress:
        return attempt
    parts = []
    if progress.get("turns") is not None:
        parts.append(f"turn {progress['turns']}")
    if progress.get("cost_usd") is not None:
        parts.append(f"${float(progress['cost_usd']):.2f}")
    tool = progress.get("tool") or progress.get("current_tool")
    if tool:
        parts.append(str(tool))
    return " ".join(parts) or attempt


def read(conn: psycopg.Connection) -> dict[str, Any]:
    return {
        "running": queries.running_tasks(conn),
        "agents": queries.agent_stats(conn),
        "queues": queries.queue_depth(conn),
        "workers": queries.worker_stats(conn, gone_after=WORKERS_GONE_AFTER),
        "failures": queries.recent_failures(conn, 20),
        "minute": queries.window_stats(conn, timedelta(minutes=1)),
        "hour": queries.window_stats(conn, timedelta(hours=1)),
    }


def sections(data: dict[str, Any]) -> list[Section]:
    grow = {"no_wrap": True, "overflow": "ellipsis", "ratio": 1}
    fixed = {"no_wrap": True, "overflow": "ellipsis"}
    running = Section("running", [("id", fixed), ("agent", fixed), ("worker", fixed), ("elapsed", fixed),
                                  ("progress", fixed), ("prompt", grow)],
                      [[str(r["id"]), r["agent"], r["worker"] or "", duration(r["elapsed"]),
                        progress_text(r) + (" (cancelling)" if r["cancel_requested_at"] else ""),
                        shorten(r["prompt"], 200)] for r in data["running"]], "nothing running")
    active = [a for a in data["agents"] if a["running"] or a["pending"] or a["waiting"] or a["paused"]
              or a["completed_24h"] or a["failed_24h"]]
    agents = Section("agents", [("agent", fixed), ("run/cap", fixed), ("pend", fixed), ("wait", fixed),
                                ("ok/fail 24h", fixed), ("cost 24h", fixed), ("paused", grow)],
                     [[a["agent"], f"{a['running']}/{a['max_concurrent'] if a['max_concurrent'] is not None else '∞'}",
                       str(a["pending"]), str(a["waiting"]), f"{a['completed_24h']}/{a['failed_24h']}",
                       f"${a['cost_usd_24h']:.2f}",
                       f"until {a['paused_until']:%H:%M} {a['pause_reason'] or ''}" if a["paused"] else ""]
                      for a in active], "no agent activity in 24 h")
    queues = Section("queues", [("queue", grow), ("pending", fixed), ("claimable", fixed), ("waiting", fixed),
                                ("running", fixed), ("oldest", fixed)],
                     [[q["queue"], str(q["pending"] or 0), str(q["claimable"] or 0), str(q["waiting"] or 0),
                       str(q["running"] or 0), duration(q["oldest_pending_age"])] for q in data["queues"]],
                     "queues empty")
    workers = Section("workers", [("worker", grow), ("host", fixed), ("state", fixed), ("running", fixed),
                                  ("heartbeat", fixed)],
                      [[w["worker"], w["hostname"] or "",
                        _worker_state(w),
                        f"{w['running']}/{w['concurrency']}", duration(w["heartbeat_age"]) + " ago"]
                       for w in data["workers"]], "no workers")
    failures = Section("recent failures", [("at", fixed), ("task", fixed), ("event", fixed), ("agent", fixed),
                                           ("error", grow)],
                       [[f["at"].astimezone().strftime("%H:%M:%S"), str(f["task_id"]), f["event"], f["agent"] or "",
                         shorten(f["error"], 200)] for f in data["failures"]], "none")
    return [running, agents, queues, workers, failures]


def _allot(parts: list[Section], lines: int) -> list[int]:
    """Rows per section for `lines` lines of body (each section also takes 2: title, header)."""
    budget = lines - 2 * len(parts)
    shown = [0] * len(parts)
    for minimum in (1, 3):  # one row each first, then up to three, then everything to the first ones
        for i, part in enumerate(parts):
            want = min(len(part.rows) or 1, minimum) - shown[i]
            take = max(0, min(want, budget))
            shown[i] += take
            budget -= take
    for i, part in enumerate(parts):
        take = max(0, min(max(len(part.rows), 1) - shown[i], budget))
        shown[i] += take
        budget -= take
    return shown


def frame(data: dict[str, Any], target: str, width: int, height: int) -> RenderableType:
    minute, hour = data["minute"], data["hour"]
    header = Text(no_wrap=True, overflow="ellipsis")
    header.append("pgswarm top", "bold")
    clock, dsn, hint = f"  {datetime.now():%H:%M:%S}  ", redact_dsn(target), "  q quits"
    room = width - len("pgswarm top") - len(clock) - len(hint)  # a long DSN gives way, not the hint
    if len(dsn) > room:
        dsn = dsn[:max(room - 1, 0)] + "…"
    header.append(clock + dsn)
    header.append(hint, "dim")
    summary = Text(f"1 min: {minute['completed']} done, {minute['failed']} failed, {minute['claimed']} started · "
                   f"1 h: {hour['completed_per_minute']}/min, wait p50 {hour['wait_p50'] or '-'}s, "
                   f"run p50 {hour['run_p50'] or '-'}s, ${hour['cost_usd']:.2f}", no_wrap=True, overflow="ellipsis")
    parts = sections(data)
    shown = _allot(parts, height - 2)
    out: list[RenderableType] = [header, summary]
    for part, rows in zip(parts, shown):
        if rows <= 0:
            continue
        table = Table(box=None, pad_edge=False, show_edge=False, expand=True, padding=(0, 1),
                      header_style="bold dim", width=width)
        for name, options in part.columns:
            table.add_column(name, **options)
        visible = part.rows[:rows]
        if len(part.rows) > rows and rows >= 1:
            visible = part.rows[: rows - 1] + [[Text(f"+{len(part.rows) - rows + 1} more", "dim")]
                                               + [""] * (len(part.columns) - 1)]
        for row in visible:
            table.add_row(*[cell if isinstance(cell, Text) else Text(printable(cell)) for cell in row])
        title = Text(f"{part.title} ({len(part.rows)})" if part.rows else part.title, "bold cyan")
        out.append(title)
        out.append(table if part.rows else Text(f"  {part.empty}", "dim"))
    return Group(*out)


def run(conn: psycopg.Connection, target: str, interval: float) -> None:
    """Full screen until `q` (or Ctrl-C); redraws every `interval` seconds and on a resize."""
    from rich.live import Live

    console = Console(highlight=False)
    fd = sys.stdin.fileno() if sys.stdin.isatty() else None
    saved = termios.tcgetattr(fd) if fd is not None else None
    try:
        if fd is not None:
            tty.setcbreak(fd)
        with Live(console=console, screen=True, auto_refresh=False) as live:
            while True:
                size = os.get_terminal_size() if sys.stdout.isatty() else console.size
                console.size = (size.columns, size.lines)  # type: ignore[assignment]
                live.update(frame(read(conn), target, size.columns, size.lines), refresh=True)
                deadline = time.monotonic() + interval
                while (left := deadline - time.monotonic()) > 0:
                    if fd is None:
                        time.sleep(left)
                        break
                    ready, _, _ = select.select([fd], [], [], min(left, 0.25))
                    if ready and os.read(fd, 32).lower().startswith(b"q"):
                        return
                    current = os.get_terminal_size()
                    if (current.columns, current.lines) != (size.columns, size.lines):
                        break
    except KeyboardInterrupt:
        return
    finally:
        if fd is not None and saved is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


