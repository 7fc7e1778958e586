"""A real HA cluster on loopback: one etcd and two Patroni-managed PostgreSQL 15 nodes.

Patroni (Debian's `patroni`, installed by scripts/install-ha.sh) runs each node with
`synchronous_mode: true`, so a commit is acknowledged only once the synchronous standby has it.
PostgreSQL refuses to run as root: as in tests/pgserver.py, Patroni and its postgres run as an
unprivileged OS user when the tests run as root. Everything lives in one temp directory and is
stopped on `stop()`.

Used by tests/ha/test_failover.py; also runnable by hand:

    python -m tests.ha.cluster      # start, print the DSN, wait for Ctrl-C
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

from pgswarm.client.embedded import ensure_system_user, make_traversable
from tests.helpers.processes import stop_process
from tests.helpers.workers import T, wait_for
from tests.pgserver import SERVER_USER

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
SCOPE = "pgswarm-ha"


class ClusterError(RuntimeError):
    pass


def ha_available() -> str | None:
    """None when the cluster can run here, else why not (for pytest.skip)."""
    for tool in ("patroni", "patronictl", "etcd"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (run scripts/install-ha.sh)"
    if not (PG15_BIN / "postgres").exists():
        return f"PostgreSQL 15 binaries not found in {PG15_BIN}"
    return None


def _wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.2,
                diagnostics: Callable[[], str] | None = None) -> T:
    return wait_for(condition, timeout, what, interval, diagnostics, error=ClusterError)


@dataclass
class Node:
    name: str
    basedir: Path
    pg_port: int
    api_port: int
    process: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.basedir / "patroni.yml"

    @property
    def datadir(self) -> Path:
        return self.basedir / "data"

    @property
    def logfile(self) -> Path:
        return self.basedir / "patroni.log"

    def status(self) -> dict | None:
        """Patroni's own view of this node (GET /patroni), None when its API does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/patroni", timeout=1) as resp:
                return json.loads(resp.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None


@dataclass
class PatroniCluster:
    basedir: Path
    nodes: list[Node]
    etcd_client_port: int
    etcd_peer_port: int
    etcd: subprocess.Popen | None = None
    dbname: str = "swarm"
    last_patronictl_error: str = ""

    # -- addresses -----------------------------------------------------------------------------
    def dsn(self, dbname: str | None = None) -> str:
        """Multi-host DSN that follows the primary (libpq and asyncpg both understand it)."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return f"postgresql://postgres@{hosts}/{dbname or self.dbname}?target_session_attrs=read-write"

    def node_dsn(self, node: Node, dbname: str | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{node.pg_port}/{dbname or self.dbname}"

    # -- lifecycle -----------------------------------------------------------------------------
    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        user = ensure_system_user(SERVER_USER)
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}

    def start(self, timeout: float = 120) -> None:
        self._start_etcd()
        for node in self.nodes:
            self._write_config(node)
        for node in self.nodes:
            self.start_node(node)
        self.wait_for_leader(timeout)
        self.wait_for_sync_standby(timeout)
        leader = self.leader()
        with psycopg.connect(self.node_dsn(leader, "postgres"), autocommit=True) as conn:
            conn.execute(f"create database {self.dbname}")

    def _start_etcd(self) -> None:
        etcd_dir = self.basedir / "etcd"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        client = f"http://127.0.0.1:{self.etcd_client_port}"
        log = open(self.basedir / "etcd.log", "ab")
        self.etcd = subprocess.Popen(
            ["etcd", "--name", "ha", "--data-dir", str(etcd_dir),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"ha={peer}", "--initial-cluster-state", "new"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

        def healthy() -> bool:
            if self.etcd.poll() is not None:
                raise ClusterError(f"etcd exited:\n{(self.basedir / 'etcd.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=1) as resp:
                    return json.loads(resp.read()).get("health") == "true"
            except (urllib.error.URLError, OSError, ValueError):
                return False

        _wait_until(healthy, 30, "etcd to become healthy")

    def _write_config(self, node: Node) -> None:
        node.basedir.mkdir(parents=True, exist_ok=True)
        config = {
            "scope": SCOPE,
            "name": node.name,
            "log": {"level": "WARNING"},
            "restapi": {"listen": f"127.0.0.1:{node.api_port}", "connect_address": f"127.0.0.1:{node.api_port}"},
            "etcd3": {"hosts": [f"127.0.0.1:{self.etcd_client_port}"]},
            "bootstrap": {
                "dcs": {
                    # Short timings so a failover takes seconds: the leader key lives `ttl` seconds.
                    "ttl": 10,
                    "loop_wait": 1,
                    "retry_timeout": 4,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": True,
                    "postgresql": {
                        "use_pg_rewind": True,
                        # a killed primary rejoins as a standby: rewind, or re-clone if that fails
                        "remove_data_directory_on_rewind_failure": True,
                        "remove_data_directory_on_diverged_timelines": True,
                        "use_slots": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "wal_log_hints": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "max_connections": 200,
                            "fsync": "off",  # postgres crashes lose nothing with fsync off; only OS crashes would
                            "full_page_writes": "off",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, "data-checksums", {"auth": "trust"}],
                "pg_hba": [
                    "local all all trust",
                    "host replication all 127.0.0.1/32 trust",
                    "host all all 127.0.0.1/32 trust",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(node.datadir),
                "bin_dir": str(PG15_BIN),
                "pgpass": str(node.basedir / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": "postgres"},
                    "replication": {"username": "replicator", "password": "replicator"},
                    "rewind": {"username": "postgres", "password": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(node.basedir)},
            },
            "watchdog": {"mode": "off"},
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
        }
        node.config_path.write_text(yaml.safe_dump(config))
        run_as = self._run_as()
        if run_as:
            make_traversable(node.basedir)
            for path in [node.basedir, *node.basedir.iterdir()]:
                os.chown(path, run_as["user"], run_as["group"])

    def start_node(self, node: Node) -> None:
        log = open(node.logfile, "ab")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(node.basedir), "LANG": "C.UTF-8"}
        node.process = subprocess.Popen(["patroni", str(node.config_path)], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True, env=env,
                                        **self._run_as())

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.send_signal(signal.SIGTERM)  # patroni stops its postgres, then exits
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(30)
                except subprocess.TimeoutExpired:
                    self._kill_node_processes(node)
        for node in self.nodes:
            pid = node.postmaster_pid()
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL)
        stop_process(self.etcd, grace=10)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.basedir, ignore_errors=True)

    # -- views ---------------------------------------------------------------------------------
    def members(self) -> list[dict]:
        """`patronictl list` as JSON: Member, Role (Leader / Sync Standby / Replica), State, TL."""
        out = subprocess.run(["patronictl", "-c", str(self.nodes[0].config_path), "list", "-f", "json"],
                             capture_output=True, text=True, timeout=30)
        try:
            if out.returncode == 0:
                return json.loads(out.stdout)
        except ValueError:
            pass
        self.last_patronictl_error = f"patronictl list: rc={out.returncode}\n{out.stdout[-1000:]}{out.stderr[-2000:]}"
        return []

    def diagnostics(self) -> str:
        """What a failed wait shows: the members, the last patronictl error, each node's log tail."""
        parts = [f"members: {self.members()}", self.last_patronictl_error]
        for node in self.nodes:
            try:
                tail = node.logfile.read_text(errors="replace")[-2500:]
            except OSError:
                tail = "(no log)"
            parts.append(f"--- {node.name} status={node.status()}\n{self.server_state(node)}\n{tail}")
        return "\n".join(parts)

    def server_state(self, node: Node) -> str:
        """What the node's PostgreSQL says of itself: role, synchronous standbys, what sessions wait on."""
        try:
            with psycopg.connect(self.node_dsn(node, "postgres"), connect_timeout=2, autocommit=True) as conn:
                conn.execute("set statement_timeout = '2s'")
                recovery, sync_names = conn.execute(
                    "select pg_is_in_recovery(), current_setting('synchronous_standby_names')").fetchone()
                waits = conn.execute(
                    "select coalesce(wait_event_type || ':' || wait_event, state), count(*) from pg_stat_activity "
                    "where backend_type = 'client backend' and pid <> pg_backend_pid() group by 1 order by 2 desc"
                ).fetchall()
                replication = conn.execute("select application_name, state, sync_state from pg_stat_replication"
                                           ).fetchall()
        except psycopg.Error as error:
            return f"postgres: unreachable ({str(error).strip()[:200]})"
        return (f"postgres: in_recovery={recovery} synchronous_standby_names={sync_names!r} "
                f"replication={replication} client sessions by wait={waits}")

    def leader(self) -> Node | None:
        for node in self.nodes:
            status = node.status()
            if status and status.get("role") in ("master", "primary") and status.get("state") == "running":
                return node
        return None

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def wait_for_leader(self, timeout: float = 90, not_name: str | None = None) -> Node:
        """Wait for a running primary that accepts writes (and is not `not_name`)."""

        def writable_leader() -> Node | None:
            leader = self.leader()
            if leader is None or leader.name == not_name:
                return None
            try:
                with psycopg.connect(self.node_dsn(leader, "postgres"), connect_timeout=2) as conn:
                    if conn.execute("select not pg_is_in_recovery()").fetchone()[0]:
                        return leader
            except psycopg.OperationalError:
                return None
            return None

        return _wait_until(writable_leader, timeout, "a writable leader" + (f" other than {not_name}" if not_name else ""),
                           diagnostics=self.diagnostics)

    def wait_for_sync_standby(self, timeout: float = 90) -> str:
        def sync_member() -> str | None:
            for member in self.members():
                if member.get("Role") == "Sync Standby" and member.get("State") in ("running", "streaming"):
                    return member["Member"]
            return None

        return _wait_until(sync_member, timeout, "a synchronous standby", interval=0.5,
                           diagnostics=self.diagnostics)

    # -- faults --------------------------------------------------------------------------------
    def switchover(self, timeout: float = 90) -> Node:
        """Planned switchover with `patronictl switchover`; returns the new leader."""
        old = self.wait_for_leader(timeout)
        candidate = self.wait_for_sync_standby(timeout)
        out = subprocess.run(["patronictl", "-c", str(old.config_path), "switchover", "--leader", old.name,
                              "--candidate", candidate, "--force"], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise ClusterError(f"patronictl switchover failed: {out.stdout}{out.stderr}")
        return self.wait_for_leader(timeout, not_name=old.name)

    def fail_over(self, timeout: float = 120) -> tuple[Node, Node]:
        """The primary's machine dies: kill -9 its Patroni and its postmaster. The synchronous
        standby takes over once the leader key expires (ttl). Returns (dead node, new leader)."""
        old = self.wait_for_leader(timeout)
        self.wait_for_sync_standby(timeout)
        self._kill_node_processes(old)
        new = self.wait_for_leader(timeout, not_name=old.name)
        return old, new

    def freeze(self, node: Node) -> list[int]:
        """The node's machine hangs (or is cut off): SIGSTOP its Patroni, its postmaster and every
        backend. TCP connections to it stay open and unanswered. Returns the stopped pids (for thaw)."""
        stopped = []
        for pid in node_processes(node):
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:  # a backend that ended since the listing
                continue
            stopped.append(pid)
        return stopped

    def thaw(self, pids: list[int]) -> None:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def fence(self, node: Node, frozen: list[int]) -> None:
        """Power off a hung node (what STONITH does): SIGKILL its frozen processes, then the rest."""
        for pid in frozen:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._kill_node_processes(node)

    def rejoin(self, node: Node, timeout: float = 120) -> None:
        """Start a killed node's Patroni again; it rejoins as a (synchronous) standby."""
        self.start_node(node)
        _wait_until(lambda: (node.status() or {}).get("role") == "replica"
                    and (node.status() or {}).get("state") == "running", timeout, f"{node.name} to rejoin")

    def _kill_node_processes(self, node: Node) -> None:
        postmaster = node.postmaster_pid()
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGKILL)  # patroni and anything in its session
            node.process.wait()
        if postmaster is not None and _alive(postmaster):
            os.kill(postmaster, signal.SIGKILL)
        # postgres backends die with the postmaster's death pipe; wait so the port is free
        _wait_until(lambda: postmaster is None or not _alive(postmaster), 30, f"{node.name}'s postmaster to exit")


def node_processes(node: Node) -> list[int]:
    """Patroni's process, its postmaster and the postmaster's children (backends, walsender...)."""
    postmaster = node.postmaster_pid()
    patroni = node.process.pid if node.process is not None and node.process.poll() is None else None
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        pid, ppid, session = int(entry.name), int(fields[1]), int(fields[3])
        if pid in (patroni, postmaster) or (postmaster and ppid == postmaster) or (patroni and session == patroni):
            found.append(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (all sockets held open until every port is chosen)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_cluster(node_count: int = 2, timeout: float = 120) -> PatroniCluster:
    basedir = Path(tempfile.mkdtemp(prefix="pgswarm-ha-"))
    ports = _free_ports(2 + 2 * node_count)
    nodes = [Node(name=f"node{i + 1}", basedir=basedir / f"node{i + 1}", pg_port=ports[2 + 2 * i],
                  api_port=ports[3 + 2 * i]) for i in range(node_count)]
    cluster = PatroniCluster(basedir=basedir, nodes=nodes, etcd_client_port=ports[0], etcd_peer_port=ports[1])
    try:
        cluster.start(timeout)
    except BaseException:
        cluster.destroy()
        raise
    return cluster


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops the cluster too
    started = start_cluster()
    print(started.dsn(), flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        started.destroy()
