-- Outcomes: a worker reports how an attempt ended. Every report is fenced by (worker, attempt,
-- lease token): swarm._holds_lease (sql/30_lease.sql).
--
-- Why the fences compare `status = 'running' collate "C"` and why the API's functions run with
-- enable_seqscan = off and jit = off: docs/design.md, "Rules for a new SQL function".

-- swarm._fence: lock the task and check that the report comes from its current attempt.
--   locks:   the task row FOR UPDATE.
--   returns: the task when (worker, attempt, token) hold its lease; null otherwise, after logging
--            'stale_report' (an event, not an exception, so the record survives).
--   raises:  SW002 unknown task.
create or replace function swarm._fence(task_id bigint, worker text, attempt int, lease_token uuid, report text,
                                        as_of timestamptz)
returns swarm.agent_tasks
language plpgsql volatile
as $$
declare
  v_task swarm.agent_tasks;
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = _fence.task_id for update;
  if not found then
    perform swarm._unknown_task(_fence.task_id);
  end if;
  if swarm._holds_lease(v_task.status, v_task.worker, v_task.attempts, v_task.lease_token,
                        _fence.worker, _fence.attempt, _fence.lease_token) then
    return v_task;
  end if;
  perform swarm._log(_fence.task_id, 'stale_report', _fence.worker, _fence.attempt,
    jsonb_build_object('report', _fence.report, 'status', v_task.status,
                       'current_worker', v_task.worker, 'current_attempt', v_task.attempts), _fence.as_of);
  return null;
end
$$;

-- swarm._stale_reason: why a fenced report was refused, in words.
create or replace function swarm._stale_reason(task_id bigint, worker text, attempt int, lease_token uuid)
returns text
language sql stable
as $$
  select case
           when task.status = 'running' and task.worker = $2 and task.attempts = $3
             then format('stale report for task %s attempt %s from %s: %s', $1, $3, $2,
                         case when $4 is null then 'the report carries no lease token'
                              else 'the lease token is not this attempt''s' end)
           else format('stale report for task %s attempt %s from %s: the task is %s%s', $1, $3, $2, task.status,
                       case when task.status = 'running'
                            then format(' (attempt %s, worker %s)', task.attempts, task.worker) else '' end)
         end
    from swarm.agent_tasks as task where task.id = $1
$$;

-- swarm._backoff: delay before retry number `attempt` of an agent's task: exponential from the
-- agent's base, capped at its max, with equal jitter (between half and all of the step), so a
-- burst of failures does not come back as a burst.
create or replace function swarm._backoff(agent text, attempt int) returns interval
language sql volatile
as $$
  select make_interval(secs => step / 2 + random() * step / 2)
    from (select least(a.retry_backoff_max_seconds,
                       a.retry_backoff_base_seconds * power(2::numeric, greatest(least($2, 40) - 1, 0)))::float8 as step
            from swarm.agents as a where a.name = $1) as s
$$;

-- swarm._settle_attempt: end a running attempt that did not succeed.
--   cause:      'failed' (fail_task), 'released' (release_task), 'lease_expired' (reap_expired).
--   guarantees: cancel requested -> cancelled; retry allowed and attempts left -> pending at
--               now + delay (backoff when delay is null); otherwise failed. Final outcomes apply
--               the dependents' on_dependency_failure in the same transaction.
--               spends_attempt = false (a free release) always goes back to pending and gives
--               the attempt back: the next claim reuses its number.
--   returns:    the new status.
create or replace function swarm._settle_attempt(task swarm.agent_tasks, cause text, error text, retryable boolean,
                                                 delay interval, as_of timestamptz,
                                                 spends_attempt boolean default true)
returns text
language plpgsql volatile
as $$
declare
  v_status text;
  v_delay interval;
