"""The worker's only door to the database: one asyncpg connection calling the swarm SQL API.

One connection per worker carries LISTEN (swarm_wake, swarm_cancel, and the worker's own wake-up
channel, swarm.wake_channel: an insert wakes only as many idle workers as it made tasks, see
sql/66_wake.sql) and every call; calls are
serialised by a lock (an asyncpg connection runs one query at a time). When the connection is
lost, calls raise DatabaseDown at once and a background task reconnects with backoff, LISTENs
again and tells the supervisor (`on_reconnect`), whose reporter then sends its held reports. If
that task itself fails (anything but the database being away), `on_fatal` is told: the worker
cannot go on without its connection.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from psycopg.conninfo import conninfo_to_dict

from .dsn import redact_dsn
from .errors import DatabaseDown, SchemaOutdated, UsageError, from_db_error
from .records import ClaimedTask

log = logging.getLogger("pgswarm.worker")

# Every worker hears swarm_wake (tasks claimable that no idle worker was woken for); swarm_ready
# is for other listeners (sql/80_notify.sql). Each worker also has a channel of its own.
READY_CHANNEL = "swarm_wake"
CANCEL_CHANNEL = "swarm_cancel"

# Errors that mean "the connection is gone or the server is not serving": hold and retry.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # connected to a standby after failover
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.InternalClientError,
)
# Errors of one statement that say nothing about the connection and pass when tried again
# (SQLSTATE class 40: serialization failure, deadlock): the call is held and retried like a
# call on a lost connection, but the connection stays.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (asyncpg.exceptions.TransactionRollbackError,)


@dataclass(frozen=True)
class Report:
    """The outcome of an attempt, reported with its fence (worker, attempt)."""

    accepted: bool
    status: str | None
    message: str | None


def asyncpg_connect_args(dsn: str) -> dict[str, Any]:
    """asyncpg.connect() keyword arguments for a libpq DSN (URL or key=value, multi-host too)."""
    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError: libpq cannot parse it
        raise UsageError(f"invalid DSN {redact_dsn(dsn)}: {exc}") from exc
    args: dict[str, Any] = {}
    hosts = [h for h in str(params.pop("host", "") or params.pop("hostaddr", "") or "").split(",") if h != ""]
    ports = [p for p in str(params.pop("port", "") or "").split(",") if p != ""]
    if hosts:
        args["host"] = hosts if len(hosts) > 1 else hosts[0]
    if ports:
        args["port"] = [int(p) for p in ports] if len(ports) > 1 else int(ports[0])
    for libpq_name, asyncpg_name in (("user", "user"), ("password", "password"), ("dbname", "database"),
                                     ("target_session_attrs", "target_session_attrs"),
                                     ("passfile", "passfile")):
        if params.get(libpq_name):
            args[asyncpg_name] = params.pop(libpq_name)
    if params.get("sslmode"):
        args["ssl"] = params.pop("sslmode")
    if params.get("connect_timeout"):
        args["timeout"] = float(params.pop("connect_timeout"))
    if params.get("application_name"):
        args["server_settings"] = {"application_name": params.pop("application_name")}
    return args


class Database:
    """The worker's connection and the SQL API calls it makes."""

    def __init__(self, dsn: str, worker: str, *, on_ready: Callable[[str], None],
                 on_cancel: Callable[[int], None], on_reconnect: Callable[[], Awaitable[None]],
                 on_fatal: Callable[[str], None] | None = None, required_schema: int | None = None,
                 call_timeout: float = 30.0) -> None:
        self.dsn = dsn
        # A call that has not answered by then means a frozen or partitioned server: drop the
        # connection and reconnect (possibly to a new primary) instead of waiting on TCP.
        self.call_timeout = call_timeout
        self.worker = worker
        self._connect_args = asyncpg_connect_args(dsn)
        self._connect_args.setdefault("timeout", 10.0)
        settings = self._connect_args.setdefault("server_settings", {})
        settings.setdefault("application_name", f"pgswarm-worker {worker}"[:63])
        self._on_ready = on_ready
        self._on_cancel = on_cancel
        self._on_reconnect = on_reconnect
        self._on_fatal = on_fatal
        self._required_schema = required_schema
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._reconnecting: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.closed = False

    # -- connection ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect once (raise DatabaseDown on failure), check the schema, LISTEN."""
        conn = await self._connect_any()
        try:
            if self._required_schema is not None:
                await conn.fetchval("select swarm.require_schema($1)", self._required_schema)
            await conn.add_listener(READY_CHANNEL, self._ready)
            await conn.add_listener(CANCEL_CHANNEL, self._cancel)
            await conn.add_listener(await conn.fetchval("select swarm.wake_channel($1)", self.worker), self._ready)
        except asyncpg.exceptions.UndefinedFunctionError as exc:  # no schema, or one older than require_schema
            await conn.close()
            raise SchemaOutdated("the database has no current pgswarm schema: run `pgswarm migrate`") from exc
        except asyncpg.PostgresError as exc:
            await conn.close()
            raise from_db_error(exc) or exc from exc
        except BaseException:
            await conn.close()
            raise
        conn.add_termination_listener(self._terminated)
        self._conn = conn
        self.connected.set()

    async def _connect_any(self) -> asyncpg.Connection:
        """Try each host of a multi-host DSN in turn, each with its own timeout (as libpq does;
        asyncpg spends one timeout on the whole list, so a frozen first host would hide the rest)."""
        hosts = self._connect_args.get("host")
        ports = self._connect_args.get("port")
        if not isinstance(hosts, list):
            candidates = [self._connect_args]
        else:
            port_list = ports if isinstance(ports, list) else [ports] * len(hosts)
            candidates = [{**self._connect_args, "host": h, "port": p} for h, p in zip(hosts, port_list)]
        failures = []
        for args in candidates:
            try:
                return await asyncpg.connect(**{k: v for k, v in args.items() if v is not None})
            except (*CONNECTION_ERRORS, asyncpg.exceptions.TargetServerAttributeNotMatched) as exc:
                failures.append(f"{args.get('host')}: {exc or type(exc).__name__}")
        raise DatabaseDown(f"cannot connect to {redact_dsn(self.dsn)}: {'; '.join(failures)}")

    async def close(self) -> None:
        self.closed = True
        if self._reconnecting:
            self._reconnecting.cancel()
        if self._conn is not None and not self._conn.is_closed():
            try:
                await asyncio.wait_for(self._conn.close(), 5)
            except Exception:  # closing a broken connection: nothing to save
                self._conn.terminate()
        self._conn = None
        self.connected.clear()

    def _ready(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._on_ready(payload)

    def _cancel(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            task_id = int(payload)
        except ValueError:
            log.warning("ignoring swarm_cancel notification with payload %r (not a task id)", payload)
            return
        self._on_cancel(task_id)

    def _terminated(self, _conn: object) -> None:
        self._lost()

    def _lost(self) -> None:
        if self.closed:
            return
        if self._conn is not None:
            self._conn.terminate()
        self._conn = None
        self.connected.clear()
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect_forever(),
                                                                        name="pgswarm-reconnect")
            self._reconnecting.add_done_callback(self._reconnect_ended)

    def _reconnect_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._on_fatal is None:
            return
        exc = task.exception()
        if exc is not None:
            self._on_fatal(f"reconnecting to the database failed: {type(exc).__name__}: {exc}")

    async def _reconnect_forever(self) -> None:
        delay = 0.2
        while not self.closed:
            try:
                await self.connect()
            except DatabaseDown as exc:
                log.warning("database unreachable, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 10.0)
                continue
            log.info("reconnected to the database")
            try:
                await self._on_reconnect()
            except DatabaseDown:
                continue
            return

    async def _call(self, method: str, query: str, *args: Any) -> Any:
        if self._conn is None:
            raise DatabaseDown("not connected")
        async with self._lock:
            conn = self._conn
            if conn is None:
                raise DatabaseDown("not connected")
            try:
                return await asyncio.wait_for(getattr(conn, method)(query, *args), self.call_timeout)
            except CONNECTION_ERRORS as exc:
                if conn is self._conn:
                    self._lost()
                raise DatabaseDown(str(exc) or type(exc).__name__) from exc
            except TRANSIENT_ERRORS as exc:
                raise DatabaseDown(f"{type(exc).__name__}: {exc}") from exc

    # -- the SQL API --------------------------------------------------------------------------

    async def register(self, hostname: str, pid: int, agents: list[str], queues: list[str] | None,
                       concurrency: int, version: str, allowed_args: tuple[str, ...] = ()) -> None:
        await self._call("execute", "select swarm.register_worker($1, $2, $3, $4, $5, $6, $7)",
                         self.worker, hostname, pid, agents, queues, concurrency, version)
        await self._call("execute", "select swarm.set_worker_allowed_args($1, $2)", self.worker, list(allowed_args))

    async def declare_task_args(self, agent: str, task_args: dict[str, Any] | None, like_agent: str | None) -> bool:
        return await self._call("fetchval", "select swarm.declare_task_args($1, $2::jsonb, $3)", agent,
                                None if task_args is None else json.dumps(task_args), like_agent)

    async def register_agent_key(self, key: bytes) -> None:
        """The key of this worker's attempts' task tokens (worker/capability.py). A worker name whose
        key another login registered is refused: a UsageError saying so."""
        try:
            await self._call("execute", "select swarm.register_agent_key($1, $2)", self.worker, key)
        except asyncpg.exceptions.InsufficientPrivilegeError as exc:
            raise UsageError(f"--name {self.worker}: {exc.args[0] if exc.args else exc}") from None

    async def set_quarantine(self, quarantined: dict[str, Any]) -> None:
        """Show which agents this worker stopped claiming (swarm.workers.quarantined)."""
        await self._call("execute", "select swarm.set_worker_quarantine($1, $2::jsonb)", self.worker,
                         json.dumps(quarantined))

    async def stop_worker(self) -> None:
        await self._call("execute", "select swarm.stop_worker($1)", self.worker)

    async def claim(self, agents: list[str], queues: list[str] | None, max_tasks: int, lease_seconds: int,
                    hostname: str, pid: int) -> list[ClaimedTask]:
        """Claims commit without waiting for the WAL flush (durable => false, sql/20_claim.sql): a
        claim lost in a crash only makes its task run again, and the pickup is shorter by a flush.
        A claim that leaves slots free puts the worker among the idle workers an insert wakes."""
        rows = await self._call(
            "fetch",
            "select id, agent, prompt, args, attempts, max_attempts, timeout_seconds, depends_on, run_after, "
            "created_at, started_at, queue, resume_session_id, lease_token "
            "from swarm.claim_or_wait(worker => $1, agents => $2, queues => $3, max_tasks => $4, "
            "lease_seconds => $5, hostname => $6, pid => $7, durable => false)",
            self.worker, agents, queues, max_tasks, lease_seconds, hostname, pid)
        return [_claimed(row) for row in rows]

    async def heartbeat(self, leases: dict[int, UUID | None], lease_seconds: int) -> list[asyncpg.Record]:
        """Renew the leases of running attempts, each given by task id and its lease token."""
        return await self._call(
            "fetch", "select task_id, owned, cancel_requested from swarm.heartbeat($1, $2, $3, $4::uuid[])",
            self.worker, list(leases), lease_seconds, list(leases.values()))

    async def complete(self, task_id: int, attempt: int, *, lease_token: UUID | None, result: dict[str, Any] | None,
                       exit_code: int | None, output_tail: str | None, log_path: str | None, cost_usd: float | None,
                       input_tokens: int | None, output_tokens: int | None, session_id: str | None = None) -> Report:
        row = await self._call(
            "fetchrow",
            "select accepted, status, message from swarm.complete_task(task_id => $1, worker => $2, attempt => $3, "
            "result => $4::jsonb, exit_code => $5, output_tail => $6, log_path => $7, cost_usd => $8, "
            "input_tokens => $9, output_tokens => $10, session_id => $11, lease_token => $12)",
            task_id, self.worker, attempt, _json(result), exit_code, output_tail, log_path, cost_usd,
            input_tokens, output_tokens, session_id, lease_token)
        return Report(row["accepted"], row["status"], row["message"])

    async def complete_many(self, items: list[dict[str, Any]]) -> list[Report]:
        """Several completions in one statement (one round trip, one commit), each fenced like
        complete_task; items hold complete()'s keyword arguments plus task_id and attempt."""
        columns = ("task_id", "attempt", "result", "exit_code", "output_tail", "log_path", "cost_usd",
                   "input_tokens", "output_tokens", "session_id", "lease_token")
        values = {c: [item.get(c) for item in items] for c in columns}
        values["result"] = [_json(r) for r in values["result"]]
        rows = await self._call(
            "fetch",
            "select r.ord, c.accepted, c.status, c.message "
            "from unnest($2::bigint[], $3::int[], $4::jsonb[], $5::int[], $6::text[], $7::text[], $8::numeric[], "
            "$9::bigint[], $10::bigint[], $11::text[], $12::uuid[]) with ordinality as r (task_id, attempt, result, "
            "exit_code, output_tail, log_path, cost_usd, input_tokens, output_tokens, session_id, lease_token, ord) "
            "cross join lateral swarm.complete_task(task_id => r.task_id, worker => $1, attempt => r.attempt, "
            "result => r.result, exit_code => r.exit_code, output_tail => r.output_tail, log_path => r.log_path, "
            "cost_usd => r.cost_usd, input_tokens => r.input_tokens, output_tokens => r.output_tokens, "
            "session_id => r.session_id, lease_token => r.lease_token) as c "
            "order by r.ord",
            self.worker, *(values[c] for c in columns))
        return [Report(row["accepted"], row["status"], row["message"]) for row in rows]

    async def fail(self, task_id: int, attempt: int, *, lease_token: UUID | None, error: str, exit_code: int | None,
                   output_tail: str | None, log_path: str | None, result: dict[str, Any] | None = None,
                   cost_usd: float | None = None,
                   input_tokens: int | None = None, output_tokens: int | None = None,
                   retry_in_seconds: int | None = None, retryable: bool = True,
                   session_id: str | None = None, fault: str = "service") -> Report:
        row = await self._call(
            "fetchrow",
            "select accepted, status, message from swarm.fail_task(task_id => $1, worker => $2, attempt => $3, "
            "error => $4, exit_code => $5, output_tail => $6, log_path => $7, result => $8::jsonb, "
            "cost_usd => $9, input_tokens => $10, output_tokens => $11, retry_in_seconds => $12, "
            "retryable => $13, session_id => $14, fault => $15, lease_token => $16)",
            task_id, self.worker, attempt, error, exit_code, output_tail, log_path, _json(result), cost_usd,
            input_tokens, output_tokens, retry_in_seconds, retryable, session_id, fault, lease_token)
        return Report(row["accepted"], row["status"], row["message"])

    async def release(self, task_id: int, attempt: int, *, lease_token: UUID | None, reason: str,
                      delay_seconds: int | None = 0,
                      count_attempt: bool = False, exit_code: int | None = None, log_path: str | None = None,
                      cost_usd: float | None = None, input_tokens: int | None = None,
                      output_tokens: int | None = None, session_id: str | None = None) -> Report:
        """Give the task back; delay_seconds None lets the engine back off (sql/40_outcome.sql)."""
        row = await self._call(
            "fetchrow",
            "select accepted, status, message from swarm.release_task(task_id => $1, worker => $2, attempt => $3, "
            "delay_seconds => $4, count_attempt => $5, reason => $6, exit_code => $7, log_path => $8, "
            "cost_usd => $9, input_tokens => $10, output_tokens => $11, session_id => $12, lease_token => $13)",
            task_id, self.worker, attempt, delay_seconds, count_attempt, reason, exit_code, log_path, cost_usd,
            input_tokens, output_tokens, session_id, lease_token)
        return Report(row["accepted"], row["status"], row["message"])

    async def release_for_usage_limit(self, task_id: int, attempt: int, *, lease_token: UUID | None, until: datetime,
                                      reason: str, exit_code: int | None = None, log_path: str | None = None,
                                      cost_usd: float | None = None, input_tokens: int | None = None,
                                      output_tokens: int | None = None, session_id: str | None = None) -> Report:
        """Pause the task's agent until `until` and release the task, in one transaction."""
        row = await self._call(
            "fetchrow",
            "select accepted, status, message from swarm.release_for_usage_limit(task_id => $1, worker => $2, "
            "attempt => $3, \"until\" => $4, reason => $5, exit_code => $6, log_path => $7, cost_usd => $8, "
            "input_tokens => $9, output_tokens => $10, session_id => $11, lease_token => $12)",
            task_id, self.worker, attempt, until, reason, exit_code, log_path, cost_usd, input_tokens,
            output_tokens, session_id, lease_token)
        return Report(row["accepted"], row["status"], row["message"])

    async def pause_agent(self, agent: str, until: datetime, reason: str) -> None:
        await self._call("execute", "select swarm.pause_agent($1, $2, $3)", agent, until, reason)

    async def ship_output(self, batch: list[dict[str, Any]]) -> int:
        """Running attempts' output and progress (live_output.py); stale items are skipped."""
        return await self._call("fetchval", "select swarm.ship_output($1, $2::jsonb)", self.worker,
                                json.dumps(batch))

    async def reap_expired(self) -> int:
        return await self._call("fetchval", "select swarm.reap_expired()")

    async def idle_check(self, agents: list[str], queues: list[str] | None) -> float | None:
        """The fallback poll's question before a claim: seconds until a task of these agents and
        queues may be claimable (0: now), or None; no writes, no locks (sql/66_wake.sql)."""
        return await self._call("fetchval", "select swarm.idle_check($1, $2)", agents, queues)

    async def seconds_until_next_run(self, agents: list[str], queues: list[str] | None) -> float | None:
        """Seconds until a pending task becomes claimable (by the database's clock), or None."""
        return await self._call("fetchval",
                                "select extract(epoch from swarm.next_run_after($1, $2) - swarm.now())::float8",
                                agents, queues)

    async def fire_schedules(self) -> tuple[int, float | None]:
        """Enqueue the due slots of the cron schedules; the number enqueued, and the seconds until
        the next slot comes due by the database's clock (None without an enabled schedule)."""
        fired = await self._call("fetchval", "select swarm.fire_schedules()")
        seconds = await self._call("fetchval",
                                   "select extract(epoch from swarm.next_schedule_at() - swarm.now())::float8")
        return fired, seconds

    async def record_session(self, task_id: int, attempt: int, session_id: str) -> bool:
        """Record the agent session of a running attempt (fenced), for a resume after a lost lease."""
        return bool(await self._call("fetchval", "select swarm.record_session($1, $2, $3, $4)",
                                     task_id, self.worker, attempt, session_id))

    async def dependency_results(self, task_id: int) -> Any:
        return json.loads(await self._call("fetchval", "select swarm.dependency_results($1)::text", task_id))

    async def known_agents(self) -> list[str]:
        rows = await self._call("fetch", "select name from swarm.agents order by name")
        return [r["name"] for r in rows]


def _claimed(row: asyncpg.Record) -> ClaimedTask:
    args = row["args"]
    return ClaimedTask(
        id=row["id"], attempt=row["attempts"], agent=row["agent"], prompt=row["prompt"] or "",
        args=json.loads(args) if isinstance(args, str) else dict(args or {}), timeout_seconds=row["timeout_seconds"],
        depends_on=tuple(row["depends_on"] or ()), queue=row["queue"], max_attempts=row["max_attempts"],
        ready_at=max(row["run_after"], row["created_at"]), claimed_at=row["started_at"],
        resume_session=row["resume_session_id"], lease_token=row["lease_token"])


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str)
