"""Running one attempt's process: spawn, capture its output, stop it, and leave nothing behind.

- The process gets its own session and process group, stdin from /dev/null, and one pipe for
  stdout and stderr that the worker copies to the attempt's log file with a size cap (the head
  up to the cap, then a marker, then the last TAIL_BYTES), so a runaway writer cannot fill the disk.
- Its environment is an allowlist of the worker's plus what the profile and the worker add; it
  carries PGSWARM_RUN_TOKEN, unique per attempt, so descendants that left the group with setsid
  (claude's Bash tool does) are still found and killed by the sweep.
- Exit is observed through a pidfd, so waiting costs no thread.
- Started with posix_spawn (vfork-like, half the worker's CPU of subprocess.Popen per start),
  except when the attempt needs a working directory, which posix_spawn cannot set: then Popen.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import fnmatch
import functools
import logging
import os
import select
import shutil
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

TAIL_BYTES = 256 * 1024
READ_CHUNK = 64 * 1024
RUN_TOKEN_VAR = "PGSWARM_RUN_TOKEN"
# Variables every agent needs whatever its profile says; the profile's allowlist adds to these.
BASE_ENV_ALLOWLIST = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_*", "TZ", "TERM", "TMPDIR",
                      "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "http_proxy", "https_proxy",
                      "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
# Set by Claude Code in its own children; an agent spawned from inside a Claude session must not
# think it is nested in one.
REMOVED_ENV = ("CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT")
# The worker's own database login: never passed on, whatever a profile's allowlist says.
DSN_ENV = ("PGSWARM_DSN", "DATABASE_URL", "PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGSERVICE", "PGUSER",
           "PGSWARM_AGENT_DSN")
# Linux refuses a single argv element longer than this (MAX_ARG_STRLEN = 32 pages).
MAX_ARG_BYTES = 128 * 1024
# Python ignores these in itself; an agent must start with their default action, as Popen's
# restore_signals gives it. (glibc's posix_spawn leaves its two internal signals, 32 and 33,
# ignored in the child; programs linked with glibc install their own handlers for them.)
RESET_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)


def keep_inherited_ignores_out_of_agents() -> None:
    """Signals the worker was started with ignored (`nohup` ignores SIGHUP) stay ignored by the
    worker but not by its agents: an ignored disposition survives exec, a handler does not.
    Call from the main thread before the first spawn."""
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP) or sig in RESET_SIGNALS:
            continue
        with contextlib.suppress(OSError, ValueError):
            if signal.getsignal(sig) == signal.SIG_IGN:
                signal.signal(sig, _ignore)


def _ignore(signum: int, frame: object) -> None:
    """The worker's handler for signals it was started with ignored: still nothing happens."""


def argv_problem(argv: list[str]) -> str | None:
    """Why the kernel would refuse this argv, or None."""
    for index, element in enumerate(argv):
        size = len(element.encode("utf-8", "surrogateescape")) + 1
        if size > MAX_ARG_BYTES:
            what = "the prompt" if index == len(argv) - 1 or index > 0 else f"argument {index}"
            return (f"{what} is {size - 1} bytes; Linux limits one command-line argument to {MAX_ARG_BYTES - 1} "
                    f"bytes (MAX_ARG_STRLEN): shorten it or pass the text in a file named in the prompt")
    return None


def build_env(allowlist: Iterable[str], extra: Mapping[str, str], source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allowlisted variables of `source` (default os.environ), then `extra`, minus REMOVED_ENV."""
    source = os.environ if source is None else source
    patterns = [*BASE_ENV_ALLOWLIST, *allowlist]
    exact = {p for p in patterns if "*" not in p}
    globs = [p for p in patterns if "*" in p]
    env = {k: v for k, v in source.items() if k in exact or any(fnmatch.fnmatchcase(k, g) for g in globs)}
    env.update(extra)
    for name in REMOVED_ENV:
        env.pop(name, None)
    return env


def make_private_dir(path: Path) -> None:
    """The log directory, readable by the worker's user only (agent output holds code, prompts and
    whatever an agent printed): made 700, and tightened to 700 when it exists and is the user's."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def open_attempt_file(path: Path) -> BinaryIO:
    """Open a new file of an attempt (unbuffered, mode 600) in the worker's log directory. The
    directory is made once, at start, not per attempt; if it went away meanwhile, it is made again."""
    try:
        return open(path, "wb", buffering=0, opener=_private)
    except FileNotFoundError:
        make_private_dir(path.parent)
        return open(path, "wb", buffering=0, opener=_private)


