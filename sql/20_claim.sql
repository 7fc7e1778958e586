-- Claim: hand pending tasks to a worker.

-- The claim's rules, each one small function shared by claim_task and swarm.why_pending
-- (sql/24_why_pending.sql), so that what the claim does and what why_pending says cannot drift
-- apart. The expressions are plain SQL functions, which the planner inlines into the claim's
-- queries (no call per row); the counts are plpgsql, which keeps their plans per session.

-- swarm._in_scope: whether a worker whose list (of agents or queues) is scope takes value;
-- a null list takes every value.
create or replace function swarm._in_scope(scope text[], value text) returns boolean
language sql immutable parallel safe
as $$ select scope is null or value = any(scope) $$;

-- swarm._task_due: whether a task's run_after has come.
create or replace function swarm._task_due(run_after timestamptz, at timestamptz) returns boolean
language sql immutable parallel safe
as $$ select run_after <= at $$;

-- swarm._agent_paused: whether an agent is paused (by the breaker or an operator) at this time.
create or replace function swarm._agent_paused(paused_until timestamptz, at timestamptz) returns boolean
language sql immutable parallel safe
as $$ select paused_until is not null and paused_until > at $$;

-- swarm._spent_today: what an agent's attempts cost since midnight UTC (for daily_budget_usd),
-- as reported (swarm.agent_daily_spend: archiving tasks does not lower it).
create or replace function swarm._spent_today(agent text, at timestamptz) returns numeric
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select coalesce((select spend.cost_usd from swarm.agent_daily_spend as spend
                    where spend.agent = $1 and spend.day = ($2 at time zone 'UTC')::date), 0)
$$;

-- swarm._reserved_now: what an agent's running attempts hold of its budget. An attempt is open
-- exactly while its task runs it, so they are found through the agent's running tasks (no index
-- names task_attempts.finished_at: closing a row is a HOT update, migration 0031).
create or replace function swarm._reserved_now(agent text) returns numeric
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select coalesce(sum(ta.reserved_usd), 0)
    from swarm.agent_tasks as task
    join swarm.task_attempts as ta on ta.task_id = task.id and ta.attempt = task.attempts
   where task.status = 'running' and task.agent = $1 and ta.finished_at is null
$$;

-- swarm._typical_cost: the median cost of an agent's last 20 attempts that cost something.
create or replace function swarm._typical_cost(agent text) returns numeric
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select percentile_cont(0.5) within group (order by recent.cost_usd)::numeric
    from (select ta.cost_usd from swarm.task_attempts as ta
           where ta.agent = $1 and ta.cost_usd > 0
           order by ta.id desc limit 20) as recent
$$;

-- swarm._agent_over_budget: whether an agent's daily budget is used up: spent, or held by its
-- running attempts, or what is left is less than its typical attempt costs (sql/42_attempts.sql:
-- budgets). Null budget: never.
create or replace function swarm._agent_over_budget(agent text, daily_budget_usd numeric, at timestamptz)
returns boolean
language sql stable
as $$
  select case when daily_budget_usd is null then false
              else swarm._spent_today(agent, at) + swarm._reserved_now(agent) >= daily_budget_usd
                   or swarm._spent_today(agent, at) + swarm._reserved_now(agent)
                      + coalesce(swarm._typical_cost(agent), 0) > daily_budget_usd end
$$;

-- swarm._budget_reservation: what an attempt of a task reserves of its agent's daily budget: the
-- task's args.max_budget_usd, else the agent's typical cost, else all that is left. It is claimed
-- only when this fits in what is left (neither spent nor held by running attempts).
create or replace function swarm._budget_reservation(max_budget_usd text, typical numeric, budget_left numeric)
returns numeric
language sql immutable parallel safe
as $$ select coalesce(max_budget_usd::numeric, typical, budget_left) $$;

-- swarm._agent_running: how many tasks of an agent are running (for max_concurrent).
create or replace function swarm._agent_running(agent text) returns int
language plpgsql stable
as $$
begin
  return (select count(*) from swarm.agent_tasks as task
           where task.status = 'running' and task.agent = _agent_running.agent);
end
$$;