begin
  if task.cancel_requested_at is not null then
    v_status := 'cancelled';
  elsif not spends_attempt or (retryable and task.attempts < task.max_attempts) then
    v_status := 'pending';
    v_delay := coalesce(delay, swarm._backoff(task.agent, task.attempts));
  else
    v_status := 'failed';
  end if;

  update swarm.agent_tasks as t
     set status = v_status,
         lease_expires_at = null,
         attempts = case when v_status = 'pending' and not spends_attempt then t.attempts - 1 else t.attempts end,
         free_releases = t.free_releases + case when v_status = 'pending' and not spends_attempt then 1 else 0 end,
         error = coalesce(_settle_attempt.error, t.error),
         run_after = case when v_status = 'pending' then _settle_attempt.as_of + v_delay else t.run_after end,
         finished_at = case when v_status = 'pending' then null else _settle_attempt.as_of end,
         updated_at = _settle_attempt.as_of
   where t.id = task.id;
  perform swarm._end_attempt(task, case when v_status = 'cancelled' then 'cancelled'
                                        when cause in ('released', 'lease_expired') then cause
                                        else 'failed' end, _settle_attempt.error, _settle_attempt.as_of);

  perform swarm._log(task.id,
    case when cause = 'lease_expired' then 'lease_expired'
         when v_status = 'cancelled' then 'cancelled'
         when v_status = 'failed' then 'failed'
         when cause = 'released' then 'released'
         else 'retry_scheduled' end,
    task.worker, task.attempts,
    jsonb_strip_nulls(jsonb_build_object(
      'to', v_status, 'error', _settle_attempt.error,
      'retry_at', case when v_status = 'pending' then _settle_attempt.as_of + v_delay end,
      'attempt_spent', case when cause = 'released' then spends_attempt end,
      'run_seconds', round(extract(epoch from _settle_attempt.as_of - task.started_at)::numeric, 3))),
    _settle_attempt.as_of);

  if v_status in ('failed', 'cancelled') then
    perform swarm._apply_dependency_failure(array[task.id], _settle_attempt.as_of);
  elsif v_delay <= interval '0' then
    perform swarm._notify_ready(array[task.agent]);
  end if;
  return v_status;
end
$$;

-- swarm.complete_task: record a successful attempt and release its dependents.
--   locks:      the task row (UPDATE), its agent row only when a failure count must be reset,
--               then dependents in id order (same order as cancel_task).
--   fenced by:  (worker, attempt, lease_token); a stale report changes nothing, returns
--               accepted = false and logs a 'stale_report' event.
--   guarantees: dependents whose last dependency this was become 'pending' in this transaction;
--               the agent's consecutive failure count (circuit breaker) goes back to 0; the
--               attempt's ledger row is closed with its usage and session, the cost added to the
--               task's totals and to the agent's spend of the day.
--   raises:     SW002 unknown task, SW007 worker registered by another login.
--   notifies:   swarm_ready once per agent released.
create or replace function swarm.complete_task(
  task_id bigint,
  worker text,
  attempt int,
  result jsonb default null,
  exit_code int default null,
  output_tail text default null,
  log_path text default null,
  cost_usd numeric default null,
  input_tokens bigint default null,
  output_tokens bigint default null,
  session_id text default null,
  lease_token uuid default null)
