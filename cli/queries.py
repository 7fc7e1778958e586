"""Every SQL statement the CLI runs (the only CLI module with SQL text).

State changes go through the swarm.* functions of docs/sql-api.md; enqueueing, cancel and retry
through the client (pgswarm.client, whose one query module holds that SQL). A plain INSERT is
used only to register agent profiles (configuration rows of swarm.agents).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

Row = dict[str, Any]

TASK_LIST_COLUMNS = """
  task.id, task.status, task.agent, task.queue, task.priority, task.attempts, task.max_attempts,
  task.depends_on, task.parent_id, task.tags, task.created_at, task.started_at, task.finished_at,
  task.run_after, task.worker, task.cost_usd, task.prompt, task.error,
  case when task.status in ('waiting', 'pending')
       then (select string_agg(why.brief, ', ') from swarm.why_pending(task.id) as why) end as waiting_for
"""


def _rows(conn: psycopg.Connection, query: str | sql.Composable, params: Any = None) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()  # type: ignore[arg-type]


def _one(conn: psycopg.Connection, query: str | sql.Composable, params: Any = None) -> Row | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()  # type: ignore[arg-type]


def _scalar(conn: psycopg.Connection, query: str | sql.Composable, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    return None if row is None else row[0]


# -- tasks (enqueueing, cancel and retry go through the client: pgswarm.client) ---------------------
def agent_names(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("select name from swarm.agents order by name")]


def agent_login_problem(conn: psycopg.Connection) -> str | None:
    """Why this connection's login must not be given to agents (--agent-dsn), or None: a login
    that is a superuser, or holds the worker's or an enqueuer's role, could do far more than
    swarm_agent's capability functions."""
    row = conn.execute(
        "select r.rolname, r.rolsuper, array(select g.rolname from pg_roles as g "
        "where g.rolname in ('swarm_worker', 'swarm_enqueue', 'swarm_monitor') "
        "and pg_has_role(r.oid, g.oid, 'member') order by 1) from pg_roles as r where r.rolname = session_user"
    ).fetchone()
    assert row is not None  # the session's own role exists
    user, superuser, roles = row
    if superuser:
        return f"it logs in as {user}, a superuser"
    if roles:
        return f"its login {user} holds {', '.join(roles)}"
    return None


def existing_task_ids(conn: psycopg.Connection, ids: list[int]) -> set[int]:
    return {r[0] for r in conn.execute(
        "select id from swarm.agent_tasks where id = any(%(ids)s) "
        "union select id from swarm.agent_tasks_archive where id = any(%(ids)s)", {"ids": ids})}


# -- listing and inspection ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskFilter:
    statuses: tuple[str, ...] = ()
    agent: str | None = None
    queue: str | None = None
    tag: str | None = None
    parent_id: int | None = None
    since: timedelta | None = None
    limit: int = 50
    everything: bool = False
    priority: str | None = None  # a name or a number: swarm.priority() reads it
    worker: str | None = None


def list_tasks(conn: psycopg.Connection, f: TaskFilter) -> list[Row]:
    """Tasks, newest first. Default (no status, no since, not everything): active ones and those
    finished within the last 24 hours."""
    default_window = not (f.statuses or f.since or f.everything)
    return _rows(conn, f"""
        select {TASK_LIST_COLUMNS}
          from swarm.agent_tasks as task
         where (cardinality(%(statuses)s::text[]) = 0 or task.status = any(%(statuses)s::text[]))
           and (%(agent)s::text is null or task.agent = %(agent)s)
           and (%(queue)s::text is null or task.queue = %(queue)s)
           and (%(tag)s::text is null or %(tag)s = any(task.tags))
           and (%(parent)s::bigint is null or task.parent_id = %(parent)s)
           and (%(priority)s::text is null or task.priority = swarm.priority(%(priority)s))
           and (%(worker)s::text is null or task.worker = %(worker)s)
           and (%(since)s::interval is null or task.created_at > swarm.now() - %(since)s::interval)
           and (not %(default_window)s or task.status in ('waiting', 'pending', 'running')
                or task.finished_at > swarm.now() - interval '24 hours')
         order by task.id desc
         limit %(limit)s
        """, {"statuses": list(f.statuses), "agent": f.agent, "queue": f.queue, "tag": f.tag,
              "parent": f.parent_id, "since": f.since, "default_window": default_window, "limit": f.limit,
              "priority": f.priority, "worker": f.worker})