-- swarm._agent_starts_last_minute: how many tasks of an agent started within the minute before
-- at (the sliding window of max_starts_per_minute).
create or replace function swarm._agent_starts_last_minute(agent text, at timestamptz) returns int
language plpgsql stable
as $$
begin
  return (select count(*) from swarm.agent_starts as s
           where s.agent = _agent_starts_last_minute.agent
             and s.started_at > _agent_starts_last_minute.at - interval '1 minute');
end
$$;

-- swarm._concurrency_key_holder: the running task that holds a concurrency key, or null.
create or replace function swarm._concurrency_key_holder(concurrency_key text) returns bigint
language plpgsql stable
as $$
begin
  return (select running.id from swarm.agent_tasks as running
           where running.status = 'running' and running.concurrency_key = _concurrency_key_holder.concurrency_key
           limit 1);
end
$$;

-- swarm.claim_task: claim up to max_tasks claimable tasks for a worker.
--   order:      priority desc, run_after, id (the order of agent_tasks_claim_idx: claim rank,
--               run_after, id). The walk starts at the claim floor (sql/22_claim_floor.sql);
--               when nothing is claimable above it, the claim looks below it too, at most once
--               every 5 seconds in the cluster.
--   honours:    run_after <= now, paused agents, daily budgets, max_concurrent,
--               max_starts_per_minute (sliding minute), one running task per concurrency_key,
--               the arg policy (a task whose arg_allowances the worker's allowed_args do not
--               cover is left for a worker that allows them: sql/14_task_args.sql).
--   durable:    true (the default): the claim's commit waits for its WAL flush, like any commit.
--               false: when the claim is its transaction's first write, the transaction commits
--               with synchronous_commit = off (no wait for the flush, nor for a synchronous
--               standby); the worker claims so. A claim lost in a crash or a failover leaves the
--               task pending with its earlier attempts count, as if the lease had expired at once:
--               it runs again (at-least-once), and the lost attempt's report is refused. Any
--               later durable commit (a report) flushes the claim with it, so no recorded outcome
--               can outlive its claim. Writes made after the claim in the same transaction share
--               its asynchronous commit: claim in a transaction of its own.
--               (The setting is SET LOCAL from inside: a function's SET clauses restore only the
--               variables they name on return, so it lasts until the transaction ends.)
--   why:        after a quiet spell the flush is most of a claim (measured on the bench VM: a
--               single-task claim 0.90 ms synchronous, 0.55 ms without the wait).
--   locks:      candidate task rows FOR UPDATE SKIP LOCKED. Only when an agent in scope has a
--               cap or a rate, or keyed tasks are pending: the capped agents' rows FOR NO KEY
--               UPDATE in name order (so concurrent claimers count the same slots, and
--               inserts, which take FOR KEY SHARE through the foreign key, are not blocked), and
--               a transaction advisory lock per concurrency key.
--   guarantees: one attempt is never handed to two workers; attempts is incremented and is the
--               attempt number the worker reports with; lease_expires_at = now + lease_seconds.
--               Each returned row's lease_token is the attempt's token, which every heartbeat
--               and report must carry (the table keeps only its digest: sql/30_lease.sql).
--               Then the floor is advanced (at most every 10 ms a session).
--   raises:     SW001 an unknown agent in agents, SW005 bad arguments, SW007 worker registered by another
--               login.   notifies: nothing.
create or replace function swarm.claim_task(
  worker text,
  agents text[] default null,
  queues text[] default null,
  max_tasks int default 1,
  lease_seconds int default 60,
  hostname text default null,
  pid int default null,
  durable boolean default true)
