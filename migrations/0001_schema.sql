--
-- 0001_schema: the swarm schema, its tables and indexes, the seeded agent profiles and the
-- three NOLOGIN roles. DDL and seed rows only; functions, triggers and views live in sql/.
--

create schema if not exists swarm;

-- Defaults below read the engine's clock; sql/00_helpers.sql keeps its definition (this is the
-- same body, created here first because a column default needs it to exist).
create or replace function swarm.now() returns timestamptz
language sql stable parallel safe
as $$
  select coalesce(nullif(current_setting('swarm.now', true), '')::timestamptz, now())
$$;

create table swarm.schema_migrations (
  version int primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now(),
  applied_by text not null default current_user
);

create table swarm.agents (
  name text primary key
    constraint agents_name_is_simple check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  description text,
  max_concurrent int
    constraint agents_max_concurrent_not_negative check (max_concurrent >= 0),
  max_starts_per_minute int
    constraint agents_max_starts_per_minute_not_negative check (max_starts_per_minute >= 0),
  paused_until timestamptz,
  pause_reason text,
  retry_backoff_base_seconds numeric not null default 10
    constraint agents_backoff_base_positive check (retry_backoff_base_seconds > 0),
  retry_backoff_max_seconds numeric not null default 600
    constraint agents_backoff_max_at_least_base check (retry_backoff_max_seconds >= retry_backoff_base_seconds),
  consecutive_failures int not null default 0,
  breaker_threshold int default 5
    constraint agents_breaker_threshold_positive check (breaker_threshold >= 1),
  breaker_cooldown_seconds int not null default 300
    constraint agents_breaker_cooldown_not_negative check (breaker_cooldown_seconds >= 0),
  daily_budget_usd numeric
    constraint agents_daily_budget_not_negative check (daily_budget_usd >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into swarm.agents (name, description) values
  ('claude', 'Claude Code (claude -p)'),
  ('codex', 'OpenAI Codex CLI (codex exec)'),
  ('gemini', 'Gemini CLI'),
  ('aider', 'aider'),
  ('opencode', 'opencode (profile defined in the worker TOML file)'),
  ('cursor', 'Cursor agent (profile defined in the worker TOML file)'),
  ('shell', 'sh -c PROMPT; only on workers started with --allow-shell');

create table swarm.agent_tasks (
  id bigint generated always as identity primary key,
  key text unique,
  queue text not null default 'default'
    constraint agent_tasks_queue_not_empty check (queue <> ''),
  agent text not null default 'shell' references swarm.agents (name) on update cascade,
  prompt text,
  args jsonb not null default '{}'
    constraint agent_tasks_args_is_object check (jsonb_typeof(args) = 'object'),
  priority int not null default 0
    constraint agent_tasks_priority_in_range check (priority between -1000 and 1000),
  status text not null default 'pending'
    constraint agent_tasks_status_known
    check (status in ('waiting', 'pending', 'running', 'completed', 'failed', 'cancelled')),
  depends_on bigint[] not null default '{}',
  unmet_dependencies int not null default 0,
  on_dependency_failure text not null default 'cancel'
    constraint agent_tasks_on_dependency_failure_known check (on_dependency_failure in ('cancel', 'run')),
  parent_id bigint,
  concurrency_key text,
  run_after timestamptz not null default swarm.now(),
  attempts int not null default 0,
  max_attempts int not null default 3
    constraint agent_tasks_max_attempts_at_least_one check (max_attempts >= 1),
  timeout_seconds int not null default 1800
    constraint agent_tasks_timeout_positive check (timeout_seconds > 0),
  lease_expires_at timestamptz,
  worker text,
  pid int,
  hostname text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  exit_code int,
  result jsonb,
  error text,
  output_tail text,
  log_path text,
  cost_usd numeric(14, 6),
  input_tokens bigint,
  output_tokens bigint,
  tags text[] not null default '{}',
  metadata jsonb not null default '{}',
  cancel_requested_at timestamptz,
  cancel_reason text,
  cancelled_by_dependency bigint,
  free_releases int not null default 0,
  constraint agent_tasks_attempts_within_max check (attempts between 0 and max_attempts),
  constraint agent_tasks_running_has_owner_and_lease
    check (status <> 'running' or (worker is not null and lease_expires_at is not null))
);

-- A queue table churns: every task is updated several times and then left behind. Vacuum it
-- early (2 % of rows instead of 20 %) and leave room on each page for HOT heartbeat updates.
alter table swarm.agent_tasks set (
  fillfactor = 90,
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_delay = 0
);

comment on table swarm.agent_tasks is
  'The queue: INSERT INTO swarm.agent_tasks (prompt) VALUES (...) enqueues a runnable shell task.';

-- The claim: status = pending, ordered exactly as claim_task orders (priority desc, run_after, id).
create index agent_tasks_claim_idx on swarm.agent_tasks (priority desc, run_after, id)
  where status = 'pending';
-- No separate (run_after) index on pending rows: the planner would pick it for the claim's
-- `run_after <= now` and sort the whole backlog. next_run_after walks agent_tasks_claim_idx.
-- Running tasks: caps per agent, reaping expired leases, per-worker views. lease_expires_at is
-- deliberately in no index, so a heartbeat is a HOT update (no index churn every lease/3).
create index agent_tasks_running_idx on swarm.agent_tasks (agent)
  where status = 'running';
create unique index agent_tasks_one_running_per_concurrency_key on swarm.agent_tasks (concurrency_key)
  where status = 'running' and concurrency_key is not null;
create index agent_tasks_pending_concurrency_key_idx on swarm.agent_tasks (concurrency_key)
  where status = 'pending' and concurrency_key is not null;
-- Dependents of a task: only waiting tasks can be released or cancelled by a dependency.
create index agent_tasks_waiting_depends_on_idx on swarm.agent_tasks using gin (depends_on)
  where status = 'waiting';
create index agent_tasks_cancelled_by_dependency_idx on swarm.agent_tasks (cancelled_by_dependency)
  where cancelled_by_dependency is not null;
create index agent_tasks_parent_idx on swarm.agent_tasks (parent_id) where parent_id is not null;
-- Archive and the finished-work stats.
create index agent_tasks_finished_idx on swarm.agent_tasks (finished_at)
  where status in ('completed', 'failed', 'cancelled');

create table swarm.task_events (
  id bigint generated always as identity primary key,
  task_id bigint not null,
  at timestamptz not null default now(),
  event text not null
    constraint task_events_event_known check (event in (
      'created', 'claimed', 'completed', 'failed', 'retry_scheduled', 'lease_expired',
      'released', 'cancelled', 'unblocked', 'stale_report')),
  worker text,
  attempt int,
  detail jsonb not null default '{}'
);
create index task_events_task_idx on swarm.task_events (task_id, id);
create index task_events_at_brin on swarm.task_events using brin (at);

create table swarm.workers (
  name text primary key,
  hostname text,
  pid int,
  agents text[],
  queues text[],
  concurrency int,
  version text,
  started_at timestamptz not null default now(),
  heartbeat_at timestamptz not null default now(),
  stopped_at timestamptz
);

-- Sliding one-minute window for max_starts_per_minute (only agents with a rate write here).
create table swarm.agent_starts (
  agent text not null,
  started_at timestamptz not null
);
create index agent_starts_agent_idx on swarm.agent_starts (agent, started_at);

-- Archive: the same columns, plus when they were moved.
create table swarm.agent_tasks_archive (like swarm.agent_tasks);
alter table swarm.agent_tasks_archive add column archived_at timestamptz not null default now();
alter table swarm.agent_tasks_archive add primary key (id);
create table swarm.task_events_archive (like swarm.task_events);
create index task_events_archive_task_idx on swarm.task_events_archive (task_id);

-- Roles are cluster-wide: create them once, whichever database migrates first.
do $$
declare
  v_role text;
begin
  foreach v_role in array array['swarm_enqueue', 'swarm_worker', 'swarm_monitor'] loop
    if not exists (select 1 from pg_roles where rolname = v_role) then
      execute format('create role %I nologin', v_role);
    end if;
  end loop;
end
$$;

revoke all on schema swarm from public;
alter default privileges in schema swarm revoke execute on functions from public;