returns table (accepted boolean, status text, message text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_agent text;
  v_key text;
  v_cost numeric := complete_task.cost_usd;
begin
  if v_cost is null and coalesce(complete_task.input_tokens, complete_task.output_tokens) is not null then
    -- No cost reported (codex, gemini): its tokens at the agent's prices (swarm.agent_prices).
    select swarm._priced_cost(task.agent, task.args->>'model', complete_task.input_tokens,
                              complete_task.output_tokens)
      into v_cost from swarm.agent_tasks as task where task.id = complete_task.task_id;
  end if;
  if swarm._worker_of_another_login(complete_task.worker) then
    perform swarm._check_worker_login(complete_task.worker);
  end if;
  perform set_config('swarm.api', 'on', true);
  -- The fence is the WHERE clause: one statement updates, logs and resets the breaker.
  with done as (
    update swarm.agent_tasks as task
       set status = 'completed',
           lease_expires_at = null,
           finished_at = v_now,
           updated_at = v_now,
           result = complete_task.result,
           exit_code = complete_task.exit_code,
           output_tail = complete_task.output_tail,
           log_path = coalesce(complete_task.log_path, task.log_path),
           -- Totals over the task's attempts (swarm.task_attempts holds each one's).
           cost_usd = swarm._plus(task.cost_usd, v_cost),
           input_tokens = swarm._plus(task.input_tokens, complete_task.input_tokens),
           output_tokens = swarm._plus(task.output_tokens, complete_task.output_tokens),
           error = null
     where task.id = complete_task.task_id
       and swarm._holds_lease(task.status, task.worker, task.attempts, task.lease_token,
                              complete_task.worker, complete_task.attempt, complete_task.lease_token)
    returning task.id, task.agent, task.concurrency_key, task.attempts, task.started_at
  ), logged as (
    insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
    select done.id, v_now, 'completed', complete_task.worker, done.attempts,
           jsonb_build_object('to', 'completed', 'run_seconds', round(extract(epoch from v_now - done.started_at)::numeric, 3))
      from done
  ), breaker_closed as (
    update swarm.agents as a set consecutive_failures = 0
      from done where a.name = done.agent and a.consecutive_failures <> 0
  ), attempt_closed as (  -- the attempt's ledger row (sql/42_attempts.sql)
    update swarm.task_attempts as ta
       set finished_at = v_now, outcome = 'completed', exit_code = complete_task.exit_code,
           cost_usd = v_cost, input_tokens = complete_task.input_tokens,
           output_tokens = complete_task.output_tokens, session_id = complete_task.session_id,
           log_path = coalesce(complete_task.log_path, ta.log_path)
      from done where ta.task_id = done.id and ta.attempt = done.attempts and ta.finished_at is null
  ), spent as (
    insert into swarm.agent_daily_spend as spend (agent, day, cost_usd)
    select done.agent, (v_now at time zone 'UTC')::date, v_cost
      from done where coalesce(v_cost, 0) <> 0
        on conflict on constraint agent_daily_spend_pkey do update set cost_usd = spend.cost_usd + excluded.cost_usd
  )
  select done.agent, done.concurrency_key into v_agent, v_key from done;

  if v_agent is null then
    perform set_config('swarm.api', '', true);
    perform swarm._fence(complete_task.task_id, complete_task.worker, complete_task.attempt,
                         complete_task.lease_token, 'complete', v_now);
    return query select false, task.status, swarm._stale_reason(complete_task.task_id, complete_task.worker,
                                                                complete_task.attempt, complete_task.lease_token)
                   from swarm.agent_tasks as task where task.id = complete_task.task_id;
    return;
  end if;
  perform swarm._release_dependents(array[complete_task.task_id], v_now);
  perform swarm._notify_slot_freed(v_agent, v_key);
  perform set_config('swarm.api', '', true);
  return query select true, 'completed'::text, null::text;
end
$$;
comment on function swarm.complete_task(bigint, text, int, jsonb, int, text, text, numeric, bigint, bigint, text, uuid)
  is 'record a successful attempt (fenced by worker, attempt and lease token) and release dependents';

-- swarm.complete_tasks: complete a batch of attempts of one worker in one statement (for
-- in-process consumers that claim in batches); each element is fenced as in complete_task
-- (lease_tokens[i] is the token of task_ids[i]).
--   locks:      the task rows (UPDATE), then dependents in id order.
--   returns:    one row per task id: accepted, the task's status, why a report was refused.
--   raises:     SW005 arrays of different lengths, SW007 worker registered by another login.
--   notifies:   swarm_ready for released dependents.
create or replace function swarm.complete_tasks(worker text, task_ids bigint[], attempts int[],
                                                results jsonb[] default null, lease_tokens uuid[] default null)