returns setof swarm.agent_tasks
language plpgsql volatile security definer set search_path = pg_catalog, swarm
-- Always walk agent_tasks_claim_idx in order and stop at the limit. With statistics taken while
-- the queue was nearly empty the planner would otherwise pick a bitmap scan plus a sort of the
-- whole backlog, and plpgsql keeps that plan: claims then cost O(backlog) (measured: 0.26 ms at
-- 6,000 pending rows, growing with every row, against 0.03 ms for the ordered scan).
-- jit = off: on PostgreSQL < 18 a disabled node adds 1e10 to the cost, which would otherwise
-- JIT-compile every claim (measured: 166 ms a call).
-- force_generic_plan: plpgsql's plan cache otherwise re-plans the claim on every call. It
-- compares the generic plan's estimate (LIMIT unknown, so 10% of the table, joined to the update
-- by hash join) with the custom plans' and keeps planning custom ones: planning was 27% of a
-- claim's CPU (perf). Hash and merge joins off keep the generic plan a nested loop over the
-- primary key, which it is for any LIMIT up to 1000 (measured: claim+complete cycles at 8
-- clients 2,750/s -> 5,500/s with fsync off). Nested calls inherit these settings.
-- enable_seqscan = off: a generic plan made while the table was nearly empty (a new queue, or a
-- worker connecting right after a TRUNCATE) joined the update to the candidates by a sequential
-- scan per candidate, and kept doing so as the table grew, until an ANALYZE replaced the plan
-- (measured: 100-task claims 0.7 ms -> 30-50 ms within 20 s of a steady run).
set enable_seqscan = off
set enable_sort = off
set jit = off
set plan_cache_mode = force_generic_plan
set enable_hashjoin = off
set enable_mergejoin = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_free text[];      -- open agents without caps: the fast path claims their unkeyed tasks
  v_capped text[];    -- open agents with max_concurrent, max_starts_per_minute or daily_budget_usd
  v_unknown_agent text;
  v_floor bigint;     -- the claim rank the walk starts at
  v_below boolean := false;  -- looking below the floor
  v_claimed bigint;
  v_allowed text[] := swarm._worker_allowed_args(claim_task.worker);  -- the arg policy (14_task_args)
begin
  if claim_task.worker is null or claim_task.worker = '' then
    perform swarm._invalid('worker must be a non-empty name');
  end if;
  if swarm._worker_of_another_login(claim_task.worker) then
    perform swarm._check_worker_login(claim_task.worker);
  end if;
  if claim_task.max_tasks is null or claim_task.max_tasks not between 1 and 1000 then
    perform swarm._invalid(format('max_tasks %s is out of range 1..1000', claim_task.max_tasks));
  end if;
  if claim_task.lease_seconds is null or claim_task.lease_seconds < 1 then
    perform swarm._invalid(format('lease_seconds %s must be at least 1', claim_task.lease_seconds));
  end if;
  if claim_task.lease_seconds > 86400 then  -- a crashed worker's task would wait that long to be reaped
    perform swarm._invalid(format('lease_seconds %s is more than a day (86400)', claim_task.lease_seconds),
                           'a lease is renewed by heartbeats: a short one is cheap');
  end if;
  select unknown.name into v_unknown_agent
    from unnest(claim_task.agents) as unknown (name)
   where not exists (select 1 from swarm.agents as a where a.name = unknown.name)
   limit 1;
  if found then
    perform swarm._unknown_agent(v_unknown_agent);
  end if;
  if claim_task.durable is false and pg_current_xact_id_if_assigned() is null then
    perform set_config('synchronous_commit', 'off', true);
  end if;

  -- An agent with a daily budget takes the careful path too: each claim reserves from its budget.
  select coalesce(array_agg(a.name) filter (where a.max_concurrent is null and a.max_starts_per_minute is null
                                              and a.daily_budget_usd is null), '{}'),
         coalesce(array_agg(a.name) filter (where a.max_concurrent is not null or a.max_starts_per_minute is not null
                                              or a.daily_budget_usd is not null), '{}')
    into v_free, v_capped
    from swarm.agents as a
   where swarm._in_scope(claim_task.agents, a.name)
     and not swarm._agent_paused(a.paused_until, v_now)
     and not swarm._agent_over_budget(a.name, a.daily_budget_usd, v_now);

  perform set_config('swarm.api', 'on', true);
  select s.last_value into v_floor from swarm.claim_floor as s;
  <<walk>>
  loop
    -- Any keyed task pending? Asked as "the first key in order", which only
    -- agent_tasks_pending_concurrency_key_idx answers without a sort (and sorts are off here):
    -- as a plain EXISTS the planner took the claim index whenever its statistics said few tasks
    -- were pending, and read every pending row on each claim (measured: 5 ms a claim with
    -- 20,000 pending).
    if cardinality(v_capped) = 0
       and (select task.concurrency_key from swarm.agent_tasks as task
             where task.status = 'pending' and task.concurrency_key is not null
             order by task.concurrency_key limit 1) is null then
      -- Fast path: one statement. Keyed tasks inserted meanwhile are skipped here, never mis-claimed.
      return query select * from swarm._open_attempts(claim_task.worker, array(
        select task.id
          from swarm.agent_tasks as task
         where task.status = 'pending'
           and swarm._claim_rank(task.priority, task.run_after) >= v_floor
           and swarm._task_due(task.run_after, v_now)
           and task.agent = any(v_free)
           and task.concurrency_key is null
           and swarm._in_scope(claim_task.queues, task.queue)
           and (task.arg_allowances = '{}' or swarm._args_allowed(task.arg_allowances, v_allowed))
         order by swarm._claim_rank(task.priority, task.run_after), task.run_after, task.id
         limit claim_task.max_tasks
           for update skip locked), null, claim_task.lease_seconds, v_now, claim_task.hostname, claim_task.pid);
    else
      return query select * from swarm._claim_limited(claim_task.worker, v_free, v_capped, claim_task.queues,
                                                      claim_task.max_tasks, claim_task.lease_seconds, v_now,
                                                      claim_task.hostname, claim_task.pid, v_floor);
    end if;
    get diagnostics v_claimed = row_count;
    if v_claimed > 0 and v_below then
      -- Found below the floor: the floor was wrong, or the task became pending after this claim
      -- read it. Either way start over from the bottom; the advance below raises the floor to
      -- the lowest pending rank again.
      perform swarm._lower_claim_floor(0);
    end if;
    -- The floor is kept right (sql/22_claim_floor.sql); a claim that found nothing above it
    -- looks below it at most every few seconds, so a wrong floor would delay a task, not lose it.
    exit walk when v_claimed > 0 or v_floor = 0 or not swarm._claim_floor_check_due();
    v_floor := 0;
    v_below := true;
  end loop;
  perform swarm._advance_claim_floor();
  perform set_config('swarm.api', '', true);
