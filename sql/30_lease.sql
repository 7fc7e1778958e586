-- Leases: a running attempt belongs to its worker while the worker keeps renewing it.
--
-- The fence. A report, a heartbeat or a release counts only when it comes from the task's current
-- attempt: the task is running, under this worker name, at this attempt number, and the report
-- carries the attempt's lease token. claim_task hands each claimed task a token (a digest of a
-- random salt that never leaves the claim and the task id); agent_tasks.lease_token stores only a
-- digest of it, so reading the queue reveals no token. swarm._holds_lease is that predicate, the
-- only place it is written. Besides, a worker name belongs to the login that registered it
-- (swarm._check_worker_login): another login's claim, heartbeat or report under that name is refused.

-- swarm._lease_token: the token of one claimed task (the claim's secret salt, the task id).
create or replace function swarm._lease_token(salt uuid, task_id bigint) returns uuid
language sql immutable parallel safe
as $$
  select encode(substring(sha256(uuid_send($1) || int8send($2)) from 1 for 16), 'hex')::uuid
$$;

-- swarm._lease_digest: what agent_tasks.lease_token stores for a token (not reversible).
create or replace function swarm._lease_digest(token uuid) returns uuid
language sql immutable parallel safe
as $$
  select encode(substring(sha256(uuid_send($1)) from 1 for 16), 'hex')::uuid
$$;

-- swarm._holds_lease: the fence predicate: does (worker, attempt, token) own this running attempt?
-- Called with the task's columns so that it inlines into each statement's WHERE. It compares
-- `status = 'running' collate "C"`, which keeps reports on the primary key (see the top of
-- 40_outcome.sql). A null or wrong token never holds.
create or replace function swarm._holds_lease(status text, task_worker text, task_attempts int, task_token uuid,
                                              worker text, attempt int, token uuid)
returns boolean
language sql immutable parallel safe
as $$
  select $1 = 'running' collate "C" and $2 = $5 and $3 = $6 and $4 = swarm._lease_digest($7)
$$;

-- swarm._check_worker_login: refuse a worker name registered by another login.
--   raises: SW007 when `worker` was registered (swarm.register_worker) by a login other than
--           session_user. A name never registered is not bound to anyone: its claims hold no
--           other login's tokens.
-- The test is a plain SQL function, inlined into the caller's IF (a plpgsql function with its
-- own query cost 50 us a call, twice per claim and report); only a refusal pays for plpgsql.
create or replace function swarm._worker_of_another_login(worker text) returns boolean
language sql stable
as $$
  select exists (select 1 from swarm.workers as w where w.name = $1 and w.login <> session_user)
$$;

create or replace function swarm._check_worker_login(worker text) returns void
language plpgsql stable
as $$
declare
  v_login text;
begin
  select w.login into v_login from swarm.workers as w where w.name = _check_worker_login.worker;
  if v_login is not null and v_login <> session_user then
    raise exception using errcode = 'SW007',
      message = format('worker %s belongs to login %s, not %s', _check_worker_login.worker, v_login, session_user),
      hint = 'each login reports only for the worker names it registered: run the worker under its own name';
  end if;
end
$$;

-- swarm.heartbeat: renew the leases of a worker's running tasks in one call.
--   locks:      each renewed task row (a plain UPDATE), then the worker's row in swarm.workers.
--   fenced by:  (worker, attempt, lease token): lease_tokens[i] is the token of task_ids[i];
--               a task without its token is reported not owned and its lease is left alone.
--   guarantees: a task is renewed only while it is running and owned by this worker; the answer
--               says per task whether it is still owned and whether cancellation was requested.
--   raises:     SW005 bad arguments, SW007 worker registered by another login.   notifies: nothing.
create or replace function swarm.heartbeat(worker text, task_ids bigint[], lease_seconds int default 60,
                                           lease_tokens uuid[] default null)
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
  if heartbeat.lease_tokens is not null and cardinality(heartbeat.lease_tokens) <> cardinality(heartbeat.task_ids) then
    perform swarm._invalid('task_ids and lease_tokens must have the same length');
  end if;
  if swarm._worker_of_another_login(heartbeat.worker) then
    perform swarm._check_worker_login(heartbeat.worker);
  end if;
  update swarm.workers as w set heartbeat_at = v_now, stopped_at = null where w.name = heartbeat.worker;
  return query
  with renewed as (
    update swarm.agent_tasks as task
       set lease_expires_at = v_now + make_interval(secs => heartbeat.lease_seconds)
     where task.id = any(heartbeat.task_ids)
       and swarm._holds_lease(task.status, task.worker, task.attempts, task.lease_token, heartbeat.worker,
                              task.attempts, heartbeat.lease_tokens[array_position(heartbeat.task_ids, task.id)])
    returning task.id, task.cancel_requested_at is not null as cancel_wanted
  )
  select requested.id, renewed.id is not null, coalesce(renewed.cancel_wanted, false)
    from unnest(coalesce(heartbeat.task_ids, '{}')) as requested (id)
    left join renewed on renewed.id = requested.id;
end
$$;
comment on function swarm.heartbeat(text, bigint[], int, uuid[])
  is 'renew the leases of a worker''s running tasks (fenced by their tokens); per task: still owned? cancel requested?';

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
