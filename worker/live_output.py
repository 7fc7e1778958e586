"""Live output: each running attempt's output and progress, shipped to the database as it comes.

An attempt's process writes into its log (process.CappedLog), which hands every read to the
attempt's OutputStream here; the stream only buffers (bounded), so an agent is never slowed or
blocked by the database. The shipper, a named duty of the supervisor, sends what every stream
holds in one call of swarm.ship_output every FLUSH_SECONDS; progress (parsed from the agent's
event stream, events.py) goes with it at most every PROGRESS_SECONDS. When the database is away
the call fails at once and the streams keep buffering: each keeps at most MAX_PENDING bytes and
leaves out the middle of what it could not send, saying so in the output.
"""
from __future__ import annotations

import asyncio
import codecs
import logging
import time
from typing import Any, Protocol

from .events import Progress, parse_line
from .storable import storable, storable_text

log = logging.getLogger("pgswarm.worker")

FLUSH_SECONDS = 0.25
PROGRESS_SECONDS = 3.0
MAX_PENDING = 64 * 1024  # per stream between two calls: a loud agent ships at most 256 KiB/s
MAX_LINE = 1024 * 1024  # longer lines are not parsed for progress
FINISH_SECONDS = 60.0  # how long an ended attempt's last output waits for the database


class ShipsOutput(Protocol):
    connected: asyncio.Event  # set while the database is reachable

    async def ship_output(self, batch: list[dict[str, Any]]) -> int: ...


class OutputStream:
    """The output of one attempt not yet shipped, and its progress."""

    def __init__(self, task_id: int, attempt: int) -> None:
        self.task_id = task_id
        self.attempt = attempt
        self.offset = 0  # bytes (UTF-8) of the text shipped so far: the next chunk's offset
        self.pending = bytearray()
        self.left_out = 0  # bytes dropped from the middle of `pending`
        self.closed = False
        self.progress = Progress()
        self._progress_changed = False
        self._progress_sent_at = 0.0
        self._line = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write(self, data: bytes) -> None:
        """Called with every read of the process's output (on the event loop; never blocks)."""
        self.pending += data
        if len(self.pending) > MAX_PENDING:
            # Keep the newest: a live view wants where the agent is now. The worker's log file
            # keeps everything (up to its own cap).
            cut = len(self.pending) - MAX_PENDING
            del self.pending[:cut]
            self.left_out += cut
            self._decoder.reset()  # the cut may split a character
        self._feed_progress(data)

    def _feed_progress(self, data: bytes) -> None:
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                if len(self._line) < MAX_LINE:
                    self._line += data[start:]
                return
            self._line += data[start:end]
            if len(self._line) <= MAX_LINE:
                for event in parse_line(self._line.decode("utf-8", "replace")):
                    self.progress.add(event)
                    self._progress_changed = True
            self._line.clear()
            start = end + 1

    def take(self, now: float, final: bool = False) -> dict[str, Any] | None:
        """The next item of a ship_output batch, or None when there is nothing to send."""
        item: dict[str, Any] = {"task_id": self.task_id, "attempt": self.attempt, "offset": self.offset}
        if self.pending or self.left_out:
            text = self._decoder.decode(bytes(self.pending), final=final)
            if self.left_out:
                text = (f"[pgswarm: {self.left_out} bytes of output not shipped live here; the worker's "
                        f"log file has them]\n{text}")
            text = storable_text(text)  # NUL and lone surrogates (worker/storable.py)
            if text:
                item["chunk"] = text
            # Offsets count the text shipped (what readers of swarm.task_output see), so a
            # reader's cursor in bytes stays right across left-out stretches and markers.
            self.offset += len(text.encode())
            self.pending.clear()
            self.left_out = 0
        if self._progress_changed and (final or now - self._progress_sent_at >= PROGRESS_SECONDS):
            item["progress"] = storable(self.progress.to_json())
            self._progress_changed = False
            self._progress_sent_at = now
        return item if len(item) > 3 else None

    @property
    def progress_pending(self) -> bool:
        return self._progress_changed

    def restore(self, item: dict[str, Any]) -> None:
        """An item whose call failed goes back in front of what came since (bounded by the next write)."""
        if "chunk" in item:
            self.pending[:0] = item["chunk"].encode()
            self.offset = item["offset"]
            self._decoder.reset()  # a character split at the end of the failed chunk is lost
        if "progress" in item:
            self._progress_changed = True


class OutputShipper:
    """The duty that ships every running attempt's output (one call for all of them)."""

    def __init__(self, db: ShipsOutput, interval: float = FLUSH_SECONDS) -> None:
        self.db = db
        self.interval = interval
        self.streams: dict[tuple[int, int], OutputStream] = {}
        self._lock = asyncio.Lock()
        self._warned = False

    def open(self, task_id: int, attempt: int) -> OutputStream:
        stream = self.streams[(task_id, attempt)] = OutputStream(task_id, attempt)
        return stream

    async def run(self) -> None:
        """Forever: ship, sleep FLUSH_SECONDS. A failed call is logged (once per outage) and the
        output waits in the streams' bounded buffers for the next one."""
        while True:
            await asyncio.sleep(self.interval)
            await self.ship()

    async def ship(self, only: OutputStream | None = None) -> bool:
        """One call for what the streams (or `only` that one) hold; False when it failed (the
        text then waits in the streams for the next call)."""
        async with self._lock:
            now = time.monotonic()
            streams = [only] if only is not None else list(self.streams.values())
            taken = [(stream, item) for stream in streams
                     if (item := stream.take(now, final=stream.closed)) is not None]
            if not taken:
                return True
            try:
                await self.db.ship_output([item for _, item in taken])
            except Exception as exc:  # the database away, or refusing: the attempts go on regardless
                for stream, item in taken:
                    stream.restore(item)
                if not self._warned:
                    log.warning("live output not shipped (%s: %s); attempts go on, their log files have the "
                                "output", type(exc).__name__, exc)
                    self._warned = True
                return False
            self._warned = False
            return True

    async def finish(self, stream: OutputStream, timeout: float = FINISH_SECONDS) -> None:
        """The attempt's process is gone: ship what is left before its report ends the attempt
        (a report makes later chunks stale). With the database away, wait for it to come back
        (the report waits for it too) for at most `timeout`. An attempt that shipped nothing yet
        and has no progress to tell (a short task) makes no call: its report's output tail is
        what readers get."""
        stream.closed = True
        try:
            if stream.offset == 0 and not stream.progress_pending:
                return
            deadline = time.monotonic() + timeout
            while not await self.ship(only=stream):
                left = deadline - time.monotonic()
                if left <= 0 or self.db.connected.is_set():
                    return  # out of time, or refused by a database that is there: give up
                try:
                    await asyncio.wait_for(self.db.connected.wait(), left)
                except asyncio.TimeoutError:
                    return
        finally:
            self.streams.pop((stream.task_id, stream.attempt), None)