end
$$;
comment on function swarm.claim_task(text, text[], text[], int, int, text, int, boolean)
  is 'claim up to max_tasks tasks for a worker (FOR UPDATE SKIP LOCKED; honours pauses, caps, rates, concurrency keys)';

-- swarm._open_attempts: start the next attempt of each task the claim chose and locked (both
-- paths of claim_task): the task runs under the worker's lease, its 'claimed' event and its
-- attempt's ledger row (sql/42_attempts.sql, with its budget reservation) are written, and each
-- row is returned as stored but with the attempt's lease token where the table keeps its digest.
--   tokens:     one per task from a secret salt made here (never stored, never returned), so a
--               token says nothing of another; each is hashed once for the token, once for the
--               digest (sql/30_lease.sql).
--   why a join: the tasks by their id array, joined as a nested loop over the primary key (the
--               settings claim_task sets for its nested calls allow no other plan): a plan made on
--               a nearly empty table would otherwise walk the whole primary key (measured: 25 ms a
--               claim until the next ANALYZE). Called only by the claim, so it sets none itself
--               (each SET clause is paid on every call).
--   columns:    the returned row is listed column by column in the table's order (building it
--               with jsonb_populate_record cost 7 ms a claim of 1,000); a column added to
--               agent_tasks must be added here, and RETURN QUERY refuses a row of another shape,
--               so every claim test fails until it is.
create or replace function swarm._open_attempts(worker text, task_ids bigint[], reserved_usd numeric[],
                                                lease_seconds int, as_of timestamptz, hostname text, pid int)
returns setof swarm.agent_tasks
language plpgsql volatile
as $$
declare
  v_salt uuid := gen_random_uuid();
