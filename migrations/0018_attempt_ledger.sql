-- 0018_attempt_ledger: one row per attempt (swarm.task_attempts), the spend per agent and day
-- that budgets read (kept when tasks are archived), and the session a claimed attempt resumes.
--
-- A row is opened by claim_task and closed by the report that ends the attempt (complete, fail,
-- release, lease expiry), in the same transaction. Attempt numbers repeat: a release that does not
-- spend the attempt gives its number back, so the next run reports with the same number; rows are
-- told apart by id (their order) and started_at.
create table swarm.task_attempts (
  id bigint generated always as identity primary key,
  task_id bigint not null,
  attempt int not null,
  agent text not null,
  worker text not null,
  hostname text,
  started_at timestamptz not null,
  finished_at timestamptz,
  outcome text
    constraint task_attempts_outcome_known
    check (outcome in ('completed', 'failed', 'released', 'lease_expired', 'cancelled')),
  exit_code int,
  error text,
  cost_usd numeric(14, 6),
  input_tokens bigint,
  output_tokens bigint,
  session_id text,
  resumed_session_id text,
  reserved_usd numeric(14, 6),
  log_path text,
  constraint task_attempts_finished_has_outcome check ((finished_at is null) = (outcome is null))
);
comment on table swarm.task_attempts is
  'one row per attempt of a task: who ran it, how it ended, what it cost, its agent session';
comment on column swarm.task_attempts.resumed_session_id is
  'the agent session this attempt was told to resume (args.resume_on_retry), null for a fresh one';
comment on column swarm.task_attempts.reserved_usd is
  'budget held for this attempt while it runs (agents with daily_budget_usd); settled by its report';
create index task_attempts_task_idx on swarm.task_attempts (task_id, id);
-- Open attempts per agent: the budget's reservations.
create index task_attempts_open_idx on swarm.task_attempts (agent) where finished_at is null;
-- An agent's recent costs: the reservation of an attempt without its own cap.
create index task_attempts_cost_idx on swarm.task_attempts (agent, id) where cost_usd is not null;

create table swarm.task_attempts_archive (like swarm.task_attempts including constraints);
alter table swarm.task_attempts_archive add primary key (id);
create index task_attempts_archive_task_idx on swarm.task_attempts_archive (task_id, id);

-- What each agent spent per UTC day, added to by every report that carries a cost. Archiving or
-- deleting tasks does not lower it, so a daily budget holds whatever happens to the tasks.
create table swarm.agent_daily_spend (
  agent text not null references swarm.agents (name) on update cascade on delete cascade,
  day date not null,
  cost_usd numeric(14, 6) not null default 0,
  primary key (agent, day)
);
comment on table swarm.agent_daily_spend is
  'cost reported per agent and UTC day (daily_budget_usd reads it); archiving tasks does not lower it';

-- Today's spend so far, as the budget read it before this table existed.
insert into swarm.agent_daily_spend (agent, day, cost_usd)
select spent.agent, (swarm.now() at time zone 'UTC')::date, sum(spent.cost_usd)
  from (select task.agent, task.cost_usd, task.finished_at from swarm.agent_tasks as task
        union all
        select archived.agent, archived.cost_usd, archived.finished_at
          from swarm.agent_tasks_archive as archived) as spent
 where spent.cost_usd is not null
   and spent.finished_at >= date_trunc('day', swarm.now() at time zone 'UTC') at time zone 'UTC'
 group by spent.agent;

-- Attempts running now get their open row, so their reports close it.
insert into swarm.task_attempts (task_id, attempt, agent, worker, hostname, started_at)
select task.id, task.attempts, task.agent, task.worker, task.hostname, coalesce(task.started_at, now())
  from swarm.agent_tasks as task
 where task.status = 'running';

alter table swarm.agent_tasks add column resume_session_id text;
comment on column swarm.agent_tasks.resume_session_id is
  'set by claim_task: the agent session the running attempt resumes (args.resume_on_retry), or null';

-- The report functions gain the attempt's session (and the releases its usage): drop every
-- signature they had; sql/40_outcome.sql creates the new ones and sql/95_grants.sql grants them.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure from pg_proc as p
     where p.pronamespace = 'swarm'::regnamespace
       and p.proname in ('complete_task', 'fail_task', 'release_task', 'release_for_usage_limit')
  loop
    execute format('drop function %s', v_function);
  end loop;
end
$$;
