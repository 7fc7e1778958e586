"""The worker's Prometheus metrics and the small HTTP endpoint that serves them (`--metrics-port`).

Counters by agent: claimed, completed, failed, released (uncounted: usage limits, EX_TEMPFAIL,
shutdown), cancelled, lost (lease taken over); gauge: running; histograms: attempt duration and
pickup latency (from when the task became claimable to the claim).
"""
from __future__ import annotations

import asyncio
import bisect
from collections import defaultdict

DURATION_BUCKETS = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200)
PICKUP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30)
COUNTERS = {
    "claimed": "Attempts this worker claimed.",
    "completed": "Attempts this worker reported completed.",
    "failed": "Attempts this worker reported failed (a retry may follow).",
    "released": "Tasks released without spending an attempt (usage limit, EX_TEMPFAIL, shutdown).",
    "cancelled": "Attempts stopped because the task was cancelled.",
    "lost": "Attempts whose lease another worker took over (not reported).",
}


class Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, labels: str) -> list[str]:
        out, cumulative = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.append(f'{name}_bucket{{{labels},le="{le}"}} {cumulative}')
        out.append(f"{name}_sum{{{labels}}} {self.total}")
        out.append(f"{name}_count{{{labels}}} {self.n}")
        return out


class Metrics:
    def __init__(self, worker: str) -> None:
        self.worker = worker
        self.counts: dict[tuple[str, str], int] = defaultdict(int)
        self.running: dict[str, int] = defaultdict(int)
        self.durations: dict[str, Histogram] = defaultdict(lambda: Histogram(DURATION_BUCKETS))
        self.pickups: dict[str, Histogram] = defaultdict(lambda: Histogram(PICKUP_BUCKETS))
        self._server: asyncio.AbstractServer | None = None

    def count(self, event: str, agent: str) -> None:
        self.counts[(event, agent)] += 1

    def render(self) -> str:
        worker = escape_label(self.worker)
        lines = []
        for event, help_text in COUNTERS.items():
            lines.append(f"# HELP pgswarm_tasks_{event}_total {help_text}")
            lines.append(f"# TYPE pgswarm_tasks_{event}_total counter")
            for (name, agent), value in sorted(self.counts.items()):
                if name == event:
                    lines.append(f'pgswarm_tasks_{event}_total{{worker="{worker}",agent="{escape_label(agent)}"}} {value}')
        lines.append("# HELP pgswarm_tasks_running Attempts this worker is running now.")
        lines.append("# TYPE pgswarm_tasks_running gauge")
        for agent, value in sorted(self.running.items()):
            lines.append(f'pgswarm_tasks_running{{worker="{worker}",agent="{escape_label(agent)}"}} {value}')
        for metric, histograms, help_text in (
                ("pgswarm_attempt_duration_seconds", self.durations, "Wall-clock time of this worker's attempts."),
                ("pgswarm_pickup_latency_seconds", self.pickups, "From claimable to claimed, for this worker's claims.")):
            lines.append(f"# HELP {metric} {help_text}")
            lines.append(f"# TYPE {metric} histogram")
            for agent, histogram in sorted(histograms.items()):
                lines.extend(histogram.lines(metric, f'worker="{worker}",agent="{escape_label(agent)}"'))
        return "\n".join(lines) + "\n"

    async def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve /metrics on host:port (port 0: any free port); returns the port. The default
        host is loopback: exposing the endpoint to the network is the operator's choice
        (--metrics-host 0.0.0.0)."""
        self._server = await asyncio.start_server(self._handle, host, port)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
            if path.split(b"?")[0] in (b"/metrics", b"/"):
                body, status = self.render().encode(), "200 OK"
            else:
                body, status = b"not found; try /metrics\n", "404 Not Found"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