begin
  return query
  with chosen as (
    select given.id, swarm._lease_token(v_salt, given.id) as token
      from unnest(_open_attempts.task_ids) as given (id)
  ), claimed as (
    update swarm.agent_tasks as task
       set status = 'running',
           attempts = task.attempts + 1,
           worker = _open_attempts.worker,
           lease_expires_at = _open_attempts.as_of + make_interval(secs => _open_attempts.lease_seconds),
           started_at = _open_attempts.as_of,
           updated_at = _open_attempts.as_of,
           pid = _open_attempts.pid,
           hostname = _open_attempts.hostname,
           lease_token = swarm._lease_digest(chosen.token),
           resume_session_id = case when task.attempts + task.free_releases > 0
                                         or task.args->>'resume_on_retry' = 'always'
                                    then swarm._resume_session(task.id, task.args->>'resume_on_retry',
                                                               _open_attempts.hostname) end
      from chosen
     where task.id = chosen.id
    returning task.id, task.key, task.queue, task.agent, task.prompt, task.args, task.priority, task.status,
              task.depends_on, task.unmet_dependencies, task.on_dependency_failure, task.parent_id,
              task.concurrency_key, task.run_after, task.attempts, task.max_attempts, task.timeout_seconds,
              task.lease_expires_at, task.worker, task.pid, task.hostname, task.created_at, task.started_at,
              task.finished_at, task.updated_at, task.exit_code, task.result, task.error, task.output_tail,
              task.log_path, task.cost_usd, task.input_tokens, task.output_tokens, task.tags, task.metadata,
              task.cancel_requested_at, task.cancel_reason, task.cancelled_by_dependency, task.free_releases,
              task.watched, chosen.token, task.progress, task.created_by, task.resume_session_id,
              task.arg_allowances
  ), logged as (
    insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
    select claimed.id, _open_attempts.as_of, 'claimed', _open_attempts.worker, claimed.attempts,
           jsonb_build_object('to', 'running', 'agent', claimed.agent, 'ready_at', claimed.run_after)
      from claimed
  ), opened as (
    insert into swarm.task_attempts (task_id, attempt, agent, worker, hostname, started_at, resumed_session_id,
                                     reserved_usd)
    select claimed.id, claimed.attempts, claimed.agent, _open_attempts.worker, _open_attempts.hostname,
           _open_attempts.as_of, claimed.resume_session_id,
           -- only the careful path reserves, for few tasks: a lookup per row is cheap there
           case when _open_attempts.reserved_usd is not null
                then _open_attempts.reserved_usd[array_position(_open_attempts.task_ids, claimed.id)] end
      from claimed
  )
  select claimed.* from claimed order by claimed.priority desc, claimed.run_after, claimed.id;
end
$$;

-- swarm._claim_limited: the careful path of claim_task, for capped agents and keyed tasks.
--   locks: capped agents FOR NO KEY UPDATE in name order, then candidates one by one FOR UPDATE
--          SKIP LOCKED, then an advisory lock per concurrency key.
--   why a loop: each candidate must be checked against the slots left for its agent and its key,
--          and its reservation against the budget left for its agent (sql/42_attempts.sql);
--          when an agent runs out of slots the scan restarts without it, so a full agent's backlog
--          is not walked through row by row.
create or replace function swarm._claim_limited(worker text, free_agents text[], capped_agents text[],
                                                queues text[], max_tasks int, lease_seconds int,
                                                as_of timestamptz, hostname text, pid int, floor bigint)
returns setof swarm.agent_tasks
language plpgsql volatile
as $$
declare
  v_agent record;
  v_slot_agents text[] := '{}';
  v_slots int[] := '{}';
  v_eligible text[] := _claim_limited.free_agents;
  v_chosen bigint[] := '{}';
  v_keys text[] := '{}';
  v_task record;
  v_pos int;
  v_rescan boolean;
  v_left int;
  v_budget_agents text[] := '{}';  -- agents with a daily budget, and per agent:
  v_budget_left numeric[] := '{}';  --   what is neither spent nor held by running attempts
  v_typical numeric[] := '{}';     --   what an attempt without its own cap reserves (null: all left)
  v_reserved numeric[] := '{}';    -- per chosen task: what its attempt reserves (null: no budget)
  v_reserve numeric;
  v_budget_pos int;
  v_allowed text[] := swarm._worker_allowed_args(_claim_limited.worker);  -- the arg policy (14_task_args)