def get_task(conn: psycopg.Connection, task_id: int) -> Row | None:
    """All columns of a task (live table first, then the archive)."""
    row = _one(conn, "select task.*, false as archived from swarm.agent_tasks as task where task.id = %s",
               (task_id,))
    if row is None:
        row = _one(conn, "select task.*, true as archived from swarm.agent_tasks_archive as task "
                         "where task.id = %s", (task_id,))
    return row


def task_status(conn: psycopg.Connection, task_id: int) -> str | None:
    return _scalar(conn, "select status from swarm.agent_tasks where id = %s", (task_id,))


def dependencies(conn: psycopg.Connection, task_id: int) -> list[Row]:
    """The tasks this one depends on, recursively (depth 1 = direct)."""
    return _rows(conn, """
        with recursive deps(id, depth) as (
          select unnest(task.depends_on), 1 from swarm.agent_tasks as task where task.id = %(id)s
          union
          select unnest(task.depends_on), deps.depth + 1
            from deps join swarm.agent_tasks as task on task.id = deps.id
           where deps.depth < 20
        )
        select deps.id, min(deps.depth) as depth, task.status, task.agent, task.prompt
          from deps left join swarm.agent_tasks as task on task.id = deps.id
         group by deps.id, task.status, task.agent, task.prompt
         order by min(deps.depth), deps.id
        """, {"id": task_id})


def dependents(conn: psycopg.Connection, task_id: int) -> list[Row]:
    """Tasks that wait for this one, directly."""
    return _rows(conn, """
        select task.id, task.status, task.agent, task.prompt
          from swarm.agent_tasks as task
         where %(id)s = any(task.depends_on)
         order by task.id
        """, {"id": task_id})


def children(conn: psycopg.Connection, task_id: int) -> list[Row]:
    return _rows(conn, "select id, status, agent, prompt from swarm.agent_tasks where parent_id = %s order by id",
                 (task_id,))


def task_events(conn: psycopg.Connection, task_id: int) -> list[Row]:
    return _rows(conn, """
        select e.at, e.event, e.worker, e.attempt, e.detail from swarm.task_events as e where e.task_id = %(id)s
        union all
        select e.at, e.event, e.worker, e.attempt, e.detail from swarm.task_events_archive as e where e.task_id = %(id)s
        order by at
        """, {"id": task_id})


# -- state changes (through the engine's functions; cancel and retry: the client) ---------------------
def matching_task_ids(conn: psycopg.Connection, statuses: tuple[str, ...], agent: str | None,
                      queue: str | None) -> list[int]:
    """Ids of the tasks in these statuses (and of this agent, this queue), in id order."""
    return [r[0] for r in conn.execute("""
        select task.id from swarm.agent_tasks as task
         where task.status = any(%(statuses)s::text[])
           and (%(agent)s::text is null or task.agent = %(agent)s)
           and (%(queue)s::text is null or task.queue = %(queue)s)
         order by task.id
        """, {"statuses": list(statuses), "agent": agent, "queue": queue})]


def archive(conn: psycopg.Connection, older_than: timedelta, batch_size: int = 1000) -> int:
    """Committed batches (swarm.archive_in_batches); conn must be in autocommit mode."""
    return int(_scalar(conn, "call swarm.archive_in_batches(%s, %s, null)", (older_than, batch_size)))


def pause_agent(conn: psycopg.Connection, name: str, until: datetime | None, reason: str | None) -> None:
    conn.execute('select swarm.pause_agent(name => %s, "until" => %s, reason => %s)', (name, until, reason))


def resume_agent(conn: psycopg.Connection, name: str) -> None:
    conn.execute("select swarm.resume_agent(name => %s)", (name,))


# -- agents (configuration rows) ---------------------------------------------------------------------
AGENT_SETTINGS = ("description", "max_concurrent", "max_starts_per_minute", "daily_budget_usd",
                  "retry_backoff_base_seconds", "retry_backoff_max_seconds", "breaker_threshold",
                  "breaker_cooldown_seconds")


def agent_exists(conn: psycopg.Connection, name: str) -> bool:
    return _scalar(conn, "select exists (select 1 from swarm.agents where name = %s)", (name,)) is True


def add_agent(conn: psycopg.Connection, name: str, settings: dict[str, Any]) -> None:
    columns = ["name", *settings]
    query = sql.SQL("insert into swarm.agents ({}) values ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    conn.execute(query, [name, *settings.values()])


def ensure_agent(conn: psycopg.Connection, name: str, description: str) -> None:
    """Register an agent profile unless it exists (used by `pgswarm demo`)."""
    conn.execute("insert into swarm.agents (name, description) values (%s, %s) on conflict (name) do nothing",
                 (name, description))


def set_agent(conn: psycopg.Connection, name: str, settings: dict[str, Any]) -> None:
    assert settings and set(settings) <= set(AGENT_SETTINGS)
    query = sql.SQL("update swarm.agents set {}, updated_at = now() where name = {}").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in settings),
        sql.Placeholder())
    conn.execute(query, [*settings.values(), name])


