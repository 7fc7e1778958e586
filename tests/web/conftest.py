"""`pgswarm web` as users run it: a real server process on a free port, against this test's
database; HTTP through httpx; tokens made with the engine's function."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.cli.conftest import REPO
from tests.helpers.processes import stop_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, scope: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[scope]}"} if scope else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        stop_process(self.process, signal.SIGINT, grace=20)


def make_token(dsn: str, scope: str, name: str | None = None) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return str(conn.execute("select swarm.create_web_token(%s, %s)", (name or f"test-{scope}", scope)).fetchone()[0])


def start_web(dsn: str, tmp_path: Path, *options: str) -> WebServer:
    port = free_port()
    log_path = tmp_path / f"web-{port}.log"
    env = {k: v for k, v in os.environ.items() if k not in ("PGSWARM_DSN", "DATABASE_URL")}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "pgswarm.cli.main", "web", "--port", str(port), *options],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO,
            env={**env, "PGSWARM_DSN": dsn})
    server = WebServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 60  # a loaded two-core machine imports slowly
    while True:
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"pgswarm web did not start (rc={process.poll()}):\n{server.log()}")
        time.sleep(0.1)


@pytest.fixture
def web(dsn: str, tmp_path: Path) -> Iterator[WebServer]:
    """A server with a token per scope (read, enqueue, admin)."""
    server = start_web(dsn, tmp_path)
    server.tokens = {scope: make_token(dsn, scope) for scope in ("read", "enqueue", "admin")}
    yield server
    server.stop()


@pytest.fixture
def web_factory(dsn: str, tmp_path: Path) -> Iterator[Callable[..., WebServer]]:
    started: list[WebServer] = []

    def start(*options: str) -> WebServer:
        server = start_web(dsn, tmp_path, *options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