begin
  for v_agent in
    select a.name, a.max_concurrent, a.max_starts_per_minute, a.daily_budget_usd
      from swarm.agents as a
     where a.name = any(_claim_limited.capped_agents)
     order by a.name
       for no key update
  loop
    v_left := _claim_limited.max_tasks;
    if v_agent.max_concurrent is not null then
      v_left := least(v_left, v_agent.max_concurrent - swarm._agent_running(v_agent.name));
    end if;
    if v_agent.max_starts_per_minute is not null then
      delete from swarm.agent_starts as s
       where s.agent = v_agent.name and s.started_at <= _claim_limited.as_of - interval '1 minute';
      v_left := least(v_left, v_agent.max_starts_per_minute
                              - swarm._agent_starts_last_minute(v_agent.name, _claim_limited.as_of));
    end if;
    if v_agent.daily_budget_usd is not null then
      v_budget_agents := v_budget_agents || v_agent.name::text;
      v_budget_left := v_budget_left || (v_agent.daily_budget_usd
                                         - swarm._spent_today(v_agent.name, _claim_limited.as_of)
                                         - swarm._reserved_now(v_agent.name));
      v_typical := v_typical || swarm._typical_cost(v_agent.name);
      if v_budget_left[cardinality(v_budget_left)] <= 0 then
        v_left := 0;
      end if;
    end if;
    if v_left > 0 then
      v_slot_agents := v_slot_agents || v_agent.name::text;
      v_slots := v_slots || v_left;
      v_eligible := v_eligible || v_agent.name::text;
    end if;
  end loop;

  <<scan>>
  loop
    v_rescan := false;
    for v_task in
      select task.id, task.agent, task.concurrency_key, task.args->>'max_budget_usd' as max_budget_usd
        from swarm.agent_tasks as task
       where task.status = 'pending'
         and swarm._claim_rank(task.priority, task.run_after) >= _claim_limited.floor
         and swarm._task_due(task.run_after, _claim_limited.as_of)
         and task.agent = any(v_eligible)
         and task.id <> all(v_chosen)
         and swarm._in_scope(_claim_limited.queues, task.queue)
         and (task.arg_allowances = '{}' or swarm._args_allowed(task.arg_allowances, v_allowed))
       order by swarm._claim_rank(task.priority, task.run_after), task.run_after, task.id
         for update skip locked
    loop
      exit scan when cardinality(v_chosen) >= _claim_limited.max_tasks;
      v_pos := array_position(v_slot_agents, v_task.agent);
      -- The budget: the attempt's reservation must fit in what is left (checked before the
      -- concurrency key's lock, so a task that does not fit holds no key).
      v_budget_pos := array_position(v_budget_agents, v_task.agent);
      v_reserve := null;
      if v_budget_pos is not null then
        v_reserve := swarm._budget_reservation(v_task.max_budget_usd, v_typical[v_budget_pos],
                                               v_budget_left[v_budget_pos]);
        if v_reserve > v_budget_left[v_budget_pos] then
          continue;
        end if;
      end if;
      if v_task.concurrency_key is not null then
        -- Three separate statements on purpose: the running check must take its snapshot after
        -- the advisory lock is held, or it could miss a claim committed just before.
        if v_task.concurrency_key = any(v_keys) then
          continue;
        end if;
        if not pg_try_advisory_xact_lock(hashtext('swarm.concurrency_key'), hashtext(v_task.concurrency_key)) then
          continue;
        end if;
        if swarm._concurrency_key_holder(v_task.concurrency_key) is not null then
          continue;
        end if;
        v_keys := v_keys || v_task.concurrency_key;
      end if;
      v_chosen := v_chosen || v_task.id;
      v_reserved := v_reserved || v_reserve;
      if v_budget_pos is not null then
        v_budget_left[v_budget_pos] := v_budget_left[v_budget_pos] - v_reserve;
        if v_budget_left[v_budget_pos] <= 0 then
          v_slots[v_pos] := 1;  -- nothing left to reserve: this agent is done (below)
        end if;
      end if;
      if v_pos is not null then
        v_slots[v_pos] := v_slots[v_pos] - 1;
        if v_slots[v_pos] = 0 then
          v_eligible := array_remove(v_eligible, v_task.agent);
          v_rescan := true;
          exit;
        end if;
      end if;
    end loop;
    exit scan when not v_rescan or cardinality(v_chosen) >= _claim_limited.max_tasks
                   or cardinality(v_eligible) = 0;
  end loop;

  if cardinality(v_chosen) = 0 then
    return;
  end if;

  insert into swarm.agent_starts (agent, started_at)
  select task.agent, _claim_limited.as_of
    from swarm.agent_tasks as task
    join swarm.agents as a on a.name = task.agent
   where task.id = any(v_chosen) and a.max_starts_per_minute is not null;

  return query select * from swarm._open_attempts(_claim_limited.worker, v_chosen, v_reserved,
                                                  _claim_limited.lease_seconds, _claim_limited.as_of,
                                                  _claim_limited.hostname, _claim_limited.pid);
end
$$;
