-- Leases: a running attempt belongs to its worker while the worker keeps renewing it.

-- swarm.heartbeat: renew the leases of a worker's running tasks in one call.
--   locks:      each renewed task row (a plain UPDATE), then the worker's row in swarm.workers.
--   guarantees: a task is renewed only while it is running and owned by this worker; the answer
--               says per task whether it is still owned and whether cancellation was requested.
--   raises:     SW005 bad arguments.   notifies: nothing.
create or replace function swarm.heartbeat(worker text, task_ids bigint[], lease_seconds int default 60)
returns table (task_id bigint, owned boolean, cancel_requested boolean)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
begin
  if heartbeat.lease_seconds is null or heartbeat.lease_seconds < 1 then
    perform swarm._invalid(format('lease_seconds %s must be at least 1', heartbeat.lease_seconds));
  end if;
  if heartbeat.lease_seconds > 86400 then  -- a crashed worker's task would wait that long to be reaped
    perform swarm._invalid(format('lease_seconds %s is more than a day (86400)', heartbeat.lease_seconds),
                           'a lease is renewed by heartbeats: a short one is cheap');
  end if;
  update swarm.workers as w set heartbeat_at = v_now, stopped_at = null where w.name = heartbeat.worker;
  return query
  with renewed as (
    update swarm.agent_tasks as task
       set lease_expires_at = v_now + make_interval(secs => heartbeat.lease_seconds)
     where task.id = any(heartbeat.task_ids)
       and task.status = 'running' collate "C"  -- by primary key (docs/design.md#collate-c)
       and task.worker = heartbeat.worker
    returning task.id, task.cancel_requested_at is not null as cancel_wanted
  )
  select requested.id, renewed.id is not null, coalesce(renewed.cancel_wanted, false)
    from unnest(coalesce(heartbeat.task_ids, '{}')) as requested (id)
    left join renewed on renewed.id = requested.id;
end
$$;
comment on function swarm.heartbeat(text, bigint[], int)
  is 'renew the leases of a worker''s running tasks; per task: still owned? cancel requested?';

-- swarm.reap_expired: settle running tasks whose lease expired (their worker died or froze).
--   locks:      expired task rows FOR UPDATE SKIP LOCKED, in id order; so any number of workers
--               may call it at once and each expired attempt is settled exactly once.
--   guarantees: an expired attempt goes back to pending with backoff, or to failed when it was
--               the last one, or to cancelled when cancellation was requested; its late report is
--               refused afterwards (the fence moved on). Does not count as an agent failure.
--   notifies:   swarm_ready for tasks claimable at once (none: backoff delays them).
create or replace function swarm.reap_expired()
returns integer
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_count int := 0;
  v_error text;
begin
  perform set_config('swarm.api', 'on', true);
  for v_task in
    select task.* from swarm.agent_tasks as task
     where task.status = 'running' and task.lease_expires_at < v_now
     order by task.id
       for update skip locked
  loop
    v_error := format('lease expired at %s: worker %s stopped renewing it', v_task.lease_expires_at, v_task.worker);
    perform swarm._settle_attempt(v_task, 'lease_expired', v_error, true, null, v_now);
    v_count := v_count + 1;
  end loop;
  perform set_config('swarm.api', '', true);
  return v_count;
end
$$;
comment on function swarm.reap_expired() is 'retry, fail or cancel running tasks whose lease expired; safe to call concurrently';

-- swarm.next_run_after: when the next pending task becomes claimable (a worker's wake-up timer):
-- the earliest future run_after, or the end of a pause of an agent that has pending tasks.
create or replace function swarm.next_run_after(agents text[] default null, queues text[] default null)
returns timestamptz
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
declare
  v_now timestamptz := swarm.now();
  v_next timestamptz;
  v_pause_end timestamptz;
begin
  select min(task.run_after) into v_next
    from swarm.agent_tasks as task
   where task.status = 'pending' and task.run_after > v_now
     and (next_run_after.agents is null or task.agent = any(next_run_after.agents))
     and (next_run_after.queues is null or task.queue = any(next_run_after.queues));
  select min(a.paused_until) into v_pause_end
    from swarm.agents as a
   where a.paused_until > v_now and a.paused_until < '9999-12-31 00:00:00+00'
     and (next_run_after.agents is null or a.name = any(next_run_after.agents))
     and exists (select 1 from swarm.agent_tasks as task where task.status = 'pending' and task.agent = a.name);
  return least(v_next, v_pause_end);
end
$$;
comment on function swarm.next_run_after(text[], text[]) is 'earliest future moment a pending task becomes claimable';