class CappedLog:
    """A log file that keeps its first `cap` bytes and, past that, only the last TAIL_BYTES.
    The last TAIL_BYTES of the output also stay in memory, so reading the tail at the end of an
    attempt never goes back to the file."""

    def __init__(self, path: Path, cap: int, listener: Callable[[bytes], None] | None = None) -> None:
        self.path = path
        self.cap = cap
        self.listener = listener  # sees every read too (the live output stream)
        self.written = 0  # bytes in the file's head
        self.past_cap = 0  # bytes that came after the head
        self._recent: deque[bytes] = deque()  # at least the last TAIL_BYTES of the output
        self._recent_size = 0
        self._file = open_attempt_file(path)

    def write(self, data: bytes) -> None:
        if self.listener is not None:
            try:
                self.listener(data)
            except Exception:  # the live view is a copy: it must never lose the log or the process
                logging.getLogger("pgswarm.worker").exception("live output listener failed; live output off")
                self.listener = None
        self._recent.append(data)
        self._recent_size += len(data)
        while self._recent_size - len(self._recent[0]) >= TAIL_BYTES:
            self._recent_size -= len(self._recent.popleft())
        room = self.cap - self.written
        if room > 0:
            head, data = data[:room], data[room:]
            self._file.write(head)
            self.written += len(head)
        self.past_cap += len(data)

    def close(self) -> None:
        if self.past_cap:
            tail = self.last_bytes(min(self.past_cap, TAIL_BYTES))
            skipped = self.past_cap - len(tail)
            if skipped > 0:
                self._file.write(f"\n[pgswarm: {skipped} bytes of output dropped here; "
                                 f"the log keeps the first {self.cap} bytes and the last {len(tail)}]\n".encode())
            self._file.write(tail)
        self._file.close()

    def last_bytes(self, limit: int) -> bytes:
        """The last `limit` bytes of output (at most TAIL_BYTES)."""
        if not self._recent:
            return b""
        if len(self._recent) > 1:
            self._recent = deque([b"".join(self._recent)])
        return self._recent[0][-limit:]


@dataclass
class AgentProcess:
    """One running process and its output."""

    argv: list[str]
    pid: int
    reap: Callable[[], int]  # collects the exited process; its exit code (-N: killed by signal N)
    log: CappedLog
    token: str
    started: float = field(default_factory=time.monotonic)
    # Watchdogs (attempt.py): when the process last printed, and when it printed the profile's
    # final-result marker (None: not yet, or the profile has none).
    last_output: float = field(default_factory=time.monotonic)
    result_marker: bytes | None = None
    result_seen: float | None = None
    _marker_carry: bytes = b""
    # Resolved with the exit code once the process has exited and its output is in the log.
    exited: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    _pidfd: int | None = None
    _pipe: int | None = None

    async def wait(self) -> int:
        return await asyncio.shield(self.exited)

    @property
    def running(self) -> bool:
        return not self.exited.done()

    def output_tail(self, limit: int) -> str:
        return self.log.last_bytes(limit).decode("utf-8", "replace")