def agents(conn: psycopg.Connection) -> list[Row]:
    return _rows(conn, """
        select s.agent, s.running, s.max_concurrent, s.pending, s.waiting, s.max_starts_per_minute,
               s.paused, s.paused_until, s.pause_reason, s.consecutive_failures, s.breaker_threshold,
               s.completed_24h, s.failed_24h, s.success_rate_24h, s.cost_usd_24h, s.cost_usd_today,
               s.daily_budget_usd, a.description
          from swarm.agent_stats as s join swarm.agents as a on a.name = s.agent
         order by s.agent
        """)


# -- stats ---------------------------------------------------------------------------------------------
def queue_stats(conn: psycopg.Connection) -> list[Row]:
    return _rows(conn, "select * from swarm.queue_stats order by queue, agent, status")


def agent_stats(conn: psycopg.Connection) -> list[Row]:
    return _rows(conn, "select * from swarm.agent_stats order by agent")


def worker_stats(conn: psycopg.Connection, include_stopped: bool = False,
                 gone_after: timedelta = timedelta(minutes=10)) -> list[Row]:
    """Live workers, and those that stopped or went silent within `gone_after` (then they leave
    the list; include_stopped keeps them all)."""
    return _rows(conn, """
        select * from swarm.worker_stats
         where %(all)s or alive or heartbeat_at > swarm.now() - %(gone_after)s::interval
         order by worker
        """, {"all": include_stopped, "gone_after": gone_after})


def running_tasks(conn: psycopg.Connection, limit: int = 200) -> list[Row]:
    """Running tasks, longest-running first, with their progress where the schema has it."""
    return _rows(conn, """
        select task.id, task.agent, task.worker, task.started_at, swarm.now() - task.started_at as elapsed,
               task.attempts, task.max_attempts, task.prompt, task.cancel_requested_at,
               to_jsonb(task) -> 'progress' as progress
          from swarm.agent_tasks as task
         where task.status = 'running'
         order by task.started_at, task.id limit %s
        """, (limit,))


def window_stats(conn: psycopg.Connection, since: timedelta) -> Row:
    row = _one(conn, "select * from swarm.stats(since => %s)", (since,))
    assert row is not None
    return row


def active_counts(conn: psycopg.Connection) -> list[Row]:
    """Waiting, pending and running tasks by queue and agent, each status read from its own
    partial index (never the history): tasks, claimable now, oldest claimable age (seconds)."""
    return _rows(conn, """
        select task.queue, task.agent, 'pending' as status, count(*) as tasks,
               count(*) filter (where task.run_after <= swarm.now()) as claimable,
               extract(epoch from swarm.now() - min(task.run_after) filter (where task.run_after <= swarm.now()))
                 ::float8 as oldest_pending_seconds
          from swarm.agent_tasks as task where task.status = 'pending' group by task.queue, task.agent
        union all
        select task.queue, task.agent, 'running', count(*), 0, null
          from swarm.agent_tasks as task where task.status = 'running' group by task.queue, task.agent
        union all
        select task.queue, task.agent, 'waiting', count(*), 0, null
          from swarm.agent_tasks as task where task.status = 'waiting' group by task.queue, task.agent
        order by 1, 2, 3
        """)


def queue_depth(conn: psycopg.Connection) -> list[Row]:
    """Per queue: pending, claimable now, waiting, running, oldest claimable age."""
    by_queue: dict[str, Row] = {}
    for row in active_counts(conn):
        queue = by_queue.setdefault(row["queue"], {"queue": row["queue"], "pending": 0, "claimable": 0,
                                                   "waiting": 0, "running": 0, "oldest_pending_age": None})
        queue[row["status"]] += row["tasks"]
        queue["claimable"] += row["claimable"]
        if row["oldest_pending_seconds"] is not None:
            age = timedelta(seconds=row["oldest_pending_seconds"])
            queue["oldest_pending_age"] = max(age, queue["oldest_pending_age"] or age)
    return list(by_queue.values())


