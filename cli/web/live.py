"""Live updates: one LISTEN connection and one change cursor per server process, fanned out to
every open page and API stream as server-sent events.

The cursor is the newest id of swarm.task_events (append-only; every status change writes one).
A notification (swarm_ready on insert, unblock, retry; swarm_cancel) wakes the feed at once; it
is only a hint, so the feed then reads the cursor from the database. Changes that send no
notification (a completion of an uncapped agent) are seen by the poll, once a second while
anyone listens. A client that reconnects sends its last cursor (Last-Event-ID) and is told which
tasks changed since.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg

from .. import queries
from .db import Database
from ...worker.errors import DatabaseUnavailable

log = logging.getLogger("pgswarm.web")
CHANNELS = ("swarm_ready", "swarm_cancel", "swarm_output")
OUTPUT_CHANNEL = "swarm_output"  # payload: a task id whose live output grew (sql/46_live_output.sql)
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True)
class Change:
    cursor: int
    task_ids: tuple[int, ...]
    overflow: bool = False  # more tasks changed than listed: refresh everything
    output: bool = False  # only the tasks' live output grew (the output streams want it, the pages not)

    def sse(self) -> str:
        data = json.dumps({"cursor": self.cursor, "tasks": list(self.task_ids), "overflow": self.overflow})
        return f"id: {self.cursor}\nevent: change\ndata: {data}\n\n"


class ChangeFeed:
    def __init__(self, db: Database, poll_seconds: float = 1.0) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self.cursor = 0
        self._subscribers: set[asyncio.Queue[Change]] = set()
        self._wake = asyncio.Event()

    async def since(self, after: int) -> Change:
        cursor, ids, overflow = await self.db.run(queries.changed_since, after)
        return Change(cursor, tuple(ids), overflow)

    async def run(self) -> None:
        """Forever: follow the cursor, wake on notifications, reconnect when the database goes
        away. Its two loops run under one TaskGroup: if either dies, both stop and the server's
        supervisor (app.py) stops the server with the error."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._listen(), name="web-listen")
            group.create_task(self._follow(), name="web-follow")

    async def _follow(self) -> None:
        while True:  # the starting cursor
            try:
                self.cursor = await self.db.run(queries.event_cursor)
                break
            except DatabaseUnavailable as exc:
                log.warning("event=feed_read_failed error=%s", exc)
                await asyncio.sleep(self.poll_seconds)
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            if not self._subscribers:
                continue
            try:
                change = await self.since(self.cursor)
            except DatabaseUnavailable as exc:
                log.warning("event=feed_read_failed error=%s", exc)
                continue
            if change.cursor != self.cursor:
                self.cursor = change.cursor
                self._publish(change)

    def _publish(self, change: Change) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a slow reader gets the newest change only
                queue.get_nowait()
            queue.put_nowait(change)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.db.dsn, autocommit=True, application_name="pgswarm-web-listen") as conn:
                    for channel in CHANNELS:
                        await conn.execute(queries.listen_statement(channel))
                    delay = 0.5
                    self._wake.set()  # catch up with what happened while not listening
                    async for note in conn.notifies():
                        if note.channel == OUTPUT_CHANNEL and note.payload.isdigit():
                            self._publish(Change(self.cursor, (int(note.payload),), output=True))
                        else:
                            self._wake.set()
            except psycopg.OperationalError as exc:
                log.warning("event=listen_lost error=%s retry_in=%.1fs", " ".join(str(exc).split())[:200], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def changes(self, after: int | None) -> AsyncIterator[Change | None]:
        """Every change from `after` on (a catch-up first when it is behind); None when nothing
        changed for KEEPALIVE_SECONDS."""
        queue: asyncio.Queue[Change] = asyncio.Queue(maxsize=16)
        self._subscribers.add(queue)
        self._wake.set()
        try:
            if after is not None and after < self.cursor:
                yield await self.since(after)
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield None
        finally:
            self._subscribers.discard(queue)

    async def subscribe(self, after: int | None) -> AsyncIterator[str]:
        """SSE text for one client: `hello` with the current cursor, then `change` events."""
        yield f"retry: 2000\nid: {after if after is not None else self.cursor}\nevent: hello\ndata: {{}}\n\n"
        changes = self.changes(after)
        try:
            async for change in changes:
                if change is not None and change.output:
                    continue  # the pages follow tasks, not their output
                yield ": keep-alive\n\n" if change is None else change.sse()
        finally:
            await changes.aclose()