async def spawn(argv: list[str], *, env: dict[str, str], cwd: Path | None, log_path: Path, log_cap: int,
                token: str, result_marker: bytes | None = None,
                on_output: Callable[[bytes], None] | None = None, stdin_path: Path | None = None) -> AgentProcess:
    """Start argv in a new session (its own process group) with stdin from /dev/null, or read
    from stdin_path (a prompt too big for one argument: a file, so no writer can block); on_output
    sees every read of its output."""
    loop = asyncio.get_running_loop()
    stdin_fd = os.open(stdin_path, os.O_RDONLY | os.O_CLOEXEC) if stdin_path is not None else None
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    log = CappedLog(log_path, log_cap, on_output)
    env = {**env, RUN_TOKEN_VAR: token}
    try:
        if cwd is None:
            pid = os.posix_spawn(_executable(argv[0], env.get("PATH")), argv, env, setsid=True,
                                 setsigdef=RESET_SIGNALS,
                                 file_actions=[(os.POSIX_SPAWN_DUP2, _devnull() if stdin_fd is None else stdin_fd, 0),
                                               (os.POSIX_SPAWN_DUP2, write_fd, 1), (os.POSIX_SPAWN_DUP2, write_fd, 2)])
            reap: Callable[[], int] = lambda: os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        else:
            stdin = subprocess.DEVNULL if stdin_fd is None else stdin_fd
            process = subprocess.Popen(argv, stdin=stdin, stdout=write_fd, stderr=write_fd, cwd=cwd,
                                       env=env, start_new_session=True, close_fds=True)
            pid, reap = process.pid, process.wait
    except BaseException:
        os.close(read_fd)
        log.close()
        raise
    finally:
        os.close(write_fd)
        if stdin_fd is not None:
            os.close(stdin_fd)
    os.set_blocking(read_fd, False)
    child = AgentProcess(argv=argv, pid=pid, reap=reap, log=log, token=token, _pipe=read_fd,
                         result_marker=result_marker)
    loop.add_reader(read_fd, _drain, child)
    child._pidfd = os.pidfd_open(pid)
    loop.add_reader(child._pidfd, _on_exit, child)
    return child


_devnull_fd: int | None = None


def _executable(name: str, path: str | None) -> str:
    """argv[0] looked up in the attempt's PATH, as Popen does (posix_spawnp would search the
    worker's own PATH)."""
    if "/" in name:
        return name
    found = shutil.which(name, path=path if path is not None else os.defpath)
    if found is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)
    return found


def _devnull() -> int:
    """/dev/null, opened once (close-on-exec: the children get it only as their stdin)."""
    global _devnull_fd
    if _devnull_fd is None:
        _mark_inherited_fds_close_on_exec()
        _devnull_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    return _devnull_fd