def recent_failures(conn: psycopg.Connection, limit: int = 5) -> list[Row]:
    return _rows(conn, """
        select e.at, e.task_id, e.event, task.agent, e.attempt,
               coalesce(e.detail ->> 'error', task.error) as error
          from swarm.task_events as e left join swarm.agent_tasks as task on task.id = e.task_id
         where e.event in ('failed', 'retry_scheduled', 'lease_expired')
           -- an operator's retry_task and the dependents it revives log no worker: not failures
           and (e.event <> 'retry_scheduled' or e.worker is not null)
         order by e.id desc limit %s
        """, (limit,))


def pipeline_progress(conn: psycopg.Connection, ids: list[int]) -> list[Row]:
    return _rows(conn, """
        select task.id, task.status, task.attempts, task.max_attempts, task.started_at, task.finished_at,
               task.cost_usd, task.metadata ->> 'step' as step, task.worker, task.error
          from swarm.agent_tasks as task where task.id = any(%s) order by task.id
        """, (ids,))


def retries_of(conn: psycopg.Connection, ids: list[int]) -> int:
    return int(_scalar(conn, """
        select count(*) from swarm.task_events as e
         where e.task_id = any(%s) and e.event in ('retry_scheduled', 'lease_expired')
        """, (ids,)))


def claim_intervals(conn: psycopg.Connection, ids: list[int]) -> list[tuple[datetime, datetime]]:
    """(claimed at, finished at) of every attempt of these tasks, from the event history."""
    return [(r[0], r[1]) for r in conn.execute("""
        select claimed.at, finished.at
          from swarm.task_events as claimed
          join lateral (
            select e.at from swarm.task_events as e
             where e.task_id = claimed.task_id and e.attempt = claimed.attempt and e.id > claimed.id
               and e.event in ('completed', 'failed', 'retry_scheduled', 'lease_expired', 'released', 'cancelled')
             order by e.id limit 1) as finished on true
         where claimed.task_id = any(%s) and claimed.event = 'claimed'
        """, (ids,))]


# -- export --------------------------------------------------------------------------------------------
def export_tasks(conn: psycopg.Connection, since: timedelta | None) -> psycopg.Cursor[Row]:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("""
        select task.* from swarm.agent_tasks as task
         where %(since)s::interval is null or task.updated_at > swarm.now() - %(since)s::interval
         order by task.id
        """, {"since": since})


def export_events(conn: psycopg.Connection, since: timedelta | None) -> psycopg.Cursor[Row]:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("""
        select e.* from swarm.task_events as e
         where %(since)s::interval is null or e.at > swarm.now() - %(since)s::interval
         order by e.id
        """, {"since": since})


# -- doctor --------------------------------------------------------------------------------------------
def require_schema(conn: psycopg.Connection, version: int) -> int:
    """The schema version, or the engine's SW006 when it is older than `version`."""
    return _scalar(conn, "select swarm.require_schema(%s)", (version,))


def schema_version(conn: psycopg.Connection) -> int | None:
    if not _scalar(conn, "select to_regclass('swarm.schema_migrations') is not null"):
        return None
    return _scalar(conn, "select coalesce(max(version), 0) from swarm.schema_migrations")


def server_version(conn: psycopg.Connection) -> str:
    return str(_scalar(conn, "show server_version"))


def database_clock(conn: psycopg.Connection) -> datetime:
    return _scalar(conn, "select clock_timestamp()")


def listen(conn: psycopg.Connection, channel: str) -> None:
    conn.execute(sql.SQL("listen {}").format(sql.Identifier(channel)))


def listen_statement(channel: str) -> sql.Composed:
    """LISTEN on a channel, for a connection of either kind (the web server's is async)."""
    return sql.SQL("listen {}").format(sql.Identifier(channel))


def notify(conn: psycopg.Connection, channel: str, payload: str) -> None:
    conn.execute("select pg_notify(%s, %s)", (channel, payload))


def notification_queue_usage(conn: psycopg.Connection) -> float:
    return float(_scalar(conn, "select pg_notification_queue_usage()"))


def stale_workers(conn: psycopg.Connection) -> list[Row]:
    """Workers that never said they stopped but have not sent a heartbeat for 2 minutes."""
    return _rows(conn, """
        select worker, hostname, pid, heartbeat_age from swarm.worker_stats
         where stopped_at is null and not alive order by worker
        """)


def quarantined_agents(conn: psycopg.Connection) -> list[Row]:
    """Agents live workers stopped claiming because their node cannot run them (node-local faults)."""
    return _rows(conn, """
        select w.worker, w.hostname, q.key as agent, q.value ->> 'kind' as kind, q.value ->> 'reason' as reason,
               (q.value ->> 'retry_at')::timestamptz as retry_at
          from swarm.worker_stats as w, jsonb_each(w.quarantined) as q
         where w.alive order by w.worker, q.key
        """)


