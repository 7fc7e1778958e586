--
-- 0010_schedules: cron schedules. Each row is a cron expression in a time zone and the template
-- of the task it enqueues; swarm.fire_schedules() (sql/75_schedules.sql) enqueues each due slot
-- once and moves next_fire_at on. Checks, defaults and next_fire_at are kept by the triggers
-- in sql/75_schedules.sql, which refuse bad values with SW001/SW005 naming the column.
--
create table swarm.schedules (
  name text primary key,
  cron text not null,
  timezone text not null default 'UTC',
  -- The task template (the columns of swarm.agent_tasks they fill; agent: the database's default
  -- agent, swarm.settings.default_agent, when the INSERT leaves it out).
  prompt text not null,
  agent text not null references swarm.agents (name) on update cascade,
  args jsonb not null default '{}',
  queue text not null default 'default',
  priority int not null default 0,
  tags text[] not null default '{}',
  metadata jsonb not null default '{}',
  timeout_seconds int not null default 1800,
  max_attempts int not null default 3,
  concurrency_key text,
  enabled boolean not null default true,
  -- After downtime (no fire_schedules call while slots came due): 'latest' enqueues the latest
  -- missed slot once, 'all' every missed slot, 'none' none of them (only a slot that is on time).
  catch_up text not null default 'latest',
  -- Maintained by the database: the next slot to enqueue (null while disabled), the slot and the
  -- task last enqueued, and why the last slot could not be enqueued (null once one is).
  next_fire_at timestamptz,
  last_fired_at timestamptz,
  last_task_id bigint,
  last_error text,
  -- The login that created the schedule: only it and the schema owner may change or drop it.
  created_by text not null default current_user,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- fire_schedules and the workers' wake-up timer read the enabled schedules by next_fire_at.
create index schedules_due_idx on swarm.schedules (next_fire_at) where enabled;

revoke all on swarm.schedules from public;
comment on table swarm.schedules is
  'cron schedules: insert into swarm.schedules (name, cron, prompt, agent) values (...); fired by swarm.fire_schedules()';
