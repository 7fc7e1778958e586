"""The CLI as users run it: a subprocess, against the test server or the embedded default."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def ok(self) -> Result:
        assert self.returncode == 0, f"pgswarm {' '.join(self.args)} -> {self.returncode}\n{self.stderr}"
        return self


def run_pgswarm(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
                cwd: Path | None = None) -> Result:
    base = {k: v for k, v in os.environ.items()
            if k not in ("PGSWARM_DSN", "DATABASE_URL", "PGSWARM_HOME") and not k.startswith("PG")
            or k == "PGSWARM_TEST_PGBIN"}
    done = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", *args], capture_output=True, text=True,
                          env={**base, "COLUMNS": "200", **(env or {})}, timeout=timeout, cwd=cwd or REPO,
                          stdin=subprocess.DEVNULL)
    return Result(tuple(args), done.returncode, done.stdout, done.stderr)


def assert_user_error(result: Result, *fragments: str, code: int = 2) -> None:
    """Exit code 2 (by default), exactly one line on stderr naming the problem, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pgswarm: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


Cli = Callable[..., Result]


@pytest.fixture
def cli(dsn: str) -> Cli:
    """pgswarm with PGSWARM_DSN pointing at this test's database."""
    def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Result:
        return run_pgswarm(*args, env={"PGSWARM_DSN": dsn, **(env or {})}, timeout=timeout)
    return run


@contextlib.contextmanager
def server_user_folder(prefix: str) -> Iterator[Path]:
    """A temporary folder outside pytest's: the embedded server runs as another user when the tests
    run as root, and pytest makes /tmp/pytest-of-root private again whenever a session starts."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_home() -> Iterator[Path]:
    """A pgswarm home of its own (never the user's real data dir); its server is stopped at the end."""
    with server_user_folder("pgswarm-home-") as home:
        yield home
        stop_embedded({"PGSWARM_HOME": str(home)}, home / "postgres")


def stop_embedded(env: dict[str, str], data_dir: Path) -> None:
    """`pgswarm db stop`; should that fail, the postmaster gets SIGINT (fast shutdown): no server outlives the tests."""
    pid_file = data_dir / "postmaster.pid"
    pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    run_pgswarm("db", "stop", env=env, timeout=120)
    if pid is None:
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return  # stopped
    if str(data_dir).encode() in cmdline:  # still that server, not a reused pid
        os.kill(pid, signal.SIGINT)


@pytest.fixture
def home_cli(embedded_home: Path) -> Cli:
    """pgswarm with no DSN configured: the embedded default in a temporary home."""
    def run(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Result:
        return run_pgswarm(*args, env={"PGSWARM_HOME": str(embedded_home), **(env or {})}, timeout=timeout)
    return run