def stuck_tasks(conn: psycopg.Connection) -> list[Row]:
    """Running past their lease by a minute (nobody reaps), or pending for an hour with a claimable
    agent and no live worker."""
    return _rows(conn, """
        select task.id, task.status, task.agent, task.worker,
               case when task.status = 'running' then 'lease expired ' || date_trunc('second', swarm.now() - task.lease_expires_at) || ' ago'
                    else 'claimable for ' || date_trunc('second', swarm.now() - task.run_after) end as why
          from swarm.agent_tasks as task
         where (task.status = 'running' and task.lease_expires_at < swarm.now() - interval '1 minute')
            or (task.status = 'pending' and task.run_after < swarm.now() - interval '1 hour'
                and not exists (select 1 from swarm.worker_stats as w where w.alive))
         order by task.id limit 20
        """)


def queue_table_bloat(conn: psycopg.Connection) -> Row | None:
    return _one(conn, """
        select n_live_tup, n_dead_tup, last_autovacuum, last_vacuum,
               round(n_dead_tup::numeric / greatest(n_live_tup + n_dead_tup, 1), 3) as dead_ratio
          from pg_stat_user_tables where schemaname = 'swarm' and relname = 'agent_tasks'
        """)


def to_json_line(row: Row) -> str:
    return json.dumps(row, default=str, separators=(",", ":"))


# -- pgswarm web ---------------------------------------------------------------------------------------
# The dashboard and the REST API read through these (and the functions above); state changes go
# through the engine's functions.
@dataclass(frozen=True)
class TaskQuery:
    """Filters of the task list (web page and /api/v1/tasks); every one optional."""

    statuses: tuple[str, ...] = ()
    agent: str | None = None
    queue: str | None = None
    tag: str | None = None
    parent_id: int | None = None
    text: str | None = None  # a substring of the prompt, case-insensitive
    created_from: datetime | None = None
    created_to: datetime | None = None

    def is_empty(self) -> bool:
        return self == TaskQuery()


# A page of the list walks the primary key downwards from its cursor and stops after `limit`
# matches or after SCAN_LIMIT rows, whichever comes first: a filter that matches one task in a
# million costs a bounded walk per page (the page then says how far it looked), never a scan of
# the whole history. Measured in bench/web.py.
SCAN_LIMIT = 20_000


def _task_conditions(q: TaskQuery, alias: str = "task") -> tuple[sql.Composable, dict[str, Any]]:
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {}
    col = lambda name: sql.SQL(f"{alias}.{name}")  # noqa: E731
    if q.statuses:
        conditions.append(sql.SQL("{} = any(%(statuses)s::text[])").format(col("status")))
        params["statuses"] = list(q.statuses)
    for name, value in (("agent", q.agent), ("queue", q.queue), ("parent_id", q.parent_id)):
        if value is not None:
            conditions.append(sql.SQL("{} = %({})s").format(col(name), sql.SQL(name)))
            params[name] = value
    if q.tag is not None:
        conditions.append(sql.SQL("{} @> array[%(tag)s::text]").format(col("tags")))
        params["tag"] = q.tag
    if q.text:
        conditions.append(sql.SQL(r"{} ilike %(text)s escape '\'").format(col("prompt")))
        params["text"] = "%" + q.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    if q.created_from is not None:
        conditions.append(sql.SQL("{} >= %(created_from)s").format(col("created_at")))
        params["created_from"] = q.created_from
    if q.created_to is not None:
        conditions.append(sql.SQL("{} < %(created_to)s").format(col("created_at")))
        params["created_to"] = q.created_to
    where = sql.SQL(" and ").join(conditions) if conditions else sql.SQL("true")
    return where, params


@dataclass(frozen=True)
class TaskPage:
    rows: list[Row]
    next_before: int | None  # the cursor of the next (older) page; None at the end
    scanned_to: int | None  # the lowest id this page looked at (below it: not yet searched)


