-- Stats for psql: views over the live tables and swarm.stats() over the event history.
-- Views are dropped and recreated (not CREATE OR REPLACE) so that a column can change between
-- releases without a migration; nothing depends on them inside the schema.

drop view if exists swarm.queue_stats;
drop view if exists swarm.agent_stats;
drop view if exists swarm.worker_stats;

-- swarm.queue_stats: tasks by queue, agent and status; how long the oldest has waited.
create view swarm.queue_stats as
select task.queue,
       task.agent,
       task.status,
       count(*) as tasks,
       count(*) filter (where task.status = 'pending' and task.run_after <= swarm.now()) as claimable,
       min(task.created_at) as oldest_created_at,
       swarm.now() - min(task.run_after) filter (where task.status = 'pending' and task.run_after <= swarm.now())
         as oldest_pending_age
  from swarm.agent_tasks as task
 group by task.queue, task.agent, task.status;
comment on view swarm.queue_stats is 'task counts by queue, agent and status, with the age of the oldest claimable task';

-- swarm.agent_stats: per agent, running against its cap, pause and why, last 24 h success and cost.
create view swarm.agent_stats as
select a.name as agent,
       coalesce(live.running, 0) as running,
       a.max_concurrent,
       coalesce(live.pending, 0) as pending,
       coalesce(live.waiting, 0) as waiting,
       a.max_starts_per_minute,
       a.paused_until > swarm.now() as paused,
       case when a.paused_until > swarm.now() then a.paused_until end as paused_until,
       case when a.paused_until > swarm.now() then a.pause_reason end as pause_reason,
       a.consecutive_failures,
       a.breaker_threshold,
       coalesce(day.completed, 0) as completed_24h,
       coalesce(day.failed, 0) as failed_24h,
       round(day.completed::numeric / nullif(day.completed + day.failed, 0), 3) as success_rate_24h,
       coalesce(day.cost_usd, 0) as cost_usd_24h,
       coalesce(today.cost_usd, 0) as cost_usd_today,
       a.daily_budget_usd
  from swarm.agents as a
  left join (
    -- One branch per status, each read from that status's partial index: the history of finished
    -- tasks is never scanned (one status = any(...) scan read all of it).
    select active.agent,
           sum(active.tasks) filter (where active.status = 'running') as running,
           sum(active.tasks) filter (where active.status = 'pending') as pending,
           sum(active.tasks) filter (where active.status = 'waiting') as waiting
      from (select task.agent, 'running' as status, count(*) as tasks
              from swarm.agent_tasks as task where task.status = 'running' group by task.agent
            union all
            select task.agent, 'pending', count(*)
              from swarm.agent_tasks as task where task.status = 'pending' group by task.agent
            union all
            select task.agent, 'waiting', count(*)
              from swarm.agent_tasks as task where task.status = 'waiting' group by task.agent) as active
     group by active.agent
  ) as live on live.agent = a.name
  left join (
    select task.agent,
           count(*) filter (where task.status = 'completed') as completed,
           count(*) filter (where task.status = 'failed') as failed,
           sum(task.cost_usd) as cost_usd
      from swarm.agent_tasks as task
     where task.status in ('completed', 'failed', 'cancelled')
       and task.finished_at > swarm.now() - interval '24 hours'
     group by task.agent
  ) as day on day.agent = a.name
  left join lateral (select swarm._spent_today(a.name, swarm.now()) as cost_usd) as today on true;
comment on view swarm.agent_stats is 'per agent: running vs cap, pause and reason, breaker, 24 h success rate and cost';

-- swarm.worker_stats: workers, whether they look alive, and what they run.
create view swarm.worker_stats as
select w.name as worker,
       w.hostname,
       w.pid,
       w.agents,
       w.queues,
       w.concurrency,
       coalesce(run.running, 0) as running,
       run.task_ids,
       w.started_at,
       w.heartbeat_at,
       swarm.now() - w.heartbeat_at as heartbeat_age,
       swarm._worker_alive(w.stopped_at, w.heartbeat_at, swarm.now()) as alive,
       w.stopped_at,
       w.quarantined  -- agents this worker stopped claiming: its node cannot run them
  from swarm.workers as w
  left join (
    select task.worker, count(*) as running, array_agg(task.id order by task.id) as task_ids
      from swarm.agent_tasks as task
     where task.status = 'running'
     group by task.worker
  ) as run on run.worker = w.name;
comment on view swarm.worker_stats is 'workers: liveness (heartbeat within 2 minutes), running tasks, quarantined agents';

-- swarm.stats: throughput and latency over a recent window, from the event history.
--   wait = claim time - when the task became claimable (ready_at recorded at claim);
--   run  = run_seconds recorded with each completed or failed attempt. Seconds.
create or replace function swarm.stats(since interval default '1 hour')
returns table (
  window_start timestamptz, window_end timestamptz,
  created bigint, claimed bigint, completed bigint, failed bigint, retried bigint, cancelled bigint,
  completed_per_minute numeric,
  wait_p50 numeric, wait_p95 numeric, wait_p99 numeric,
  run_p50 numeric, run_p95 numeric, run_p99 numeric,
  cost_usd numeric)
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  with bounds as (select swarm.now() - $1 as lo, swarm.now() as hi),
  recent as (
    select e.* from swarm.task_events as e, bounds where e.at > bounds.lo and e.at <= bounds.hi
  ),
  waits as (
    select extract(epoch from r.at - (r.detail ->> 'ready_at')::timestamptz) as seconds
      from recent as r where r.event = 'claimed' and r.detail ? 'ready_at'
  ),
  runs as (
    select (r.detail ->> 'run_seconds')::numeric as seconds
      from recent as r where r.event in ('completed', 'failed', 'retry_scheduled') and r.detail ? 'run_seconds'
  )
  select bounds.lo, bounds.hi,
         (select count(*) from recent where event = 'created'),
         (select count(*) from recent where event = 'claimed'),
         (select count(*) from recent where event = 'completed'),
         (select count(*) from recent where event = 'failed'),
         (select count(*) from recent where event in ('retry_scheduled', 'lease_expired') and detail ->> 'to' = 'pending'),
         (select count(*) from recent where event = 'cancelled'),
         round((select count(*) from recent where event = 'completed') / greatest(extract(epoch from $1) / 60, 1e-9)::numeric, 3),
         (select round(percentile_cont(0.50) within group (order by seconds)::numeric, 3) from waits),
         (select round(percentile_cont(0.95) within group (order by seconds)::numeric, 3) from waits),
         (select round(percentile_cont(0.99) within group (order by seconds)::numeric, 3) from waits),
         (select round(percentile_cont(0.50) within group (order by seconds)::numeric, 3) from runs),
         (select round(percentile_cont(0.95) within group (order by seconds)::numeric, 3) from runs),
         (select round(percentile_cont(0.99) within group (order by seconds)::numeric, 3) from runs),
         (select coalesce(sum(task.cost_usd), 0) from swarm.agent_tasks as task
           where task.status in ('completed', 'failed', 'cancelled') and task.finished_at > bounds.lo)
    from bounds
$$;
comment on function swarm.stats(interval) is 'throughput, wait and run time percentiles (seconds) over a recent window';
