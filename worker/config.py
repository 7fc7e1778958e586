"""A worker's settings, as `pgswarm worker` options give them; checked once, at start."""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import platformdirs

from .errors import UsageError

MiB = 1024 * 1024
# An --allow-arg entry: NAME (every value of the argument) or NAME=VALUE (that value).
ALLOW_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(=.+)?")


def check_allow_args(entries: list[str] | tuple[str, ...], where: str) -> tuple[str, ...]:
    """The arg policy's entries, each NAME or NAME=VALUE; UsageError naming `where` otherwise."""
    for entry in entries:
        if not isinstance(entry, str) or not ALLOW_ARG.fullmatch(entry):
            raise UsageError(f"{where} {entry!r} must be NAME or NAME=VALUE "
                             "(e.g. permission_mode=bypassPermissions, or add_dirs for any directory)")
    return tuple(dict.fromkeys(entries))


@dataclass
class WorkerConfig:
    dsn: str
    name: str | None = None
    # The login agents get as PGSWARM_DSN (role swarm_agent); never the worker's own DSN.
    agent_dsn: str | None = None
    agents: list[str] | None = None  # None: every agent this worker has a profile for
    queues: list[str] | None = None  # None: every queue
    concurrency: int = 4
    allow_shell: bool = False
    # The arg policy: argument values that widen what an agent may do, allowed by the operator
    # (--allow-arg, [policy] allow_args); tasks needing others are left for other workers.
    allow_args: tuple[str, ...] = ()
    config_file: Path | None = None
    lease_seconds: int = 60
    poll_interval: float = 5.0
    shutdown_grace: float = 30.0
    log_dir: Path | None = None
    log_max_bytes: int = 10 * MiB
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    reap_interval: float = 15.0
    # Grace between the stop signals of an attempt (timeout, cancel, lost lease), before SIGKILL.
    kill_grace: float = 5.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1 (got {self.concurrency})")
        if self.lease_seconds < 3:
            raise UsageError(f"--lease-seconds must be at least 3 (got {self.lease_seconds})")
        for option, value in (("--poll-interval", self.poll_interval), ("--reap-interval", self.reap_interval)):
            if value <= 0:
                raise UsageError(f"{option} must be positive (got {value})")
        if self.shutdown_grace < 0 or self.kill_grace < 0:
            raise UsageError("--shutdown-grace and the kill grace cannot be negative")
        if self.log_max_bytes < 4096:
            raise UsageError(f"the log size cap must be at least 4096 bytes (got {self.log_max_bytes})")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise UsageError(f"--metrics-port must be 0-65535 (got {self.metrics_port})")
        if not self.metrics_host.strip():
            raise UsageError("--metrics-host must not be empty (127.0.0.1, or 0.0.0.0 for every interface)")
        self.allow_args = check_allow_args(self.allow_args, "--allow-arg")
        if self.agents is not None and not self.agents:
            raise UsageError("--agents is empty; name at least one agent or leave it out")

    @property
    def worker_name(self) -> str:
        return self.name or f"{socket.gethostname()}-{os.getpid()}"

    @cached_property
    def logs(self) -> Path:
        configured = self.log_dir or os.environ.get("PGSWARM_LOG_DIR")
        return Path(configured) if configured else Path(platformdirs.user_state_dir("pgswarm")) / "logs"