def task_page(conn: psycopg.Connection, q: TaskQuery, before: int | None, limit: int) -> TaskPage:
    """Tasks matching q with id < before, newest first (keyset paging; see SCAN_LIMIT)."""
    where, params = _task_conditions(q, "task")
    params.update(before=before if before is not None else 2 ** 63 - 1, limit=limit, scan=SCAN_LIMIT)
    if q.parent_id is not None:  # a task's children: its own index, no walk
        rows = _rows(conn, sql.SQL("""
            select {cols} from swarm.agent_tasks as task
             where task.id < %(before)s and {where}
             order by task.id desc limit %(limit)s""").format(cols=sql.SQL(TASK_LIST_COLUMNS), where=where), params)
        return TaskPage(rows, rows[-1]["id"] if len(rows) == limit else None, None)
    rows = _rows(conn, sql.SQL("""
        select {cols}
          from (select * from swarm.agent_tasks as walk
                 where walk.id < %(before)s order by walk.id desc limit %(scan)s) as task
         where {where}
         order by task.id desc limit %(limit)s""").format(cols=sql.SQL(TASK_LIST_COLUMNS), where=where), params)
    if len(rows) == limit:
        return TaskPage(rows, rows[-1]["id"], None)
    # Fewer than a page: either the history ended, or the walk stopped at SCAN_LIMIT rows.
    edge = _one(conn, """
        select min(walk.id) as low, count(*) as n
          from (select task.id from swarm.agent_tasks as task
                 where task.id < %(before)s order by task.id desc limit %(scan)s) as walk""", params)
    assert edge is not None
    if edge["n"] < SCAN_LIMIT:
        return TaskPage(rows, None, None)
    more = _scalar(conn, "select exists (select 1 from swarm.agent_tasks where id < %s)", (edge["low"],))
    return TaskPage(rows, edge["low"] if more else None, edge["low"])


def latest_tasks(conn: psycopg.Connection, limit: int = 10) -> list[Row]:
    return _rows(conn, f"select {TASK_LIST_COLUMNS} from swarm.agent_tasks as task order by task.id desc limit %s",
                 (limit,))


BULK_STATUSES = {"cancel": ("waiting", "pending", "running"), "retry": ("failed", "cancelled")}


def bulk_count(conn: psycopg.Connection, action: str, q: TaskQuery) -> int:
    """How many tasks a bulk cancel or retry with these filters would touch."""
    where, params = _task_conditions(q, "task")
    params["bulk"] = list(BULK_STATUSES[action])
    return int(_scalar(conn, sql.SQL("select count(*) from swarm.agent_tasks as task "
                                     "where task.status = any(%(bulk)s::text[]) and {}").format(where), params))


def bulk_apply(conn: psycopg.Connection, action: str, q: TaskQuery, reason: str | None = None) -> dict[str, int]:
    """Cancel or retry every task matching q, in one transaction, in id order; the new statuses
    counted. Each task is looked at again just before its call: an earlier retry in the same batch
    may have revived it already (its dependency's retry), and an earlier cancel cancelled it."""
    where, params = _task_conditions(q, "task")
    params["bulk"] = list(BULK_STATUSES[action])
    call = "swarm.cancel_task(task.id, %(reason)s)" if action == "cancel" else "swarm.retry_task(task.id)"
    counts: dict[str, int] = {}
    with conn.transaction():
        ids = [r[0] for r in conn.execute(sql.SQL(
            "select task.id from swarm.agent_tasks as task where task.status = any(%(bulk)s::text[]) and {} "
            "order by task.id").format(where), params)]
        for task_id in ids:
            outcome = _scalar(conn, f"""
                select case when task.status = any(%(bulk)s::text[]) then {call} else 'skipped' end
                  from swarm.agent_tasks as task where task.id = %(id)s""",
                              {"bulk": params["bulk"], "reason": reason, "id": task_id})
            counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    return counts


def set_priority(conn: psycopg.Connection, task_id: int, priority: int) -> str:
    return str(_scalar(conn, "select swarm.set_priority(task_id => %s, priority => %s)", (task_id, priority)))


def event_cursor(conn: psycopg.Connection) -> int:
    """The newest event id: it moves whenever any task changes status (the pages' change cursor)."""
    return int(_scalar(conn, "select coalesce(max(id), 0) from swarm.task_events"))


def changed_since(conn: psycopg.Connection, after: int, limit: int = 500) -> tuple[int, list[int], bool]:
    """(the newest event id, ids of tasks with events after `after`, whether there were more
    than `limit` such events)."""
    cursor, ids = conn.execute("""
        select (select coalesce(max(e.id), 0) from swarm.task_events as e),
               array(select e.task_id from swarm.task_events as e where e.id > %s order by e.id limit %s)
        """, (after, limit)).fetchone()  # type: ignore[misc]
    return int(cursor), sorted(set(ids)), len(ids) >= limit