returns table (task_id bigint, accepted boolean, status text, message text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
-- One plan for any batch and any statistics: the tasks by primary key (their id array), hashed
-- against the reports. Left to the planner, a plan made while statistics said nothing was running
-- walked the whole primary key for each batch, or joined each task to a rescan of the reports
-- (measured: 33 ms instead of 7 ms for 500 tasks among 20,000).
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set jit = off
set enable_nestloop = off
set enable_mergejoin = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_done bigint[];
  v_agents text[];
  v_keyed_agents text[];
  v_stale record;
begin
  if cardinality(complete_tasks.task_ids) is distinct from cardinality(complete_tasks.attempts)
     or (complete_tasks.results is not null
         and cardinality(complete_tasks.results) <> cardinality(complete_tasks.task_ids)) then
    perform swarm._invalid('task_ids, attempts and results must have the same length');
  end if;
  if complete_tasks.lease_tokens is not null
     and cardinality(complete_tasks.lease_tokens) <> cardinality(complete_tasks.task_ids) then
    perform swarm._invalid('task_ids and lease_tokens must have the same length');
  end if;
  if swarm._worker_of_another_login(complete_tasks.worker) then
    perform swarm._check_worker_login(complete_tasks.worker);
  end if;
  perform set_config('swarm.api', 'on', true);
  with reports as (
    select r.id, r.attempt, r.result, r.token
      from unnest(complete_tasks.task_ids, complete_tasks.attempts,
                  coalesce(complete_tasks.results, array_fill(null::jsonb, array[cardinality(complete_tasks.task_ids)])),
                  coalesce(complete_tasks.lease_tokens,
                           array_fill(null::uuid, array[cardinality(complete_tasks.task_ids)])))
           as r (id, attempt, result, token)
  ), done as (
    update swarm.agent_tasks as task
       set status = 'completed', lease_expires_at = null, finished_at = v_now, updated_at = v_now,
           result = reports.result, error = null
      from reports
     where task.id = any(complete_tasks.task_ids) and task.id = reports.id
       and swarm._holds_lease(task.status, task.worker, task.attempts, task.lease_token,
                              complete_tasks.worker, reports.attempt, reports.token)
    returning task.id, task.agent, task.attempts, task.started_at, task.concurrency_key
  ), logged as (
    insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
    select done.id, v_now, 'completed', complete_tasks.worker, done.attempts,
           jsonb_build_object('to', 'completed', 'run_seconds', round(extract(epoch from v_now - done.started_at)::numeric, 3))
      from done
  ), breaker_closed as (
    update swarm.agents as a set consecutive_failures = 0
     where a.name in (select done.agent from done) and a.consecutive_failures <> 0
  ), attempts_closed as (  -- the attempts' ledger rows (sql/42_attempts.sql)
    update swarm.task_attempts as ta set finished_at = v_now, outcome = 'completed'
      from done  -- the reported ids find the rows by task_attempts_task_idx, the join picks the attempts
     where ta.task_id = any(complete_tasks.task_ids) and ta.task_id = done.id and ta.attempt = done.attempts
       and ta.finished_at is null
  )
  select array_agg(done.id), array_agg(distinct done.agent),
         array_agg(distinct done.agent) filter (where done.concurrency_key is not null)
    into v_done, v_agents, v_keyed_agents from done;
  v_done := coalesce(v_done, '{}');
  if cardinality(v_done) > 0 then
    perform swarm._release_dependents(v_done, v_now);
  end if;
  -- Freed slots: agents of keyed tasks, and capped agents (as _notify_slot_freed, per agent).
  perform swarm._notify_ready(v_keyed_agents || array(
    select a.name from swarm.agents as a
     where a.name = any(v_agents) and (a.max_concurrent is not null or a.max_starts_per_minute is not null)));
  perform set_config('swarm.api', '', true);
  if cardinality(v_done) = cardinality(complete_tasks.task_ids) then
    -- Every report accepted (so the ids were distinct): nothing to look up.
    return query select r.id, true, 'completed'::text, null::text
                   from unnest(complete_tasks.task_ids) as r (id);
    return;
  end if;
  for v_stale in
    select r.id, r.attempt, complete_tasks.lease_tokens[r.n] as token
      from unnest(complete_tasks.task_ids, complete_tasks.attempts) with ordinality as r (id, attempt, n)
     where r.id <> all(v_done)
  loop
    perform swarm._fence(v_stale.id, complete_tasks.worker, v_stale.attempt, v_stale.token, 'complete', v_now);
  end loop;
  return query
    select r.id, r.id = any(v_done), task.status,
           case when r.id <> all(v_done)
                then swarm._stale_reason(r.id, complete_tasks.worker, r.attempt, complete_tasks.lease_tokens[r.n]) end
      from unnest(complete_tasks.task_ids, complete_tasks.attempts) with ordinality as r (id, attempt, n)
      left join swarm.agent_tasks as task on task.id = r.id
     order by r.n;
end
$$;
comment on function swarm.complete_tasks(text, bigint[], int[], jsonb[], uuid[])
  is 'complete a batch of attempts of one worker (each fenced) and release dependents';

-- swarm.fail_task: record a failed attempt; the engine decides retry, final failure or cancel.
--   locks:      the task row, then its agent row (failure count), then dependents in id order.
--   fenced by:  (worker, attempt, lease_token), as complete_task.
--   guarantees: retryable and attempts left -> pending after retry_in_seconds or the agent's
--               backoff; otherwise failed, and dependents cancelled or released per their
--               on_dependency_failure, transitively; a requested cancel -> cancelled. Only a
--               failure with fault = 'service' (it says something about the agent's service)
--               counts towards the agent's circuit breaker; fault = 'task' (the task's own
--               failure: a command exiting 3, a refused prompt) never pauses the agent. The
--               attempt's ledger row is closed; cost and tokens add to the task's totals and the
--               day's spend.
--   raises:     SW002 unknown task, SW005 negative retry_in_seconds or unknown fault, SW007 another
--               login's worker.
--   notifies:   swarm_ready when the retry is immediate or dependents became claimable.
create or replace function swarm.fail_task(
  task_id bigint,
  worker text,
  attempt int,
  error text,
  exit_code int default null,
  output_tail text default null,
  log_path text default null,
  result jsonb default null,
  cost_usd numeric default null,
  input_tokens bigint default null,
  output_tokens bigint default null,
  retry_in_seconds int default null,
  retryable boolean default true,
  session_id text default null,
  fault text default 'service',
  lease_token uuid default null)
returns table (accepted boolean, status text, message text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_status text;
  v_cost numeric;
begin
  if fail_task.retry_in_seconds < 0 then
    perform swarm._invalid(format('retry_in_seconds %s must not be negative', fail_task.retry_in_seconds));
  end if;
  if fail_task.fault is distinct from 'service' and fail_task.fault is distinct from 'task' then
    perform swarm._invalid(format('fault %L must be ''service'' or ''task''', fail_task.fault));
  end if;
  if swarm._worker_of_another_login(fail_task.worker) then
    perform swarm._check_worker_login(fail_task.worker);
  end if;
  v_task := swarm._fence(fail_task.task_id, fail_task.worker, fail_task.attempt, fail_task.lease_token, 'fail', v_now);
  if v_task.id is null then
    return query select false, task.status, swarm._stale_reason(fail_task.task_id, fail_task.worker, fail_task.attempt,
                                                                fail_task.lease_token)
                   from swarm.agent_tasks as task where task.id = fail_task.task_id;
    return;
  end if;
  -- No cost reported (codex, gemini): its tokens at the agent's prices (swarm.agent_prices).
  v_cost := coalesce(fail_task.cost_usd, swarm._priced_cost(v_task.agent, v_task.args->>'model',
                                                        fail_task.input_tokens, fail_task.output_tokens));
  perform set_config('swarm.api', 'on', true);
  update swarm.agent_tasks as task
     set exit_code = fail_task.exit_code,
         output_tail = fail_task.output_tail,
         log_path = coalesce(fail_task.log_path, task.log_path),
         result = coalesce(fail_task.result, task.result),
         cost_usd = swarm._plus(task.cost_usd, v_cost),
         input_tokens = swarm._plus(task.input_tokens, fail_task.input_tokens),
         output_tokens = swarm._plus(task.output_tokens, fail_task.output_tokens)
   where task.id = v_task.id;
  perform swarm._attempt_usage(v_task, v_now, fail_task.exit_code, v_cost, fail_task.input_tokens,
                               fail_task.output_tokens, fail_task.session_id, fail_task.log_path);
  v_status := swarm._settle_attempt(v_task, 'failed', coalesce(fail_task.error, 'failed'),
                                    coalesce(fail_task.retryable, true),
                                    make_interval(secs => fail_task.retry_in_seconds), v_now);
  if v_status <> 'cancelled' and fail_task.fault = 'service' then
    perform swarm._agent_failed(v_task.agent, v_now);
  end if;
  perform swarm._notify_slot_freed(v_task.agent, v_task.concurrency_key);
  perform set_config('swarm.api', '', true);
  return query select true, v_status, null::text;
end
$$;
comment on function swarm.fail_task(bigint, text, int, text, int, text, text, jsonb, numeric, bigint, bigint, int,
                                    boolean, text, text, uuid)
  is 'record a failed attempt (fenced); retry with backoff, fail for good, or cancel if requested';

-- swarm.release_task: give a running task back without an outcome (usage limit, EX_TEMPFAIL,
-- worker shutdown, a node-local fault).
--   fenced by:  (worker, attempt, lease_token), as complete_task.
--   guarantees: count_attempt = false gives the attempt back, at most 10 times per task (after
--               that a release spends the attempt, so a task cannot bounce forever); a release that
--               spends the last attempt fails the task. A requested cancel -> cancelled.
--               delay_seconds null backs off: the agent's retry backoff for the task's next free
--               release (10 s, 20 s, 40 s ... up to retry_backoff_max_seconds, with jitter), so an
--               agent exiting 75 at once does not spin through its free releases. The attempt's
--               ledger row is closed as 'released' with its session, so the next attempt can
--               resume it (args.resume_on_retry); a cost adds to the totals.
--   raises:     SW002 unknown task, SW005 negative delay, SW007 another login's worker.
--   notifies:   swarm_ready when delay = 0.
create or replace function swarm.release_task(
  task_id bigint,
  worker text,
  attempt int,
  delay_seconds int default 0,
  count_attempt boolean default false,
  reason text default null,
  exit_code int default null,
  log_path text default null,
  cost_usd numeric default null,
  input_tokens bigint default null,
  output_tokens bigint default null,
  session_id text default null,
  lease_token uuid default null)
returns table (accepted boolean, status text, message text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_status text;
  v_cost numeric;
begin
  if release_task.delay_seconds < 0 then
    perform swarm._invalid(format('delay_seconds %s must not be negative', release_task.delay_seconds));
  end if;
  if swarm._worker_of_another_login(release_task.worker) then
    perform swarm._check_worker_login(release_task.worker);
  end if;
  v_task := swarm._fence(release_task.task_id, release_task.worker, release_task.attempt, release_task.lease_token,
                         'release', v_now);
  if v_task.id is null then
    return query select false, task.status,
                        swarm._stale_reason(release_task.task_id, release_task.worker, release_task.attempt,
                                            release_task.lease_token)
                   from swarm.agent_tasks as task where task.id = release_task.task_id;
    return;
  end if;
  -- No cost reported (codex, gemini): its tokens at the agent's prices (swarm.agent_prices).
  v_cost := coalesce(release_task.cost_usd, swarm._priced_cost(v_task.agent, v_task.args->>'model',
                                                        release_task.input_tokens, release_task.output_tokens));
  perform set_config('swarm.api', 'on', true);
  if coalesce(v_cost, release_task.input_tokens, release_task.output_tokens) is not null then
    update swarm.agent_tasks as task
       set cost_usd = swarm._plus(task.cost_usd, v_cost),
           input_tokens = swarm._plus(task.input_tokens, release_task.input_tokens),
           output_tokens = swarm._plus(task.output_tokens, release_task.output_tokens)
     where task.id = v_task.id;
  end if;
  perform swarm._attempt_usage(v_task, v_now, release_task.exit_code, v_cost,
                               release_task.input_tokens, release_task.output_tokens, release_task.session_id,
                               release_task.log_path);
  v_status := swarm._settle_attempt(v_task, 'released', coalesce(release_task.reason, 'released by worker'), true,
                                    coalesce(make_interval(secs => release_task.delay_seconds),
                                             swarm._backoff(v_task.agent, v_task.free_releases + 1)), v_now,
                                    coalesce(release_task.count_attempt, false) or v_task.free_releases >= 10);
  perform swarm._notify_slot_freed(v_task.agent, v_task.concurrency_key);
  perform set_config('swarm.api', '', true);
  return query select true, v_status, null::text;
end
$$;
comment on function swarm.release_task(bigint, text, int, int, boolean, text, int, text, numeric, bigint, bigint, text,
                                       uuid)
  is 'give a running task back (fenced), by default without spending the attempt';