def _mark_inherited_fds_close_on_exec() -> None:
    """posix_spawn does not close other descriptors as Popen(close_fds=True) does. Python opens
    its own close-on-exec; this covers any the worker itself inherited past stderr."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):
                os.set_inheritable(fd, False)


def _drain(child: AgentProcess) -> None:
    """Copy what the pipe holds to the log; close it at EOF."""
    fd = child._pipe
    if fd is None:
        return
    while True:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            _close_pipe(child)
            return
        child.log.write(data)
        child.last_output = time.monotonic()
        if child.result_marker is not None and child.result_seen is None:
            _look_for_result(child, data)


def _look_for_result(child: AgentProcess, data: bytes) -> None:
    """Note when the final-result marker goes by (it may straddle two reads)."""
    marker = child.result_marker
    assert marker is not None
    if marker in child._marker_carry + data[:len(marker)] or marker in data:
        child.result_seen = time.monotonic()
    child._marker_carry = data[-(len(marker) - 1):] if len(marker) > 1 else b""


def _close_pipe(child: AgentProcess) -> None:
    if child._pipe is not None:
        asyncio.get_running_loop().remove_reader(child._pipe)
        os.close(child._pipe)
        child._pipe = None


def _on_exit(child: AgentProcess) -> None:
    loop = asyncio.get_running_loop()
    assert child._pidfd is not None
    loop.remove_reader(child._pidfd)
    os.close(child._pidfd)
    child._pidfd = None
    exit_code = child.reap()
    # What the process wrote before exiting is in the pipe; a descendant that still holds the
    # pipe open (a daemon it left behind) must not keep the attempt from ending.
    _drain(child)
    _close_pipe(child)
    child.log.close()
    child.exited.set_result(exit_code)


def collect_if_exited(child: AgentProcess) -> bool:
    """Whether the process has exited, collecting it now if the loop has not yet read its exit
    (after the worker was suspended, a stop request and an earlier exit arrive together)."""
    if child.running and child._pidfd is not None and select.select([child._pidfd], [], [], 0)[0]:
        _on_exit(child)
    return not child.running


def signal_group(child: AgentProcess, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


async def stop(child: AgentProcess, signals: Iterable[signal.Signals], grace: float) -> None:
    """Send each signal to the process group, waiting `grace` after each, then SIGKILL the group
    and sweep descendants that escaped it."""
    for sig in signals:
        if not child.running:
            break
        signal_group(child, sig)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(child.wait(), grace)
    signal_group(child, signal.SIGKILL)
    sweep({child.token}, also_group=child.pid)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(child.wait(), 10)


def _run_tokens() -> dict[int, str]:
    """The PGSWARM_RUN_TOKEN of every live process that carries one (pid -> token). One pass over
    /proc whatever the number of tokens looked for: a busy worker has tens of thousands on its
    sweep list."""
    found = {}
    me = os.getpid()
    marker = f"\0{RUN_TOKEN_VAR}=".encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                environ = b"\0" + f.read()
        except OSError:
            continue
        at = environ.find(marker)
        if at >= 0:
            start = at + len(marker)
            stop = environ.find(b"\0", start)
            found[int(entry.name)] = environ[start:stop if stop >= 0 else len(environ)].decode(errors="replace")
    return found


def _kill_all(pids: list[int]) -> int:
    count = 0
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            count += 1
    return count


def sweep(tokens: set[str], also_group: int | None = None) -> int:
    """SIGKILL every process left over from these attempts (their group and any escapee carrying
    their token). Returns how many processes were signalled."""
    if also_group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(also_group, signal.SIGKILL)
    return _kill_all([pid for pid, token in _run_tokens().items() if token in tokens])


def incarnation(pid: int | None = None) -> str | None:
    """A process as '<pid>@<start time in clock ticks since boot>': unlike a pid alone, never
    reused. None when no such process is running."""
    pid = os.getpid() if pid is None else pid
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(b")", 1)[1].split()  # from field 3, state
    if fields[0] in (b"Z", b"X"):
        return None  # exited, not yet reaped
    return f"{pid}@{int(fields[19])}"  # field 22, starttime


def run_token(worker: str, task_id: int, child: int, counter: int) -> str:
    """The PGSWARM_RUN_TOKEN of an attempt this process starts: unique per start (a lost claim
    can rerun the same attempt number), and naming the worker process that started it."""
    return f"{worker}:{task_id}:{child}:{_own_incarnation()}:{counter}"


@functools.cache
def _own_incarnation() -> str | None:
    return incarnation()


def _started_by_a_dead_worker(token: str, worker: str) -> bool:
    if not token.startswith(f"{worker}:"):
        return False
    fields = token[len(worker) + 1:].split(":")  # task, attempt, incarnation, counter
    if len(fields) == 3:
        return True  # the format before incarnations: task, child, nonce-counter
    if len(fields) != 4:
        return False  # another worker's, whose name starts with this one's and a colon
    pid, _, _ = fields[2].partition("@")
    return not pid.isdigit() or incarnation(int(pid)) != fields[2]


def sweep_worker(worker: str) -> int:
    """SIGKILL what a previous incarnation of this worker (same name, killed with -9) left running:
    its attempts were or will be retried elsewhere after their leases expire. A live worker's
    processes are spared, even under the same name (two workers misconfigured with one --name,
    or two test sessions on one machine)."""
    return _kill_all([pid for pid, token in _run_tokens().items() if _started_by_a_dead_worker(token, worker)])