def task_attempts(conn: psycopg.Connection, task_id: int) -> list[Row]:
    """One row per attempt, in the order they ran, from the attempt ledger (swarm.task_attempts, or
    its archive): worker, host, start, end, outcome ('running' while it runs), run seconds, cost,
    tokens, the agent session it ran in and the one it resumed, error."""
    return _rows(conn, """
        select a.attempt, a.worker, a.hostname, a.started_at, a.finished_at, coalesce(a.outcome, 'running') as outcome,
               round(extract(epoch from a.finished_at - a.started_at)::numeric, 3) as run_seconds,
               a.cost_usd, a.input_tokens, a.output_tokens, a.session_id, a.resumed_session_id, a.reserved_usd,
               a.exit_code, a.error, a.log_path
          from (select * from swarm.task_attempts where task_id = %(id)s
                union all
                select * from swarm.task_attempts_archive where task_id = %(id)s) as a
         order by a.id
        """, {"id": task_id})


def output_since(conn: psycopg.Connection, task_id: int, attempt: int, consumed: int) -> list[Row]:
    """The chunks of an attempt's live output that end after byte `consumed`, in order."""
    return _rows(conn, """
        select o.seq, o.offset_bytes, o.chunk from swarm.task_output as o
         where o.task_id = %s and o.attempt = %s and o.offset_bytes + octet_length(o.chunk) > %s
         order by o.seq
        """, (task_id, attempt, consumed))


def why_pending(conn: psycopg.Connection, task_id: int) -> list[Row]:
    """Why a task is not running: swarm.why_pending's rows (code, reason, brief, detail); none when it
    is running or claimable now."""
    return _rows(conn, "select * from swarm.why_pending(%s)", (task_id,))


# -- web tokens ----------------------------------------------------------------------------------------
def create_web_token(conn: psycopg.Connection, name: str, scope: str, expires_at: datetime | None) -> str:
    return str(_scalar(conn, "select swarm.create_web_token(name => %s, scope => %s, expires_at => %s)",
                       (name, scope, expires_at)))


def revoke_web_token(conn: psycopg.Connection, name: str) -> datetime:
    return _scalar(conn, "select swarm.revoke_web_token(name => %s)", (name,))


def web_tokens(conn: psycopg.Connection) -> list[Row]:
    return _rows(conn, """
        select t.id, t.name, t.scope, t.created_at, t.created_by, t.expires_at, t.last_used_at, t.revoked_at
          from swarm.web_tokens as t order by t.id""")


def web_token_scope(conn: psycopg.Connection, token: str) -> Row | None:
    """{'name', 'scope'} of a working token, else None."""
    return _one(conn, "select name, scope from swarm.web_token_scope(%s)", (token,))


# -- /metrics ------------------------------------------------------------------------------------------
def metrics_snapshot(conn: psycopg.Connection) -> dict[str, Any]:
    """What `pgswarm web`'s /metrics reports, in four statements (one round trip each)."""
    return {
        "queues": active_counts(conn),
        "agents": _rows(conn, "select agent, running, max_concurrent, paused, consecutive_failures, "
                              "cost_usd_today, daily_budget_usd from swarm.agent_stats order by agent"),
        "finished": _rows(conn, """
            select task.agent, task.status, count(*) as tasks
              from swarm.agent_tasks as task
             where task.status in ('completed', 'failed', 'cancelled') and task.finished_at > swarm.now() - interval '1 hour'
             group by task.agent, task.status order by 1, 2"""),
        "window": _one(conn, "select * from swarm.stats(interval '1 hour')"),
        "workers": _rows(conn, "select worker, alive, running, concurrency from swarm.worker_stats "
                               "where stopped_at is null order by worker"),
    }


def dependency_graph(conn: psycopg.Connection, task_id: int, limit: int = 60) -> list[Row]:
    """The task, what it waits for (transitively) and its direct dependents, each with its own
    depends_on: the nodes and edges of the task page's graph. depth: >0 dependencies, 0 the task,
    -1 dependents."""
    return _rows(conn, """
        with recursive up(id, depth) as (
          select task.id, 0 from swarm.agent_tasks as task where task.id = %(id)s
          union
          select unnest(task.depends_on), up.depth + 1
            from up join swarm.agent_tasks as task on task.id = up.id
           where up.depth < 20
        ),
        nodes as (
          select up.id, min(up.depth) as depth from up group by up.id
          union all
          select task.id, -1 from swarm.agent_tasks as task where %(id)s = any(task.depends_on)
        )
        select nodes.id, nodes.depth, task.status, task.agent, task.prompt, coalesce(task.depends_on, '{}') as depends_on
          from nodes left join swarm.agent_tasks as task on task.id = nodes.id
         order by nodes.depth desc, nodes.id
         limit %(limit)s
        """, {"id": task_id, "limit": limit})


# -- schedules (rows of swarm.schedules; the engine checks them and keeps next_fire_at) ------------------
SCHEDULE_TEMPLATE = ("agent", "args", "queue", "priority", "tags", "metadata", "timeout_seconds", "max_attempts",
                     "concurrency_key", "enabled", "catch_up")
SCHEDULE_COLUMNS = """
  s.name, s.cron, s.timezone, s.enabled, s.catch_up, s.next_fire_at,
  to_char(s.next_fire_at at time zone s.timezone, 'YYYY-MM-DD HH24:MI') as next_fire_local,
  s.last_fired_at, s.last_task_id, s.last_error, s.agent, s.queue, s.priority, s.prompt, s.args, s.tags,
  s.metadata, s.timeout_seconds, s.max_attempts, s.concurrency_key, s.created_by, s.created_at, s.updated_at
"""


def add_schedule(conn: psycopg.Connection, name: str, cron: str, timezone: str, prompt: str,
                 template: dict[str, Any]) -> Row:
    """INSERT a schedule (columns left out take their defaults); the stored row."""
    assert set(template) <= set(SCHEDULE_TEMPLATE)
    values = {"name": name, "cron": cron, "timezone": timezone, "prompt": prompt,
              **{k: Jsonb(v) if isinstance(v, dict) else v for k, v in template.items()}}
    query = sql.SQL("insert into swarm.schedules as s ({}) values ({}) returning {}").format(
        sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join(sql.Placeholder() * len(values)),
        sql.SQL(SCHEDULE_COLUMNS))  # type: ignore[arg-type]
    row = _one(conn, query, list(values.values()))
    assert row is not None
    return row


def schedules(conn: psycopg.Connection) -> list[Row]:
    return _rows(conn, f"select {SCHEDULE_COLUMNS} from swarm.schedules as s order by s.name")


def schedule_names(conn: psycopg.Connection) -> list[str]:
    return [name for (name,) in conn.execute("select name from swarm.schedules order by name")]


def set_schedule_enabled(conn: psycopg.Connection, name: str, enabled: bool) -> Row | None:
    """Pause (false) or resume (true) a schedule; its row, or None when there is no such schedule."""
    return _one(conn, f"update swarm.schedules as s set enabled = %s where s.name = %s returning {SCHEDULE_COLUMNS}",
                (enabled, name))


def remove_schedule(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("delete from swarm.schedules where name = %s", (name,)).rowcount == 1


def run_schedule(conn: psycopg.Connection, name: str) -> int:
    return int(_scalar(conn, "select swarm.run_schedule(name => %s)", (name,)))


# -- pgswarm demo ---------------------------------------------------------------------------------------
def demo_tasks(conn: psycopg.Connection, ids: list[int]) -> list[dict[str, Any]]:
    rows = conn.execute("select id, status, attempts, cost_usd, metadata->>'step' as step, error "
                        "from swarm.agent_tasks where id = any(%s) order by id", (ids,)).fetchall()
    return [dict(zip(("id", "status", "attempts", "cost_usd", "step", "error"), row)) for row in rows]


def cancel_unfinished(conn: psycopg.Connection, ids: list[int], reason: str) -> None:
    conn.execute("select swarm.cancel_task(id, %s) from swarm.agent_tasks "
                 "where id = any(%s) and status in ('waiting', 'pending', 'running')", (reason, ids))


def attempt_starts_and_ends(conn: psycopg.Connection, ids: list[int]) -> list[int]:
    """+1 for each attempt's start and -1 for its end, in time order (for the most run at once)."""
    rows = conn.execute("""
        select case when event = 'claimed' then 1 else -1 end
          from swarm.task_events
         where task_id = any(%s)
           and event in ('claimed', 'completed', 'failed', 'retry_scheduled', 'released', 'cancelled', 'lease_expired')
         order by at, 1""", (ids,)).fetchall()
    return [change for (change,) in rows]


def tokens_and_run_time(conn: psycopg.Connection, ids: list[int]) -> tuple[int, int, float]:
    row = conn.execute("select coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
                       "coalesce(extract(epoch from sum(finished_at - started_at)), 0) "
                       "from swarm.agent_tasks where id = any(%s)", (ids,)).fetchone()
    assert row is not None  # an aggregate always returns a row
    return int(row[0]), int(row[1]), float(row[2])


# -- pgswarm export -------------------------------------------------------------------------------------
def begin_snapshot(conn: psycopg.Connection) -> None:
    """The transaction reads one consistent snapshot (call first, outside autocommit)."""
    conn.execute("set transaction isolation level repeatable read, read only")
