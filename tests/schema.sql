-- pgswarm schema after `pgswarm migrate` (pg_dump --schema-only, normalised), PostgreSQL 18
CREATE SCHEMA public;

COMMENT ON SCHEMA public IS 'standard public schema';

CREATE SCHEMA swarm;

CREATE FUNCTION swarm._add_spend(agent text, cost_usd numeric, as_of timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  if coalesce(_add_spend.cost_usd, 0) <> 0 then
    insert into swarm.agent_daily_spend as spend (agent, day, cost_usd)
    values (_add_spend.agent, (_add_spend.as_of at time zone 'UTC')::date, _add_spend.cost_usd)
    on conflict on constraint agent_daily_spend_pkey do update set cost_usd = spend.cost_usd + excluded.cost_usd;
  end if;
end
$$;

CREATE FUNCTION swarm._advance_claim_floor() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_floor bigint;
  v_lowest bigint;
  v_due text := current_setting('swarm.claim_floor_due', true);
  v_clock double precision := extract(epoch from clock_timestamp());
begin
  if (v_due is not null and v_due <> '' and v_clock < v_due::double precision)
     or current_setting('transaction_isolation') <> 'read committed' then
    return;
  end if;
  perform set_config('swarm.claim_floor_due', (v_clock + 0.01)::text, false);
  if not pg_try_advisory_lock(swarm._claim_floor_lock_key(), 0) then
    return;
  end if;
  select s.last_value into v_floor from swarm.claim_floor as s;
  select swarm._claim_rank(task.priority, task.run_after) into v_lowest
    from swarm.agent_tasks as task
   where task.status = 'pending' and swarm._claim_rank(task.priority, task.run_after) >= v_floor
   order by swarm._claim_rank(task.priority, task.run_after), task.run_after, task.id
   limit 1;
  v_lowest := coalesce(v_lowest, swarm._claim_floor_top());
  if v_lowest > v_floor then
    perform setval('swarm.claim_floor', v_lowest);
  end if;
  perform pg_advisory_unlock(swarm._claim_floor_lock_key(), 0);
end
$$;

CREATE FUNCTION swarm._default_agent() RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  return (select s.default_agent from swarm.settings as s);
end
$$;

CREATE FUNCTION swarm.now() RETURNS timestamp with time zone
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  select case when coalesce(current_setting('swarm.now', true), '') = '' then now() else swarm._test_clock() end
$$;

COMMENT ON FUNCTION swarm.now() IS 'now(), or the swarm.now setting where the owner enabled swarm.settings.test_clock';

CREATE TABLE swarm.agent_tasks (
    id bigint NOT NULL,
    key text,
    queue text DEFAULT 'default'::text NOT NULL,
    agent text DEFAULT swarm._default_agent() NOT NULL,
    prompt text,
    args jsonb DEFAULT '{}'::jsonb NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    depends_on bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    unmet_dependencies integer DEFAULT 0 NOT NULL,
    on_dependency_failure text DEFAULT 'cancel'::text NOT NULL,
    parent_id bigint,
    concurrency_key text,
    run_after timestamp with time zone DEFAULT swarm.now() NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 3 NOT NULL,
    timeout_seconds integer,
    lease_expires_at timestamp with time zone,
    worker text,
    pid integer,
    hostname text,
    created_at timestamp with time zone DEFAULT swarm.now() NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT swarm.now() NOT NULL,
    exit_code integer,
    result jsonb,
    error text,
    output_tail text,
    log_path text,
    cost_usd numeric(14,6),
    input_tokens bigint,
    output_tokens bigint,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    cancel_requested_at timestamp with time zone,
    cancel_reason text,
    cancelled_by_dependency bigint,
    free_releases integer DEFAULT 0 NOT NULL,
    watched boolean DEFAULT false NOT NULL,
    lease_token uuid,
    progress jsonb,
    created_by text DEFAULT SESSION_USER,
    resume_session_id text,
    arg_allowances text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT agent_tasks_attempts_within_max CHECK (((attempts >= 0) AND (attempts <= max_attempts))),
    CONSTRAINT agent_tasks_running_has_owner_and_lease CHECK (((status <> 'running'::text) OR ((worker IS NOT NULL) AND (lease_expires_at IS NOT NULL))))
)
WITH (fillfactor='90', autovacuum_vacuum_scale_factor='0.02', autovacuum_vacuum_threshold='1000', autovacuum_analyze_scale_factor='0.02', autovacuum_vacuum_cost_delay='0');

COMMENT ON TABLE swarm.agent_tasks IS 'The queue: INSERT INTO swarm.agent_tasks (prompt) VALUES (...) enqueues a task for swarm.settings.default_agent.';

COMMENT ON COLUMN swarm.agent_tasks.watched IS 'someone waits for this task (swarm.watch_task): finishing it sends NOTIFY swarm_finished';

COMMENT ON COLUMN swarm.agent_tasks.lease_token IS 'digest of the running attempt''s lease token (the token itself is returned by claim_task only)';

COMMENT ON COLUMN swarm.agent_tasks.progress IS 'the latest attempt''s progress parsed from its event stream by the worker (attempt, turns, input_tokens, output_tokens, cost_usd, tool, message, at); under the key agent, what the agent reported itself';

COMMENT ON COLUMN swarm.agent_tasks.created_by IS 'the login that inserted the task (set by the database)';

COMMENT ON COLUMN swarm.agent_tasks.resume_session_id IS 'set by claim_task: the agent session the running attempt resumes (args.resume_on_retry), or null';

COMMENT ON COLUMN swarm.agent_tasks.arg_allowances IS 'what a worker must be allowed (--allow-arg NAME or NAME=VALUE) to run this task; set from args at insert';

CREATE FUNCTION swarm._agent_attempt(task_id bigint, token text) RETURNS swarm.agent_tasks
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_task swarm.agent_tasks;
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = _agent_attempt.task_id;
  if not found or v_task.status <> 'running' or v_task.lease_expires_at <= swarm.now()
     or v_task.cancel_requested_at is not null or _agent_attempt.token is null
     or not exists (select 1 from swarm.agent_keys as k
                     where k.worker = v_task.worker
                       and swarm._agent_token(k.key, v_task.id, v_task.attempts, v_task.started_at)
                           = _agent_attempt.token) then
    raise exception using errcode = '42501',
      message = format('the task token for task %s is not valid', _agent_attempt.task_id),
      detail = 'a task token works only while the attempt it was given to runs (not after it reported, '
               'was released, cancelled or its lease expired), and only for that task',
      hint = 'agents find theirs in PGSWARM_TASK_TOKEN and PGSWARM_TASK_ID';
  end if;
  return v_task;
end
$$;

CREATE FUNCTION swarm._agent_failed(agent text, as_of timestamp with time zone) RETURNS void
    LANGUAGE sql
    AS $_$
  update swarm.agents as a
     set consecutive_failures = a.consecutive_failures + 1,
         paused_until = case
           when a.breaker_threshold is not null and a.consecutive_failures + 1 >= a.breaker_threshold
                and coalesce(a.paused_until, '-infinity') < $2 + make_interval(secs => a.breaker_cooldown_seconds)
           then $2 + make_interval(secs => a.breaker_cooldown_seconds)
           else a.paused_until end,
         pause_reason = case
           when a.breaker_threshold is not null and a.consecutive_failures + 1 >= a.breaker_threshold
                and coalesce(a.paused_until, '-infinity') < $2 + make_interval(secs => a.breaker_cooldown_seconds)
           then format('circuit breaker: %s consecutive failures', a.consecutive_failures + 1)
           else a.pause_reason end
   where a.name = $1
$_$;

CREATE FUNCTION swarm._agent_over_budget(agent text, daily_budget_usd numeric, at timestamp with time zone) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select case when daily_budget_usd is null then false
              else swarm._spent_today(agent, at) + swarm._reserved_now(agent) >= daily_budget_usd
                   or swarm._spent_today(agent, at) + swarm._reserved_now(agent)
                      + coalesce(swarm._typical_cost(agent), 0) > daily_budget_usd end
$$;

CREATE FUNCTION swarm._agent_paused(paused_until timestamp with time zone, at timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select paused_until is not null and paused_until > at $$;

CREATE FUNCTION swarm._agent_running(agent text) RETURNS integer
    LANGUAGE plpgsql STABLE
    AS $$
begin
  return (select count(*) from swarm.agent_tasks as task
           where task.status = 'running' and task.agent = _agent_running.agent);
end
$$;

CREATE FUNCTION swarm._agent_starts_last_minute(agent text, at timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql STABLE
    AS $$
begin
  return (select count(*) from swarm.agent_starts as s
           where s.agent = _agent_starts_last_minute.agent
             and s.started_at > _agent_starts_last_minute.at - interval '1 minute');
end
$$;

CREATE FUNCTION swarm._agent_tasks_before_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_waiting bigint[];
begin
  select array_agg(task.id order by task.id) into v_waiting
    from swarm.agent_tasks as task
   where task.status = 'waiting' and task.depends_on @> array[old.id];
  if v_waiting is not null then
    raise exception using errcode = 'SW004',
      message = format('task %s cannot be deleted: task %s %s for it', old.id,
                       array_to_string(v_waiting[1:10], ', ') || case when cardinality(v_waiting) > 10 then ', ...' else '' end,
                       case when cardinality(v_waiting) = 1 then 'waits' else 'wait' end),
      detail = 'a deleted dependency would leave its dependents waiting forever',
      hint = format('cancel it first (select swarm.cancel_task(%s)): its dependents follow their on_dependency_failure',
                    old.id);
  end if;
  return old;
end
$$;

CREATE FUNCTION swarm._agent_tasks_before_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_state record;
  v_agent record;  -- the agent's task_args and max_prompt_bytes (sql/14_task_args.sql)
begin
  if new.agent is null then  -- an explicit null: the owner's choice, as the column's default
    new.agent := swarm._default_agent();
  end if;
  select a.task_args, a.max_prompt_bytes into v_agent from swarm.agents as a where a.name = new.agent;
  if not found then
    perform swarm._unknown_agent(new.agent);
  end if;
  -- Who created the task is the database's to say: the login (session_user, also inside
  -- swarm.enqueue, which runs as the owner). No role may write the column; only the engine's
  -- own functions (a schedule's task is its owner's) may set another name.
  if new.created_by is distinct from session_user and not swarm._in_api() then
    perform swarm._invalid(format('created_by %L: the database records who created a task', new.created_by),
                           'leave created_by out of the INSERT');
  end if;
  perform swarm._check_task_fields(new);
  new.arg_allowances := swarm._check_task_args(new, v_agent.task_args, v_agent.max_prompt_bytes);
  if new.status is distinct from 'pending' then
    raise exception using errcode = 'SW003',
      message = format('a new task cannot be inserted as %L', new.status),
      detail = 'the database decides the first status: waiting (unmet dependencies) or pending',
      hint = 'leave status out of the INSERT';
  end if;
  if new.attempts <> 0 or new.worker is not null or new.lease_expires_at is not null then
    perform swarm._invalid('attempts, worker and lease_expires_at are maintained by the database',
                           'leave them out of the INSERT');
  end if;
  if new.parent_id is not null
     and not exists (select 1 from swarm.agent_tasks as t
                      where t.id = new.parent_id and swarm._may_see_task(t.created_by))
     and not exists (select 1 from swarm.agent_tasks_archive as t
                      where t.id = new.parent_id and swarm._may_see_task(t.created_by)) then
    raise exception using errcode = 'SW002', message = format('unknown parent task %s', new.parent_id);
  end if;

  new.run_after := coalesce(new.run_after, v_now);
  new.created_at := v_now;
  new.updated_at := v_now;
  new.unmet_dependencies := 0;
  new.cancel_requested_at := null;
  new.cancelled_by_dependency := null;
  new.free_releases := 0;

  if new.depends_on is null then
    new.depends_on := '{}';
  elsif cardinality(new.depends_on) > 0 then
    if array_position(new.depends_on, null) is not null then
      raise exception using errcode = 'SW004', message = 'depends_on contains null';
    end if;
    new.depends_on := array(select distinct dep from unnest(new.depends_on) as dep order by dep);
    if new.id = any(new.depends_on) then
      raise exception using errcode = 'SW004', message = format('task %s cannot depend on itself', new.id);
    end if;
    v_state := swarm._dependency_state(new.depends_on, new.on_dependency_failure);
    if not swarm._sees_all_tasks() then  -- tenants: another login's task counts as missing
      v_state.missing := v_state.missing || array(
        select dep from unnest(new.depends_on) as dep
         where dep <> all(v_state.missing)
           and not exists (select 1 from swarm.agent_tasks as t where t.id = dep and t.created_by = session_user)
           and not exists (select 1 from swarm.agent_tasks_archive as t
                            where t.id = dep and t.created_by = session_user)
         order by dep);
    end if;
    if cardinality(v_state.missing) > 0 then
      raise exception using errcode = 'SW004',
        message = format('unknown dependency: task %s does not exist', array_to_string(v_state.missing, ', ')),
        detail = 'a task can depend only on tasks that already exist',
        hint = 'insert the dependencies first (in the same transaction is fine)';
    end if;
    if v_state.blocking is not null then
      new.status := 'cancelled';
      new.cancelled_by_dependency := v_state.blocking;
      new.cancel_reason := format('dependency %s failed or was cancelled', v_state.blocking);
      new.finished_at := v_now;
    elsif v_state.unmet > 0 then
      new.status := 'waiting';
      new.unmet_dependencies := v_state.unmet;
    end if;
  end if;
  return new;
end
$$;

CREATE FUNCTION swarm._agent_tasks_check_fields() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  v_agent record;
begin
  perform swarm._check_task_fields(new);
  if new.args is distinct from old.args then
    select a.task_args into v_agent from swarm.agents as a where a.name = new.agent;
    new.arg_allowances := swarm._check_task_args(new, v_agent.task_args, 2147483647);
  end if;
  return new;
end
$$;

CREATE FUNCTION swarm._agent_tasks_check_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_bad record;
begin
  perform from swarm.agents as a where a.name in (select i.agent from inserted as i) order by a.name for key share;
  select i.agent, a.name is not null as known,
         coalesce(swarm._task_field_problem(i), swarm._prompt_problem(i.prompt, i.agent, a.max_prompt_bytes)) as problem
    into v_bad
    from inserted as i left join swarm.agents as a on a.name = i.agent
   where a.name is null or swarm._task_field_problem(i) is not null
      or swarm._prompt_problem(i.prompt, i.agent, a.max_prompt_bytes) is not null
   limit 1;
  if not found then
    return null;
  elsif not v_bad.known then
    perform swarm._unknown_agent(v_bad.agent);
  end if;
  perform swarm._invalid(v_bad.problem[1], v_bad.problem[2]);
  return null;
end
$$;

CREATE FUNCTION swarm._agent_tasks_floor_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_lowest bigint;
begin
  select min(swarm._claim_rank(inserted.priority, inserted.run_after)) into v_lowest
    from inserted where inserted.status = 'pending';
  if v_lowest is not null then
    perform swarm._lower_claim_floor(v_lowest);
  end if;
  return null;
end
$$;

CREATE FUNCTION swarm._agent_tasks_floor_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  perform swarm._lower_claim_floor(swarm._claim_rank(new.priority, new.run_after));
  return null;
end
$$;

CREATE FUNCTION swarm._agent_tasks_guard() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  if new.depends_on is distinct from old.depends_on then
    raise exception using errcode = 'SW004',
      message = format('depends_on of task %s cannot be changed', old.id),
      detail = 'dependencies are fixed at insert, which keeps the graph acyclic',
      hint = 'cancel the task and insert a new one with the dependencies you want';
  end if;
  if not exists (select 1 from swarm._legal_transitions() as edge
                  where edge.from_status = old.status and edge.to_status = new.status) then
    raise exception using errcode = 'SW003',
      message = format('illegal status change of task %s: %s -> %s', old.id, old.status, new.status),
      detail = format('status of task %s is %L; %s -> %s is not allowed', old.id, old.status, old.status, new.status),
      hint = case when old.status in ('failed', 'cancelled') then format('use select swarm.retry_task(%s)', old.id)
                  else format('use select swarm.cancel_task(%s) to stop it', old.id) end;
  end if;
  raise exception using errcode = 'SW003',
    message = format('status of task %s cannot be changed by UPDATE (%s -> %s)', old.id, old.status, new.status),
    detail = 'status changes go through the swarm.* functions, which keep events, leases and dependents right',
    hint = case when new.status = 'cancelled' then format('use select swarm.cancel_task(%s)', old.id)
                when new.status = 'pending' then format('use select swarm.retry_task(%s)', old.id)
                else 'use the swarm.* functions' end;
end
$$;

CREATE FUNCTION swarm._agent_tasks_log_created() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  insert into swarm.task_events (task_id, at, event, detail)
  select inserted.id, inserted.created_at, 'created',
         jsonb_build_object('to', inserted.status, 'agent', inserted.agent, 'queue', inserted.queue)
    from inserted;
  return null;
end
$$;

CREATE FUNCTION swarm._agent_tasks_notify_finished() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  perform pg_notify('swarm_finished', new.id::text);
  return null;
end
$$;

CREATE FUNCTION swarm._agent_tasks_notify_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_ready record;
  v_agents text[] := '{}';
  v_short text[] := '{}';
begin
  for v_ready in
    select inserted.agent, inserted.queue, count(*)::int as tasks
      from inserted
     where inserted.status = 'pending' and inserted.run_after <= swarm.now()
     group by inserted.agent, inserted.queue
  loop
    v_agents := v_agents || v_ready.agent;
    if swarm._wake(v_ready.agent, v_ready.queue, v_ready.tasks) < v_ready.tasks then
      v_short := v_short || v_ready.agent;
    end if;
  end loop;
  perform pg_notify('swarm_ready', a.agent) from (select distinct unnest(v_agents) as agent) as a;
  perform swarm._notify_workers(v_short);
  return null;
end
$$;

CREATE FUNCTION swarm._agent_token(key bytea, task_id bigint, attempt integer, claimed_at timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN encode(sha256((key || convert_to(format('%s:%s:%s'::text, task_id, attempt, (((EXTRACT(epoch FROM date_trunc('second'::text, claimed_at)))::bigint * 1000000) + ((EXTRACT(microseconds FROM claimed_at))::bigint % (1000000)::bigint))), 'UTF8'::name))), 'hex'::text);

CREATE FUNCTION swarm._agents_before_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_tasks bigint[];
begin
  select array_agg(t.id order by t.id) into v_tasks
    from (select task.id from swarm.agent_tasks as task where task.agent = old.name order by task.id limit 6) as t;
  if v_tasks is not null then
    raise exception using errcode = '23503',
      message = format('agent %L cannot be deleted: it has tasks (%s%s)', old.name,
                       array_to_string(v_tasks[1:5], ', '), case when cardinality(v_tasks) > 5 then ', ...' else '' end),
      hint = 'cancel its tasks and archive them (swarm.archive), or pause the agent (swarm.pause_agent)';
  end if;
  return old;
end
$$;

CREATE FUNCTION swarm._agents_renamed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  update swarm.agent_tasks as task set agent = new.name where task.agent = old.name;
  return null;
end
$$;

CREATE FUNCTION swarm._apply_dependency_failure(finished bigint[], as_of timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    SET enable_indexscan TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_frontier bigint[] := _apply_dependency_failure.finished;
begin
  while cardinality(v_frontier) > 0 loop
    perform 1 from swarm.agent_tasks as dependent
     where dependent.status = 'waiting' and dependent.depends_on && v_frontier
     order by dependent.id
       for update;

    with cancelled as (
      update swarm.agent_tasks as dependent
         set status = 'cancelled',
             finished_at = _apply_dependency_failure.as_of,
             updated_at = _apply_dependency_failure.as_of,
             cancelled_by_dependency = (select min(dep) from unnest(dependent.depends_on) as dep where dep = any(v_frontier)),
             cancel_reason = format('dependency %s failed or was cancelled',
                                    (select min(dep) from unnest(dependent.depends_on) as dep where dep = any(v_frontier)))
       where dependent.status = 'waiting' and dependent.on_dependency_failure = 'cancel'
         and dependent.depends_on && v_frontier
      returning dependent.id, dependent.cancelled_by_dependency
    ), logged as (
      insert into swarm.task_events (task_id, at, event, detail)
      select cancelled.id, _apply_dependency_failure.as_of, 'cancelled',
             jsonb_build_object('to', 'cancelled', 'dependency', cancelled.cancelled_by_dependency)
        from cancelled
    )
    select coalesce(array_agg(cancelled.id), '{}') into v_frontier from cancelled;

    -- Policy 'run': the dependencies that just failed count as resolved.
    perform swarm._release_dependents(_apply_dependency_failure.finished, _apply_dependency_failure.as_of);
    _apply_dependency_failure.finished := v_frontier;
  end loop;
end
$$;

CREATE FUNCTION swarm._args_allowed(needs text[], allowed text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select not exists (select 1 from unnest(needs) as need
                      where need <> all(allowed) and split_part(need, '=', 1) <> all(allowed))
$$;

CREATE FUNCTION swarm._attempt_usage(task swarm.agent_tasks, as_of timestamp with time zone, exit_code integer, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, log_path text) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  update swarm.task_attempts as ta
     set exit_code = coalesce(_attempt_usage.exit_code, ta.exit_code),
         cost_usd = coalesce(_attempt_usage.cost_usd, ta.cost_usd),
         input_tokens = coalesce(_attempt_usage.input_tokens, ta.input_tokens),
         output_tokens = coalesce(_attempt_usage.output_tokens, ta.output_tokens),
         session_id = coalesce(_attempt_usage.session_id, ta.session_id),
         log_path = coalesce(_attempt_usage.log_path, ta.log_path)
   where ta.task_id = task.id and ta.attempt = task.attempts and ta.finished_at is null;
  perform swarm._add_spend(task.agent, _attempt_usage.cost_usd, _attempt_usage.as_of);
end
$$;

CREATE FUNCTION swarm._backoff(agent text, attempt integer) RETURNS interval
    LANGUAGE sql
    AS $_$
  select make_interval(secs => step / 2 + random() * step / 2)
    from (select least(a.retry_backoff_max_seconds,
                       a.retry_backoff_base_seconds * power(2::numeric, greatest(least($2, 40) - 1, 0)))::float8 as step
            from swarm.agents as a where a.name = $1) as s
$_$;

CREATE FUNCTION swarm._batch_field_kinds() RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '{"key": "string", "ref": "string", "args": "object", "tags": "strings", "agent": "string", "queue": "string", "prompt": "string", "metadata": "object", "priority": "priority", "parent_id": "integer", "run_after": "string", "depends_on": "references", "max_attempts": "integer", "delay_seconds": "number", "concurrency_key": "string", "timeout_seconds": "integer", "on_dependency_failure": "string"}'::jsonb;

CREATE FUNCTION swarm._batch_task_columns(task jsonb, refs jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_kinds jsonb := swarm._batch_field_kinds();
  v_field record;
  v_kind text;
  v_type text;
  v_ok boolean;
  v_columns jsonb := '{}';
  v_deps bigint[] := '{}';
  v_dep jsonb;
  v_dep_id bigint;
begin
  if jsonb_typeof(_batch_task_columns.task) is distinct from 'object' then
    perform swarm._invalid(format('a task must be a JSON object, not %s',
                                  coalesce(jsonb_typeof(_batch_task_columns.task), 'null')),
                           'for example {"prompt": "fix the bug", "agent": "claude"}');
  end if;
  for v_field in select f.key, f.value from jsonb_each(_batch_task_columns.task) as f order by f.key loop
    v_kind := v_kinds ->> v_field.key;
    v_type := jsonb_typeof(v_field.value);
    if v_kind is null then
      perform swarm._invalid(format('unknown field %L', v_field.key),
        format('a task has: %s', (select string_agg(k, ', ' order by k) from jsonb_object_keys(v_kinds) as k)));
    end if;
    continue when v_type = 'null';
    v_ok := case v_kind
              when 'integer' then v_type = 'number' and v_field.value::text !~ '[.eE]'
              when 'priority' then v_type in ('number', 'string')
              when 'references' then v_type = 'array'
              when 'strings' then v_type = 'array'
              else v_type = v_kind end;
    if not v_ok then
      perform swarm._invalid(format('%s must be %s, not %s', v_field.key,
        case v_kind when 'integer' then 'an integer'
                    when 'priority' then 'a number or a name (critical, high, medium, low)'
                    when 'references' then 'an array of task ids and names' when 'strings' then 'an array of strings'
                    when 'object' then 'a JSON object' else 'a ' || v_kind end,
        left(v_field.value::text, 80)));
    end if;
    if v_kind = 'integer' and v_field.key <> 'parent_id'
       and (v_field.value::text)::numeric not between -2147483648 and 2147483647 then
      perform swarm._invalid(format('%s %s is out of range', v_field.key, v_field.value::text));
    end if;
    case v_field.key
      when 'ref' then null;  -- a name inside the batch only
      when 'priority' then
        v_columns := v_columns || jsonb_build_object('priority',
          swarm.priority(case when v_type = 'number' then v_field.value::text else v_field.value #>> '{}' end));
      when 'delay_seconds' then
        if jsonb_typeof(_batch_task_columns.task -> 'run_after') is distinct from 'null'
           and _batch_task_columns.task ? 'run_after' then
          perform swarm._invalid('give run_after or delay_seconds, not both');
        end if;
        v_columns := v_columns || jsonb_build_object('run_after',
          swarm.now() + make_interval(secs => greatest((v_field.value #>> '{}')::double precision, 0)));
      when 'tags' then
        if exists (select 1 from jsonb_array_elements(v_field.value) as t where jsonb_typeof(t) <> 'string') then
          perform swarm._invalid(format('tags must be an array of strings, not %s', left(v_field.value::text, 80)));
        end if;
        v_columns := v_columns || jsonb_build_object('tags', v_field.value);
      when 'depends_on' then
        for v_dep in select d from jsonb_array_elements(v_field.value) as d loop
          if jsonb_typeof(v_dep) = 'number' and v_dep::text !~ '[.eE]' then
            v_dep_id := v_dep::text::bigint;
          elsif jsonb_typeof(v_dep) = 'string' then
            v_dep_id := (_batch_task_columns.refs ->> (v_dep #>> '{}'))::bigint;
            if v_dep_id is null then
              select t.id into v_dep_id from swarm.agent_tasks as t where t.key = v_dep #>> '{}';
            end if;
            if v_dep_id is null then
              select t.id into v_dep_id from swarm.agent_tasks_archive as t where t.key = v_dep #>> '{}';
            end if;
            if v_dep_id is null then
              raise exception using errcode = 'SW004',
                message = format('unknown dependency %L: no earlier task of this batch has that ref or key, '
                                 'and no task has that key', v_dep #>> '{}'),
                hint = 'list a task after the tasks it depends on';
            end if;
          else
            perform swarm._invalid(format('depends_on entries are task ids or names, not %s', v_dep::text));
          end if;
          v_deps := v_deps || v_dep_id;
        end loop;
        v_columns := v_columns || jsonb_build_object('depends_on', to_jsonb(v_deps));
      else
        v_columns := v_columns || jsonb_build_object(v_field.key, v_field.value);
    end case;
  end loop;
  return v_columns;
end
$$;

CREATE FUNCTION swarm._budget_reservation(max_budget_usd text, typical numeric, budget_left numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select coalesce(max_budget_usd::numeric, typical, budget_left) $$;

CREATE FUNCTION swarm._check_task_args(task swarm.agent_tasks, declared jsonb, max_prompt_bytes integer) RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
declare
  v_problem text[] := swarm._prompt_problem(task.prompt, task.agent, _check_task_args.max_prompt_bytes);
begin
  if v_problem is not null then
    perform swarm._invalid(v_problem[1], v_problem[2]);
  end if;
  if task.args <> '{}' and jsonb_typeof(task.args) = 'object' then
    return swarm.task_arg_needs(task.agent, task.args, _check_task_args.declared);
  end if;
  return '{}';
end
$$;

CREATE FUNCTION swarm._check_task_fields(task swarm.agent_tasks) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
declare
  v_problem text[] := swarm._task_field_problem(task);
begin
  if v_problem is not null then
    perform swarm._invalid(v_problem[1], v_problem[2]);
  end if;
end
$$;

CREATE FUNCTION swarm._check_task_visible(task_id bigint) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
begin
  if swarm._sees_all_tasks() then
    return;
  end if;
  if not exists (select 1 from swarm.agent_tasks as task
                  where task.id = _check_task_visible.task_id and task.created_by = session_user)
     and not exists (select 1 from swarm.agent_tasks_archive as task
                      where task.id = _check_task_visible.task_id and task.created_by = session_user) then
    perform swarm._unknown_task(_check_task_visible.task_id);
  end if;
end
$$;

CREATE FUNCTION swarm._check_timezone(timezone text) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $_$
declare
  v_known boolean;
begin
  if _check_timezone.timezone ~ '^[A-Za-z_]+(/[A-Za-z_-]+)+$' then
    begin
      perform pg_catalog.timezone(_check_timezone.timezone, now());
      v_known := true;
    exception when invalid_parameter_value then
      v_known := false;
    end;
  else
    v_known := upper(_check_timezone.timezone) = 'UTC'
      or (exists (select 1 from pg_catalog.pg_timezone_names as zone
                   where lower(zone.name) = lower(_check_timezone.timezone))
          and not exists (select 1 from pg_catalog.pg_timezone_abbrevs as abbreviation
                           where abbreviation.abbrev = upper(_check_timezone.timezone)));
  end if;
  if not coalesce(v_known, false) then
    raise exception using errcode = 'SW005',
      message = format('timezone %L is not the name of a time zone', _check_timezone.timezone),
      detail = 'slots are wall-clock times of a named (IANA) time zone, which carries its DST rules; '
               'offsets like ''+05'' and abbreviations like ''CET'' have none',
      hint = 'use a name from pg_timezone_names, e.g. ''UTC'', ''Europe/Berlin'', ''America/New_York''';
  end if;
end
$_$;

CREATE FUNCTION swarm._check_worker_login(worker text) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
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

CREATE FUNCTION swarm._claim_floor_check_due() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_clock bigint := (extract(epoch from clock_timestamp()) * 1000)::bigint;
begin
  if v_clock < (select s.last_value from swarm.claim_floor_checked_at as s) + 5000 then
    return false;
  end if;
  perform setval('swarm.claim_floor_checked_at', v_clock);
  return true;
end
$$;

CREATE FUNCTION swarm._claim_floor_lock_key() RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN hashtext('swarm.claim_floor'::text);

CREATE FUNCTION swarm._claim_floor_top() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '9223372036854775807'::bigint;

CREATE FUNCTION swarm._claim_limited(worker text, free_agents text[], capped_agents text[], queues text[], max_tasks integer, lease_seconds integer, as_of timestamp with time zone, hostname text, pid integer, floor bigint) RETURNS SETOF swarm.agent_tasks
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION swarm._claim_rank(priority integer, run_after timestamp with time zone) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ((((1000 - priority))::bigint * '4503599627370496'::bigint) + ((EXTRACT(epoch FROM (GREATEST(LEAST(run_after, '2142-01-01 00:00:00+00'::timestamp with time zone), '2000-01-01 00:00:00+00'::timestamp with time zone) - '2000-01-01 00:00:00+00'::timestamp with time zone)) * (1000000)::numeric))::bigint);

CREATE FUNCTION swarm._common_task_args() RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
  select '{
    "repo": {"type": "string"},
    "base": {"type": "string"},
    "worktree_keep": {"type": "string", "values": ["on_failure", "always", "never"]},
    "cwd": {"type": "string"},
    "resume_on_retry": {"type": "string", "values": ["auto", "always", "never"]},
    "idle_timeout_seconds": {"type": "integer", "min": 1},
    "swarm_tools": {"type": "boolean"},
    "max_budget_usd": {"type": "number"}}'::jsonb
$$;

CREATE FUNCTION swarm._concurrency_key_holder(concurrency_key text) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $$
begin
  return (select running.id from swarm.agent_tasks as running
           where running.status = 'running' and running.concurrency_key = _concurrency_key_holder.concurrency_key
           limit 1);
end
$$;

CREATE FUNCTION swarm._cron_field(cron text, field text, label text, low integer, high integer, names text[]) RETURNS integer[]
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
declare
  v_part text;
  v_range text;
  v_step int;
  v_from int;
  v_to int;
  v_bounds text[];
  v_values int[] := '{}';
begin
  foreach v_part in array string_to_array(_cron_field.field, ',') loop
    if v_part = '' then
      perform swarm._cron_invalid(_cron_field.cron, format('%s field %L has an empty list element', label, field));
    end if;
    v_range := split_part(v_part, '/', 1);
    v_step := null;
    if v_part like '%/%' then
      if split_part(v_part, '/', 2) ~ '^[0-9]{1,4}$' and v_part not like '%/%/%' then
        v_step := split_part(v_part, '/', 2)::int;
      end if;
      if coalesce(v_step, 0) = 0 then
        perform swarm._cron_invalid(_cron_field.cron, format('%s step %L must be a whole number of at least 1',
                                                             label, substr(v_part, strpos(v_part, '/') + 1)));
      end if;
    end if;
    if v_range = '*' then
      v_from := low;
      v_to := high;
    else
      v_bounds := string_to_array(v_range, '-');
      if cardinality(v_bounds) > 2 then
        perform swarm._cron_invalid(_cron_field.cron, format('%s range %L has more than one -', label, v_range));
      end if;
      v_from := swarm._cron_value(_cron_field.cron, v_bounds[1], label, low, high, names);
      if cardinality(v_bounds) = 2 then
        v_to := swarm._cron_value(_cron_field.cron, v_bounds[2], label, low, high, names);
        if v_to < v_from then
          perform swarm._cron_invalid(_cron_field.cron,
            format('%s range %L runs backwards (%s > %s)', label, v_range, v_from, v_to));
        end if;
      elsif v_step is not null then
        v_to := high;  -- N/S: from N to the end of the field, every S (cronie, croniter)
      else
        v_to := v_from;
      end if;
    end if;
    v_values := v_values || array(select generate_series(v_from, v_to, coalesce(v_step, 1)));
  end loop;
  return array(select distinct v from unnest(v_values) as v order by v);
end
$_$;

CREATE FUNCTION swarm._cron_invalid(cron text, problem text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
begin
  raise exception using errcode = 'SW005',
    message = format('cron %L: %s', _cron_invalid.cron, _cron_invalid.problem),
    detail = 'five fields: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12, JAN-DEC) '
             'day-of-week (0-7, SUN-SAT); each a list of *, N, N-M, with an optional /STEP',
    hint = 'for example ''*/15 9-17 * * MON-FRI'', ''30 2 1 * *'', or @hourly, @daily, @weekly, @monthly, @yearly';
end
$$;

CREATE FUNCTION swarm._cron_latest(minutes integer[], hours integer[], days integer[], months integer[], weekdays integer[], day_or boolean, follows_clock boolean, timezone text, first timestamp with time zone, upto timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $$
declare
  v_span interval := interval '1 minute';
  v_slot timestamptz := first;
  v_next timestamptz;
begin
  while upto - v_span > first loop
    v_next := swarm._cron_next_at(minutes, hours, days, months, weekdays, day_or, follows_clock, timezone,
                                  upto - v_span);
    if v_next <= upto then
      v_slot := v_next;
      exit;
    end if;
    v_span := v_span * 4;
  end loop;
  loop
    v_next := swarm._cron_next_at(minutes, hours, days, months, weekdays, day_or, follows_clock, timezone, v_slot);
    exit when v_next > upto;
    v_slot := v_next;
  end loop;
  return v_slot;
end
$$;

CREATE FUNCTION swarm._cron_next_at(minutes integer[], hours integer[], days integer[], months integer[], weekdays integer[], day_or boolean, follows_clock boolean, timezone text, after timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    AS $$
declare
  v_zone text := _cron_next_at.timezone;
  v_shift interval := greatest(interval '0',
    swarm._utc_offset(v_zone, after) - swarm._utc_offset(v_zone, after + interval '3 hours'));
  v_wall timestamp := date_trunc('minute', timezone(v_zone, after) - v_shift);
  v_as_utc timestamptz;
  v_before interval;
  v_after interval;
  v_first timestamptz;
  v_second timestamptz;
  v_low bigint;
  v_high bigint;
  v_mid bigint;
  v_best timestamptz;
begin
  for v_step in 1 .. 10000 loop
    v_wall := swarm._cron_next_wall(minutes, hours, days, months, weekdays, day_or, v_wall);
    if v_wall is null then
      raise exception 'cron fields % % % % % have no slot within 50 years', minutes, hours, days, months, weekdays;
    end if;
    -- The instants whose wall-clock time is v_wall: at most one per offset in force a day around it.
    v_as_utc := timezone('UTC', v_wall);
    v_before := swarm._utc_offset(v_zone, v_as_utc - interval '24 hours');
    v_after := swarm._utc_offset(v_zone, v_as_utc + interval '24 hours');
    v_first := null;
    v_second := null;
    if timezone(v_zone, v_as_utc - v_before) = v_wall then
      v_first := v_as_utc - v_before;
    end if;
    if v_after <> v_before and timezone(v_zone, v_as_utc - v_after) = v_wall then
      if v_first is null then
        v_first := v_as_utc - v_after;
      else
        v_second := greatest(v_first, v_as_utc - v_after);  -- a repeated wall time: both passes
        v_first := least(v_first, v_as_utc - v_after);
      end if;
    end if;
    if v_first is null and not follows_clock then
      -- A wall time in a spring-forward gap: the first instant after the gap, the first second
      -- whose wall-clock time is past v_wall (between the two readings of v_wall; gaps are hours).
      v_low := floor(extract(epoch from v_as_utc - greatest(v_before, v_after)));
      v_high := ceil(extract(epoch from v_as_utc - least(v_before, v_after)));
      while v_high - v_low > 1 loop
        v_mid := (v_low + v_high) / 2;
        if timezone(v_zone, to_timestamp(v_mid)) > v_wall then
          v_high := v_mid;
        else
          v_low := v_mid;
        end if;
      end loop;
      v_first := to_timestamp(v_high);
    end if;
    if not follows_clock then
      v_second := null;  -- a fixed time fires once, at its first occurrence
    end if;
    if v_first > after then
      return least(v_best, v_first);
    end if;
    if v_second > after then
      v_best := least(v_best, v_second);
    end if;
    v_wall := v_wall + interval '1 minute';
  end loop;
  raise exception 'cron: no slot found after % (internal error)', after;
end
$$;

CREATE FUNCTION swarm._cron_next_wall(minutes integer[], hours integer[], days integer[], months integer[], weekdays integer[], day_or boolean, start timestamp without time zone) RETURNS timestamp without time zone
    LANGUAGE plpgsql IMMUTABLE
    AS $$
declare
  v_year0 int := extract(year from start);
  v_month0 int := extract(month from start);
  v_day0 int := extract(day from start);
  v_hour0 int := extract(hour from start);
  v_minute0 int := extract(minute from start);
  v_year int;
  v_month int;
  v_day int;
  v_last int;
  v_dow int;
  v_hour int;
  v_minute int;
  v_first_day boolean;
begin
  for v_year in v_year0 .. v_year0 + 50 loop
    foreach v_month in array months loop
      continue when v_year = v_year0 and v_month < v_month0;
      v_last := extract(day from (make_date(v_year, v_month, 1) + interval '1 month' - interval '1 day'));
      v_day := case when v_year = v_year0 and v_month = v_month0 then v_day0 else 1 end;
      v_dow := extract(dow from make_date(v_year, v_month, v_day));
      while v_day <= v_last loop
        if (v_day = any(days) and v_dow = any(weekdays))
           or (day_or and (v_day = any(days) or v_dow = any(weekdays))) then
          v_first_day := v_year = v_year0 and v_month = v_month0 and v_day = v_day0;
          foreach v_hour in array hours loop
            continue when v_first_day and v_hour < v_hour0;
            foreach v_minute in array minutes loop
              continue when v_first_day and v_hour = v_hour0 and v_minute < v_minute0;
              return make_timestamp(v_year, v_month, v_day, v_hour, v_minute, 0);
            end loop;
          end loop;
        end if;
        v_day := v_day + 1;
        v_dow := (v_dow + 1) % 7;
      end loop;
    end loop;
  end loop;
  return null;
end
$$;

CREATE FUNCTION swarm._cron_parse(cron text, OUT minutes integer[], OUT hours integer[], OUT days integer[], OUT months integer[], OUT weekdays integer[], OUT day_or boolean, OUT follows_clock boolean) RETURNS record
    LANGUAGE plpgsql IMMUTABLE
    AS $$
declare
  v_expr text := lower(btrim(coalesce(_cron_parse.cron, '')));
  v_fields text[];
  v_month_days int[] := array[31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
begin
  if v_expr = '' then
    perform swarm._cron_invalid(_cron_parse.cron, 'empty');
  end if;
  if v_expr like '@%' then
    v_expr := case v_expr
      when '@yearly' then '0 0 1 1 *' when '@annually' then '0 0 1 1 *' when '@monthly' then '0 0 1 * *'
      when '@weekly' then '0 0 * * 0' when '@daily' then '0 0 * * *' when '@midnight' then '0 0 * * *'
      when '@hourly' then '0 * * * *' end;
    if v_expr is null then
      perform swarm._cron_invalid(_cron_parse.cron,
        'unknown shorthand (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)');
    end if;
  end if;
  v_fields := regexp_split_to_array(v_expr, '\s+');
  if cardinality(v_fields) <> 5 then
    perform swarm._cron_invalid(_cron_parse.cron, format('has %s fields, not 5', cardinality(v_fields)));
  end if;
  minutes := swarm._cron_field(_cron_parse.cron, v_fields[1], 'minute', 0, 59, null);
  hours := swarm._cron_field(_cron_parse.cron, v_fields[2], 'hour', 0, 23, null);
  days := swarm._cron_field(_cron_parse.cron, v_fields[3], 'day of month', 1, 31, null);
  months := swarm._cron_field(_cron_parse.cron, v_fields[4], 'month', 1, 12,
    array['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']);
  weekdays := swarm._cron_field(_cron_parse.cron, v_fields[5], 'day of week', 0, 7,
    array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']);
  weekdays := array(select distinct d % 7 from unnest(weekdays) as d order by 1);  -- 7 is Sunday too
  -- Vixie cron's rule: a day field that starts with * leaves the choice to the other one.
  day_or := v_fields[3] not like '*%' and v_fields[5] not like '*%';
  follows_clock := cardinality(hours) = 24;
  if not day_or and not exists (select 1 from unnest(months) as m, unnest(days) as d
                                 where d <= v_month_days[m]) then
    perform swarm._cron_invalid(_cron_parse.cron,
      format('never fires: no month in %s has day %s', v_fields[4], v_fields[3]));
  end if;
end
$$;

CREATE FUNCTION swarm._cron_value(cron text, token text, label text, low integer, high integer, names text[]) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    AS $_$
declare
  v_value int;
begin
  if token ~ '^[0-9]{1,4}$' then
    v_value := token::int;
  elsif names is not null and array_position(names, token) is not null then
    v_value := array_position(names, token) - 1 + low;
  else
    perform swarm._cron_invalid(cron, format('%s %L is not a number%s%s', label, token,
      case when names is not null then format(' or a name (%s-%s)', upper(names[1]), upper(names[cardinality(names)]))
           else '' end,
      case when token ~ '^(l|lw|[0-9]+[lw]|.*[#?].*)$' then ' (L, W, # and ? are not supported)' else '' end));
  end if;
  if v_value not between low and high then
    perform swarm._cron_invalid(cron, format('%s %s is out of range %s-%s', label, v_value, low, high));
  end if;
  return v_value;
end
$_$;

CREATE FUNCTION swarm._dependency_state(depends_on bigint[], on_dependency_failure text, OUT unmet integer, OUT blocking bigint, OUT missing bigint[]) RETURNS record
    LANGUAGE plpgsql
    AS $$
declare
  v_dep record;
  v_found bigint[] := '{}';
begin
  unmet := 0;
  for v_dep in
    select task.id, task.status from swarm.agent_tasks as task
     where task.id = any(_dependency_state.depends_on)
     order by task.id
       for share
  loop
    v_found := v_found || v_dep.id;
    if v_dep.status in ('failed', 'cancelled') then
      if _dependency_state.on_dependency_failure = 'cancel' and blocking is null then
        blocking := v_dep.id;
      end if;
    elsif v_dep.status <> 'completed' then
      unmet := unmet + 1;
    end if;
  end loop;
  if cardinality(v_found) < cardinality(_dependency_state.depends_on) then
    -- Archived tasks are terminal: completed ones are met, failed/cancelled ones block.
    for v_dep in
      select archived.id, archived.status from swarm.agent_tasks_archive as archived
       where archived.id = any(_dependency_state.depends_on) and archived.id <> all(v_found)
    loop
      v_found := v_found || v_dep.id;
      if v_dep.status <> 'completed' and _dependency_state.on_dependency_failure = 'cancel'
         and blocking is null then
        blocking := v_dep.id;
      end if;
    end loop;
  end if;
  select coalesce(array_agg(dep order by dep), '{}') into missing
    from unnest(_dependency_state.depends_on) as dep where dep <> all(v_found);
end
$$;

CREATE FUNCTION swarm._end_attempt(task swarm.agent_tasks, outcome text, error text, as_of timestamp with time zone) RETURNS void
    LANGUAGE sql
    AS $_$
  update swarm.task_attempts as ta
     set finished_at = $4, outcome = $2, error = coalesce($3, ta.error)
   where ta.task_id = ($1).id and ta.attempt = ($1).attempts and ta.finished_at is null
$_$;

CREATE TABLE swarm.schedules (
    name text NOT NULL,
    cron text NOT NULL,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    prompt text NOT NULL,
    agent text NOT NULL,
    args jsonb DEFAULT '{}'::jsonb NOT NULL,
    queue text DEFAULT 'default'::text NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    timeout_seconds integer,
    max_attempts integer DEFAULT 3 NOT NULL,
    concurrency_key text,
    enabled boolean DEFAULT true NOT NULL,
    catch_up text DEFAULT 'latest'::text NOT NULL,
    next_fire_at timestamp with time zone,
    last_fired_at timestamp with time zone,
    last_task_id bigint,
    last_error text,
    created_by text DEFAULT CURRENT_USER NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE swarm.schedules IS 'cron schedules: insert into swarm.schedules (name, cron, prompt, agent) values (...); fired by swarm.fire_schedules()';

CREATE FUNCTION swarm._enqueue_slot(schedule swarm.schedules, slot timestamp with time zone, extra jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
declare
  v_slot text := swarm._slot_text(_enqueue_slot.slot);
  v_id bigint;
begin
  perform set_config('swarm.api', 'on', true);  -- the task is the schedule owner's (created_by)
  insert into swarm.agent_tasks as task (key, queue, agent, prompt, args, priority, max_attempts, timeout_seconds,
                                         concurrency_key, tags, metadata, created_by)
  values (format('schedule:%s:%s', schedule.name, v_slot), schedule.queue, schedule.agent, schedule.prompt,
          schedule.args, schedule.priority, schedule.max_attempts, schedule.timeout_seconds,
          schedule.concurrency_key, schedule.tags,
          schedule.metadata || jsonb_build_object('schedule', schedule.name, 'slot', v_slot) || extra,
          schedule.created_by)
  on conflict on constraint agent_tasks_key_key do nothing
  returning task.id into v_id;
  perform set_config('swarm.api', '', true);
  return v_id;
end
$$;

CREATE FUNCTION swarm._fence(task_id bigint, worker text, attempt integer, lease_token uuid, report text, as_of timestamp with time zone) RETURNS swarm.agent_tasks
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION swarm._fire_schedule(schedule swarm.schedules, as_of timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql
    AS $$
declare
  v_spec record := swarm._cron_parse(schedule.cron);
  v_slot timestamptz := schedule.next_fire_at;
  v_latest timestamptz;
  v_id bigint;
  v_fired int := 0;
  v_last_slot timestamptz := schedule.last_fired_at;
  v_last_id bigint := schedule.last_task_id;
begin
  if schedule.catch_up = 'all' then
    while v_slot <= _fire_schedule.as_of and v_fired < swarm._schedule_batch() loop
      v_id := swarm._enqueue_slot(schedule, v_slot, '{}');
      if v_id is not null then
        v_fired := v_fired + 1;
        v_last_slot := v_slot;
        v_last_id := v_id;
      end if;
      v_slot := swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                                    v_spec.day_or, v_spec.follows_clock, schedule.timezone, v_slot);
    end loop;
  else
    v_latest := swarm._cron_latest(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                                   v_spec.day_or, v_spec.follows_clock, schedule.timezone, v_slot,
                                   _fire_schedule.as_of);
    if schedule.catch_up = 'latest' or _fire_schedule.as_of - v_latest <= swarm._schedule_grace() then
      v_id := swarm._enqueue_slot(schedule, v_latest,
        case when v_latest > v_slot then jsonb_build_object('missed_since', swarm._slot_text(v_slot)) else '{}' end);
      if v_id is not null then
        v_fired := 1;
        v_last_slot := v_latest;
        v_last_id := v_id;
      end if;
    end if;
    v_slot := swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                                  v_spec.day_or, v_spec.follows_clock, schedule.timezone, v_latest);
  end if;
  update swarm.schedules as s
     set next_fire_at = v_slot, last_fired_at = v_last_slot, last_task_id = v_last_id, last_error = null
   where s.name = schedule.name;
  return v_fired;
end
$$;

CREATE FUNCTION swarm._holds_lease(status text, task_worker text, task_attempts integer, task_token uuid, worker text, attempt integer, token uuid) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select $1 = 'running' collate "C" and $2 = $5 and $3 = $6 and $4 = swarm._lease_digest($7)
$_$;

CREATE FUNCTION swarm._in_api() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ select coalesce(current_setting('swarm.api', true), '') = 'on' $$;

CREATE FUNCTION swarm._in_scope(scope text[], value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select scope is null or value = any(scope) $$;

CREATE FUNCTION swarm._in_words(span interval) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  select case
    when extract(epoch from span) < 90 then greatest(ceil(extract(epoch from span)), 0)::int || ' seconds'
    when extract(epoch from span) < 90 * 60 then round(extract(epoch from span) / 60)::int || ' minutes'
    when extract(epoch from span) < 36 * 3600 then round(extract(epoch from span) / 3600)::int || ' hours'
    else round(extract(epoch from span) / 86400)::int || ' days' end
$$;

CREATE FUNCTION swarm._invalid(message text, hint text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  raise exception using errcode = 'SW005', message = message, hint = coalesce(hint, '');
end
$$;

CREATE FUNCTION swarm._is_confined_path(path text, args jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
  select case
    when ('/' || path || '/') like '%/../%' then false
    when path like '~%' then false
    when path not like '/%' then true
    else exists (select 1 from (values (args ->> 'cwd'), (args ->> 'repo')) as root (dir)
                  where root.dir like '/%'
                    and ('/' || root.dir || '/') not like '%/../%'
                    and (path = rtrim(root.dir, '/')
                         or left(path, length(rtrim(root.dir, '/')) + 1) = rtrim(root.dir, '/') || '/'))
  end
$$;

CREATE FUNCTION swarm._lease_digest(token uuid) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select encode(substring(sha256(uuid_send($1)) from 1 for 16), 'hex')::uuid
$_$;

CREATE FUNCTION swarm._lease_token(salt uuid, task_id bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $_$
  select encode(substring(sha256(uuid_send($1) || int8send($2)) from 1 for 16), 'hex')::uuid
$_$;

CREATE FUNCTION swarm._legal_transitions() RETURNS TABLE(from_status text, to_status text)
    LANGUAGE sql IMMUTABLE
    AS $$
  values ('waiting', 'pending'), ('waiting', 'cancelled'),
         ('pending', 'running'), ('pending', 'cancelled'),
         ('running', 'completed'), ('running', 'failed'), ('running', 'cancelled'), ('running', 'pending'),
         ('failed', 'pending'), ('cancelled', 'pending'), ('cancelled', 'waiting')
$$;

CREATE FUNCTION swarm._log(task_id bigint, event text, worker text, attempt integer, detail jsonb, at timestamp with time zone) RETURNS void
    LANGUAGE sql
    AS $_$
  insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
  values ($1, $6, $2, $3, $4, coalesce($5, '{}'))
$_$;

CREATE FUNCTION swarm._lower_claim_floor(rank bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  perform pg_advisory_xact_lock_shared(swarm._claim_floor_lock_key(), 0);
  if _lower_claim_floor.rank < (select s.last_value from swarm.claim_floor as s) then
    perform pg_advisory_lock(swarm._claim_floor_lock_key(), 1);
    if _lower_claim_floor.rank < (select s.last_value from swarm.claim_floor as s) then
      perform setval('swarm.claim_floor', greatest(_lower_claim_floor.rank, 0));
    end if;
    perform pg_advisory_unlock(swarm._claim_floor_lock_key(), 1);
  end if;
end
$$;

CREATE FUNCTION swarm._may_see_task(created_by text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select _may_see_task.created_by = session_user or swarm._sees_all_tasks()
$$;

CREATE FUNCTION swarm._notify_ready(agents text[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  if cardinality(_notify_ready.agents) > 0 then
    perform pg_notify('swarm_ready', a.agent), pg_notify('swarm_wake', a.agent)
       from (select distinct unnest(_notify_ready.agents) as agent) as a
      where a.agent is not null;
  end if;
end
$$;

CREATE FUNCTION swarm._notify_slot_freed(agent text, concurrency_key text) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  if _notify_slot_freed.concurrency_key is not null
     or exists (select 1 from swarm.agents as a where a.name = _notify_slot_freed.agent
                   and (a.max_concurrent is not null or a.max_starts_per_minute is not null)) then
    perform swarm._notify_ready(array[_notify_slot_freed.agent]);
  end if;
end
$$;

CREATE FUNCTION swarm._notify_workers(agents text[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  if cardinality(_notify_workers.agents) > 0 then
    perform pg_notify('swarm_wake', a.agent)
       from (select distinct unnest(_notify_workers.agents) as agent) as a
      where a.agent is not null;
  end if;
end
$$;

CREATE FUNCTION swarm._open_attempts(worker text, task_ids bigint[], reserved_usd numeric[], lease_seconds integer, as_of timestamp with time zone, hostname text, pid integer) RETURNS SETOF swarm.agent_tasks
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION swarm._output_keep_bytes() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 1048576;

CREATE FUNCTION swarm._plus(total bigint, amount bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $_$ select case when $2 is null then $1 else coalesce($1, 0) + $2 end $_$;

CREATE FUNCTION swarm._plus(total numeric, amount numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE
    AS $_$ select case when $2 is null then $1 else coalesce($1, 0) + $2 end $_$;

CREATE FUNCTION swarm._priced_cost(agent text, model text, input_tokens bigint, output_tokens bigint) RETURNS numeric
    LANGUAGE sql STABLE
    AS $_$
  select round((coalesce($3, 0) * price.input_usd_per_mtok + coalesce($4, 0) * price.output_usd_per_mtok)
               / 1000000, 6)
    from swarm.agent_prices as price
   where price.agent = $1 and price.model in (coalesce($2, ''), '') and coalesce($3, $4) is not null
   order by price.model = '' limit 1
$_$;

CREATE FUNCTION swarm._prompt_problem(prompt text, agent text, max_prompt_bytes integer) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
  select case
    when prompt is null or btrim(prompt, E' \t\r\n') = '' then
      array[format('prompt is %s (agent %L)', case when prompt is null then 'null' else 'empty' end, agent),
            'give the task an instruction: insert into swarm.agent_tasks (agent, prompt) values (...)']
    when octet_length(prompt) > max_prompt_bytes then
      array[format('prompt of %s bytes is over the %s-byte limit of agent %L', octet_length(prompt),
                   max_prompt_bytes, agent),
            format('put the material in a file the agent reads, or raise the limit: update swarm.agents set '
                   'max_prompt_bytes = %s where name = %L', octet_length(prompt), agent)]
  end
$$;

CREATE FUNCTION swarm._release_dependents(resolved bigint[], as_of timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    SET enable_indexscan TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  v_ready_agents text[];
begin
  perform 1 from swarm.agent_tasks as dependent
   where dependent.status = 'waiting' and dependent.depends_on && _release_dependents.resolved
   order by dependent.id
     for update;
  if not found then
    return;  -- the common case: nobody waits for these tasks
  end if;

  with hits as (
    select dependent.id,
           (select count(*) from unnest(dependent.depends_on) as dep
             where dep = any(_release_dependents.resolved))::int as resolved_now
      from swarm.agent_tasks as dependent
     where dependent.status = 'waiting' and dependent.depends_on && _release_dependents.resolved
  ), counted as (
    update swarm.agent_tasks as dependent
       set unmet_dependencies = greatest(dependent.unmet_dependencies - hits.resolved_now, 0),
           status = case when dependent.unmet_dependencies - hits.resolved_now <= 0 then 'pending' else 'waiting' end,
           run_after = case when dependent.unmet_dependencies - hits.resolved_now <= 0
                            then greatest(dependent.run_after, _release_dependents.as_of) else dependent.run_after end,
           updated_at = _release_dependents.as_of
      from hits
     where dependent.id = hits.id
    returning dependent.id, dependent.agent, dependent.run_after, dependent.status
  ), unblocked as (
    select counted.id, counted.agent, counted.run_after from counted where counted.status = 'pending'
  ), logged as (
    insert into swarm.task_events (task_id, at, event, detail)
    select unblocked.id, _release_dependents.as_of, 'unblocked',
           jsonb_build_object('to', 'pending', 'by', _release_dependents.resolved)
      from unblocked
  )
  select array_agg(distinct unblocked.agent) filter (where unblocked.run_after <= _release_dependents.as_of)
    into v_ready_agents
    from unblocked;
  perform swarm._notify_ready(v_ready_agents);
end
$$;

CREATE FUNCTION swarm._reserved_now(agent text) RETURNS numeric
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
  select coalesce(sum(ta.reserved_usd), 0)
    from swarm.agent_tasks as task
    join swarm.task_attempts as ta on ta.task_id = task.id and ta.attempt = task.attempts
   where task.status = 'running' and task.agent = $1 and ta.finished_at is null
$_$;

CREATE FUNCTION swarm._resume_session(task_id bigint, mode text, hostname text) RETURNS text
    LANGUAGE sql STABLE
    AS $_$
  select ta.session_id
    from swarm.task_attempts as ta
   where ta.task_id = $1 and ta.session_id is not null and ta.finished_at is not null
     and coalesce($2, 'auto') <> 'never'
     and ($3 is null or ta.hostname is null or ta.hostname = $3)
     and (coalesce($2, 'auto') = 'always'
          or not exists (select 1 from swarm.task_attempts as since
                          where since.task_id = $1 and since.id >= ta.id
                            and since.outcome not in ('released', 'lease_expired')))
   order by ta.id desc
   limit 1
$_$;

CREATE FUNCTION swarm._revive_dependents(revived bigint[], as_of timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    AS $$
declare
  v_frontier bigint[] := _revive_dependents.revived;
  v_next bigint[];
  v_dependent record;
  v_state record;
begin
  while cardinality(v_frontier) > 0 loop
    v_next := '{}';
    for v_dependent in
      select dependent.id, dependent.depends_on, dependent.on_dependency_failure
        from swarm.agent_tasks as dependent
       where dependent.status = 'cancelled' and dependent.cancelled_by_dependency = any(v_frontier)
       order by dependent.id
         for update
    loop
      v_state := swarm._dependency_state(v_dependent.depends_on, v_dependent.on_dependency_failure);
      if v_state.blocking is not null then
        update swarm.agent_tasks as dependent
           set cancelled_by_dependency = v_state.blocking, updated_at = _revive_dependents.as_of
         where dependent.id = v_dependent.id;
        continue;
      end if;
      update swarm.agent_tasks as dependent
         set status = case when v_state.unmet > 0 then 'waiting' else 'pending' end,
             unmet_dependencies = v_state.unmet,
             cancelled_by_dependency = null,
             cancel_reason = null,
             finished_at = null,
             run_after = greatest(dependent.run_after, _revive_dependents.as_of),
             updated_at = _revive_dependents.as_of
       where dependent.id = v_dependent.id;
      perform swarm._log(v_dependent.id, 'retry_scheduled', null, null,
        jsonb_build_object('to', case when v_state.unmet > 0 then 'waiting' else 'pending' end,
                           'revived_by', v_frontier), _revive_dependents.as_of);
      v_next := v_next || v_dependent.id;
    end loop;
    perform swarm._unresolve_for_dependents(v_next, _revive_dependents.as_of);
    v_frontier := v_next;
  end loop;
end
$$;

CREATE FUNCTION swarm._schedule_batch() RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$ select 100 $$;

CREATE FUNCTION swarm._schedule_grace() RETURNS interval
    LANGUAGE sql IMMUTABLE
    AS $$ select interval '60 seconds' $$;

CREATE FUNCTION swarm._schedules_before_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_spec record;
begin
  if new.name is null or new.name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' then
    perform swarm._invalid(format('schedule name %L must be 1-100 letters, digits, ''.'', ''_'' or ''-'', '
                                  'starting with a letter or digit', new.name),
                           'for example ''nightly-report''');
  end if;
  v_spec := swarm._cron_parse(new.cron);
  if tg_op = 'INSERT' or new.timezone is distinct from old.timezone then
    perform swarm._check_timezone(new.timezone);
  end if;
  if new.prompt is null then
    perform swarm._invalid(format('prompt of schedule %L is null', new.name),
                           'give the task an instruction: insert into swarm.schedules (name, cron, prompt) values (...)');
  end if;
  if tg_op = 'INSERT' and new.agent is null then
    select settings.default_agent into new.agent from swarm.settings as settings;
  end if;
  if not exists (select 1 from swarm.agents as a where a.name = new.agent) then
    perform swarm._unknown_agent(new.agent);
  end if;
  v_task.queue := new.queue;
  v_task.args := new.args;
  v_task.priority := new.priority;
  v_task.on_dependency_failure := 'cancel';
  v_task.max_attempts := new.max_attempts;
  v_task.timeout_seconds := new.timeout_seconds;
  perform swarm._check_task_fields(v_task);
  v_task.agent := new.agent;  -- the agent's declared args and prompt size (sql/14_task_args.sql)
  v_task.prompt := new.prompt;
  perform swarm._check_task_args(v_task, a.task_args, a.max_prompt_bytes)
     from swarm.agents as a where a.name = new.agent;
  if jsonb_typeof(new.metadata) is distinct from 'object' then
    perform swarm._invalid(format('metadata must be a JSON object, not %s', coalesce(jsonb_typeof(new.metadata), 'null')),
                           'for example ''{"team": "infra"}''');
  end if;
  if new.catch_up is null or new.catch_up not in ('latest', 'all', 'none') then
    perform swarm._invalid(format('catch_up %L must be ''latest'', ''all'' or ''none''', new.catch_up),
                           'latest: after downtime enqueue the latest missed slot once; all: every missed slot; none: none');
  end if;
  if new.enabled is null then
    perform swarm._invalid('enabled is null', 'true (the default) or false');
  end if;

  if tg_op = 'INSERT' then
    new.created_at := v_now;
  end if;
  new.updated_at := v_now;
  if not new.enabled then
    new.next_fire_at := null;
  elsif tg_op = 'INSERT' or not old.enabled or new.cron is distinct from old.cron
        or new.timezone is distinct from old.timezone then
    new.next_fire_at := swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months,
                                            v_spec.weekdays, v_spec.day_or, v_spec.follows_clock,
                                            new.timezone, v_now);
  end if;
  return new;
end
$_$;

CREATE FUNCTION swarm._schedules_owner_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  v_owner text := (select pg_catalog.pg_get_userbyid(class.relowner) from pg_catalog.pg_class as class
                    where class.oid = tg_relid);
begin
  if old.created_by is distinct from current_user and not pg_catalog.pg_has_role(current_user, v_owner, 'USAGE') then
    raise exception using errcode = '42501',
      message = format('schedule %L belongs to %s; %s may not %s it', old.name, old.created_by, current_user,
                       case when tg_op = 'DELETE' then 'drop' else 'change' end),
      detail = 'a schedule is changed or dropped only by the login that created it, or by the schema owner',
      hint = format('ask %s or %s, or create a schedule of your own', old.created_by, v_owner);
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

CREATE FUNCTION swarm._sees_all_tasks() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
  select not s.tenant_isolation
      or pg_has_role(session_user, 'swarm_worker', 'member')
      or pg_has_role(session_user, 'swarm_monitor', 'member')
      or pg_has_role(session_user, 'swarm_agent', 'member')
      or pg_has_role(session_user, (select c.relowner from pg_class as c where c.oid = 'swarm.agent_tasks'::regclass),
                     'member')
    from swarm.settings as s
$$;

CREATE FUNCTION swarm._settle_attempt(task swarm.agent_tasks, cause text, error text, retryable boolean, delay interval, as_of timestamp with time zone, spends_attempt boolean DEFAULT true) RETURNS text
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION swarm._slot_text(slot timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $_$ select to_char($1 at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $_$;

CREATE FUNCTION swarm._spent_today(agent text, at timestamp with time zone) RETURNS numeric
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
  select coalesce((select spend.cost_usd from swarm.agent_daily_spend as spend
                    where spend.agent = $1 and spend.day = ($2 at time zone 'UTC')::date), 0)
$_$;

CREATE FUNCTION swarm._stale_reason(task_id bigint, worker text, attempt integer, lease_token uuid) RETURNS text
    LANGUAGE sql STABLE
    AS $_$
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
$_$;

CREATE FUNCTION swarm._task_due(run_after timestamp with time zone, at timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select run_after <= at $$;

CREATE FUNCTION swarm._task_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  if not swarm._in_api() then
    raise exception using errcode = 'SW003', message = 'swarm.task_events is append-only',
      hint = 'use swarm.archive(older_than) to move old history out of the way';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

CREATE FUNCTION swarm._task_field_problem(task swarm.agent_tasks) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
  select case
    when task.queue = '' then
      array['queue is empty', 'leave queue out for ''default'', or name one']
    when jsonb_typeof(task.args) <> 'object' then
      array[format('args must be a JSON object, not %s: %s', jsonb_typeof(task.args), left(task.args::text, 80)),
            'for example ''{"model": "sonnet"}''']
    when task.priority not between -1000 and 1000 then
      array[format('priority %s is out of range -1000..1000', task.priority), null]
    when task.on_dependency_failure not in ('cancel', 'run') then
      array[format('on_dependency_failure %L must be ''cancel'' or ''run''', task.on_dependency_failure), null]
    when task.max_attempts < 1 then
      array[format('max_attempts %s must be at least 1', task.max_attempts), null]
    when task.max_attempts > 1000 then
      array[format('max_attempts %s is more than 1000', task.max_attempts), null]
    when task.timeout_seconds <= 0 then
      array[format('timeout_seconds %s must be positive', task.timeout_seconds), null]
    when task.timeout_seconds > 604800 then
      array[format('timeout_seconds %s is more than 7 days (604800)', task.timeout_seconds), null]
    when not isfinite(task.run_after) then
      array[format('run_after %s is not a time', task.run_after), 'give a date and time, or leave run_after out for now']
    when octet_length(task.key) > 1000 then
      array[format('key is %s bytes long; at most 1000', octet_length(task.key)), null]
    when octet_length(task.concurrency_key) > 1000 then
      array[format('concurrency_key is %s bytes long; at most 1000', octet_length(task.concurrency_key)), null]
  end
$$;

CREATE FUNCTION swarm._test_clock() RETURNS timestamp with time zone
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
  select case when (select s.test_clock from swarm.settings as s)
              then current_setting('swarm.now')::timestamptz else now() end
$$;

CREATE FUNCTION swarm._typical_cost(agent text) RETURNS numeric
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
  select percentile_cont(0.5) within group (order by recent.cost_usd)::numeric
    from (select ta.cost_usd from swarm.task_attempts as ta
           where ta.agent = $1 and ta.cost_usd > 0
           order by ta.id desc limit 20) as recent
$_$;

CREATE FUNCTION swarm._unknown_agent(agent text) RETURNS void
    LANGUAGE plpgsql
    AS $$
declare
  v_known text;
begin
  select string_agg(a.name, ', ' order by a.name) into v_known from swarm.agents as a;
  raise exception using errcode = 'SW001', message = format('unknown agent %L', agent),
    detail = format('known agents: %s', v_known),
    hint = format('register it: insert into swarm.agents (name) values (%L)', agent);
end
$$;

CREATE FUNCTION swarm._unknown_task(task_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  raise exception using errcode = 'SW002', message = format('unknown task %s', task_id),
    hint = 'list tasks with: select id, status from swarm.agent_tasks order by id desc limit 20';
end
$$;

CREATE FUNCTION swarm._unresolve_for_dependents(returned bigint[], as_of timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    SET enable_indexscan TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
  perform 1 from swarm.agent_tasks as dependent
   where dependent.status = 'waiting' and dependent.on_dependency_failure = 'run'
     and dependent.depends_on && _unresolve_for_dependents.returned
   order by dependent.id
     for update;
  update swarm.agent_tasks as dependent
     set unmet_dependencies = dependent.unmet_dependencies
           + (select count(*) from unnest(dependent.depends_on) as dep
               where dep = any(_unresolve_for_dependents.returned))::int,
         updated_at = _unresolve_for_dependents.as_of
   where dependent.status = 'waiting' and dependent.on_dependency_failure = 'run'
     and dependent.depends_on && _unresolve_for_dependents.returned;
end
$$;

CREATE FUNCTION swarm._utc_offset(timezone text, at timestamp with time zone) RETURNS interval
    LANGUAGE sql STABLE
    AS $_$
  select timezone($1, $2) - timezone('UTC', $2)
$_$;

CREATE FUNCTION swarm._utc_time(at timestamp with time zone) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') $$;

CREATE FUNCTION swarm._wake(agent text, queue text, tasks integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_cursor bigint;
  v_covered int := 0;
  v_last bigint;
  v_idle record;
  v_alive timestamptz := swarm.now() - interval '2 minutes';
begin
  select s.last_value into v_cursor from swarm.wake_cursor as s;
  for v_idle in
    -- After the cursor first, then from the start; each worker has a free slot, so neither half
    -- needs more than tasks rows (both walk idle_workers_ticket_idx).
    (select i.channel, i.free_slots, i.ticket
       from swarm.idle_workers as i
       join swarm.workers as w on w.name = i.worker
      where i.ticket > v_cursor and _wake.agent = any(i.agents)
        and (i.queues is null or _wake.queue = any(i.queues))
        and w.stopped_at is null and w.heartbeat_at > v_alive
      order by i.ticket
      limit _wake.tasks)
    union all
    (select i.channel, i.free_slots, i.ticket
       from swarm.idle_workers as i
       join swarm.workers as w on w.name = i.worker
      where i.ticket <= v_cursor and _wake.agent = any(i.agents)
        and (i.queues is null or _wake.queue = any(i.queues))
        and w.stopped_at is null and w.heartbeat_at > v_alive
      order by i.ticket
      limit _wake.tasks)
  loop
    perform pg_notify(v_idle.channel, _wake.agent);
    v_covered := v_covered + v_idle.free_slots;
    if v_idle.ticket > v_cursor or v_last is null then
      v_last := v_idle.ticket;
    end if;
    exit when v_covered >= _wake.tasks;
  end loop;
  if v_last is not null then
    perform setval('swarm.wake_cursor', greatest(v_last, 0), true);
  end if;
  return v_covered;
end
$$;

CREATE FUNCTION swarm._web_token_hash(token text) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN sha256(convert_to(token, 'UTF8'::name));

CREATE FUNCTION swarm._worker_alive(stopped_at timestamp with time zone, heartbeat_at timestamp with time zone, at timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ select stopped_at is null and heartbeat_at > at - interval '2 minutes' $$;

CREATE FUNCTION swarm._worker_allowed_args(worker text) RETURNS text[]
    LANGUAGE sql STABLE
    AS $$
  select coalesce((select w.allowed_args from swarm.workers as w where w.name = _worker_allowed_args.worker), '{}')
$$;

CREATE FUNCTION swarm._worker_of_another_login(worker text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $_$
  select exists (select 1 from swarm.workers as w where w.name = $1 and w.login <> session_user)
$_$;

CREATE FUNCTION swarm.agent_children(task_id bigint, token text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  perform swarm._agent_attempt(agent_children.task_id, agent_children.token);
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', child.id, 'key', child.key, 'agent', child.agent,
                                        'status', child.status, 'result', child.result, 'error', child.error)
                     order by child.id)
      from swarm.agent_tasks as child
     where child.parent_id = agent_children.task_id), '[]'::jsonb);
end
$$;

COMMENT ON FUNCTION swarm.agent_children(task_id bigint, token text) IS 'a running agent reads its own task''s children''s outcomes (task token)';

CREATE FUNCTION swarm.agent_dependency_results(task_id bigint, token text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  perform swarm._agent_attempt(agent_dependency_results.task_id, agent_dependency_results.token);
  return swarm.dependency_results(agent_dependency_results.task_id);
end
$$;

COMMENT ON FUNCTION swarm.agent_dependency_results(task_id bigint, token text) IS 'a running agent reads its own task''s dependencies'' results (task token)';

CREATE FUNCTION swarm.agent_enqueue(task_id bigint, token text, tasks jsonb) RETURNS TABLE(ordinal integer, id bigint, key text, agent text, status text, created boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_parent swarm.agent_tasks := swarm._agent_attempt(agent_enqueue.task_id, agent_enqueue.token);
  v_batch jsonb := '[]';
  v_task jsonb;
  v_row record;
  v_outside bigint;
begin
  if jsonb_typeof(agent_enqueue.tasks) is distinct from 'array' then
    perform swarm._invalid(format('tasks must be a JSON array of task objects, not %s',
                                  coalesce(jsonb_typeof(agent_enqueue.tasks), 'null')));
  end if;
  for v_task in select t from jsonb_array_elements(agent_enqueue.tasks) as t loop
    if jsonb_typeof(v_task) = 'object' then
      if coalesce(jsonb_typeof(v_task -> 'parent_id'), 'null') <> 'null'
         and (v_task -> 'parent_id') <> to_jsonb(v_parent.id) then
        raise exception using errcode = '42501',
          message = format('an agent enqueues children of its own task %s only, not of task %s',
                           v_parent.id, v_task -> 'parent_id'),
          hint = 'leave parent_id out: it is set to the running task';
      end if;
      v_task := v_task || jsonb_build_object('parent_id', v_parent.id);
    end if;
    v_batch := v_batch || jsonb_build_array(v_task);
  end loop;
  for v_row in select * from swarm.enqueue_many(v_batch) as made loop
    if v_row.agent = 'shell' then
      raise exception using errcode = '42501',
        message = format('an agent cannot enqueue shell tasks (task %s of the batch)', v_row.ordinal + 1),
        detail = 'a shell task runs its prompt as a command on any worker started with --allow-shell',
        hint = 'name a coding agent (claude, codex, ...) in "agent"';
    end if;
    if not v_row.created and not exists (select 1 from swarm.agent_tasks as t
                                          where t.id = v_row.id and t.parent_id = v_parent.id) then
      raise exception using errcode = '42501',
        message = format('key %L of task %s of the batch is taken by a task that is not a child of task %s',
                         v_row.key, v_row.ordinal + 1, v_parent.id),
        hint = 'choose another key';
    end if;
    select dep into v_outside
      from swarm.agent_tasks as t, unnest(t.depends_on) as dep
     where t.id = v_row.id
       and dep <> v_parent.id
       and not exists (select 1 from swarm.agent_tasks as d where d.id = dep and d.parent_id = v_parent.id)
     limit 1;
    if v_outside is not null then
      raise exception using errcode = '42501',
        message = format('task %s of the batch depends on task %s, which is not task %s or one of its children',
                         v_row.ordinal + 1, v_outside, v_parent.id),
        hint = 'an agent''s tasks depend on its own task, its children or earlier tasks of the batch';
    end if;
    if v_row.created then  -- a child belongs to whoever created its parent (tenants: they see it)
      update swarm.agent_tasks as t set created_by = v_parent.created_by where t.id = v_row.id;
    end if;
    ordinal := v_row.ordinal;
    id := v_row.id;
    key := v_row.key;
    agent := v_row.agent;
    status := v_row.status;
    created := v_row.created;
    return next;
  end loop;
end
$$;

COMMENT ON FUNCTION swarm.agent_enqueue(task_id bigint, token text, tasks jsonb) IS 'a running agent enqueues children of its own task (task token); one row per task';

CREATE FUNCTION swarm.agent_report_progress(task_id bigint, token text, progress jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  perform swarm._agent_attempt(agent_report_progress.task_id, agent_report_progress.token);
  if jsonb_typeof(agent_report_progress.progress) is distinct from 'object' then
    perform swarm._invalid(format('progress must be a JSON object, not %s',
                                  coalesce(jsonb_typeof(agent_report_progress.progress), 'null')),
                           'for example {"message": "tests pass", "percent": 60}');
  end if;
  if octet_length(agent_report_progress.progress::text) > 16384 then
    perform swarm._invalid(format('progress is %s bytes; at most 16384',
                                  octet_length(agent_report_progress.progress::text)));
  end if;
  update swarm.agent_tasks as task
     set progress = coalesce(task.progress, '{}') || jsonb_build_object('agent', agent_report_progress.progress),
         updated_at = now()
   where task.id = agent_report_progress.task_id;
end
$$;

COMMENT ON FUNCTION swarm.agent_report_progress(task_id bigint, token text, progress jsonb) IS 'a running agent reports its own task''s progress (task token)';

CREATE FUNCTION swarm.archive(older_than interval, batch_size integer DEFAULT NULL::integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_moved bigint;
begin
  if archive.older_than is null or archive.older_than < interval '0' then
    perform swarm._invalid(format('older_than %s must be a non-negative interval', archive.older_than));
  end if;
  perform set_config('swarm.api', 'on', true);
  with doomed as (
    select task.id from swarm.agent_tasks as task
     where task.status in ('completed', 'failed', 'cancelled')
       and task.finished_at < v_now - archive.older_than
     order by task.finished_at
     limit archive.batch_size
       for update skip locked
  ), moved as (
    delete from swarm.agent_tasks as task using doomed where task.id = doomed.id
    returning task.*
  ), kept as (
    -- By column name, not position: a column added to agent_tasks after archived_at came to the
    -- archive is kept when the archive has it too, and left behind when it does not (watched).
    insert into swarm.agent_tasks_archive
    select archived.*
      from moved
      cross join lateral jsonb_populate_record(
        null::swarm.agent_tasks_archive, to_jsonb(moved) || jsonb_build_object('archived_at', v_now)) as archived
  ), moved_events as (
    delete from swarm.task_events as e using moved where e.task_id = moved.id
    returning e.*
  ), kept_events as (
    insert into swarm.task_events_archive select moved_events.* from moved_events
  ), moved_attempts as (
    delete from swarm.task_attempts as ta using moved where ta.task_id = moved.id
    returning ta.*
  ), kept_attempts as (
    insert into swarm.task_attempts_archive select moved_attempts.* from moved_attempts
  )
  select count(*) into v_moved from moved;
  perform set_config('swarm.api', '', true);
  return v_moved;
end
$$;

COMMENT ON FUNCTION swarm.archive(older_than interval, batch_size integer) IS 'move finished tasks older than an interval (and their events) to the archive tables';

CREATE PROCEDURE swarm.archive_in_batches(IN older_than interval, IN batch_size integer DEFAULT 1000, INOUT moved bigint DEFAULT NULL::bigint, IN max_batches integer DEFAULT NULL::integer)
    LANGUAGE plpgsql
    AS $$
declare
  v_batch bigint;
  v_batches int := 0;
begin
  if archive_in_batches.batch_size is null or archive_in_batches.batch_size < 1 then
    perform swarm._invalid(format('batch_size %s must be at least 1', archive_in_batches.batch_size));
  end if;
  if archive_in_batches.max_batches is not null and archive_in_batches.max_batches < 1 then
    perform swarm._invalid(format('max_batches %s must be at least 1 (or null: no limit)',
                                  archive_in_batches.max_batches));
  end if;
  moved := 0;
  loop
    v_batch := swarm.archive(archive_in_batches.older_than, archive_in_batches.batch_size);
    moved := moved + v_batch;
    v_batches := v_batches + 1;
    commit;
    exit when v_batch < archive_in_batches.batch_size
           or v_batches >= coalesce(archive_in_batches.max_batches, v_batches + 1);
  end loop;
end
$$;

COMMENT ON PROCEDURE swarm.archive_in_batches(IN older_than interval, IN batch_size integer, INOUT moved bigint, IN max_batches integer) IS 'swarm.archive in committed batches (CALL outside a transaction block)';

CREATE FUNCTION swarm.cancel_task(task_id bigint, reason text DEFAULT NULL::text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_reason text := coalesce(cancel_task.reason, 'cancelled by ' || session_user);
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = cancel_task.task_id for update;
  if not found or not swarm._may_see_task(v_task.created_by) then  -- tenants: another login's is unknown
    perform swarm._unknown_task(cancel_task.task_id);
  end if;
  if v_task.status = 'cancelled' then
    return 'cancelled';
  elsif v_task.status in ('completed', 'failed') then
    raise exception using errcode = 'SW003',
      message = format('task %s is already %s and cannot be cancelled', v_task.id, v_task.status),
      detail = format('%s -> cancelled is not allowed', v_task.status);
  end if;
  perform set_config('swarm.api', 'on', true);
  if v_task.status = 'running' then
    update swarm.agent_tasks as task
       set cancel_requested_at = coalesce(task.cancel_requested_at, v_now),
           cancel_reason = coalesce(task.cancel_reason, v_reason), updated_at = v_now
     where task.id = v_task.id;
    perform pg_notify('swarm_cancel', v_task.id::text);
    perform set_config('swarm.api', '', true);
    return 'running';
  end if;
  update swarm.agent_tasks as task
     set status = 'cancelled', cancel_reason = v_reason, finished_at = v_now, updated_at = v_now
   where task.id = v_task.id;
  perform swarm._log(v_task.id, 'cancelled', null, null,
                     jsonb_build_object('to', 'cancelled', 'from', v_task.status, 'reason', v_reason), v_now);
  perform swarm._apply_dependency_failure(array[v_task.id], v_now);
  perform set_config('swarm.api', '', true);
  return 'cancelled';
end
$$;

COMMENT ON FUNCTION swarm.cancel_task(task_id bigint, reason text) IS 'cancel a waiting/pending task now, or request cancellation of a running one (NOTIFY swarm_cancel)';

CREATE FUNCTION swarm.cancel_tasks(task_ids bigint[], reason text DEFAULT NULL::text) RETURNS TABLE(task_id bigint, status text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_id bigint;
begin
  for v_id in select distinct id from unnest(cancel_tasks.task_ids) as id where id is not null order by id loop
    if exists (select 1 from swarm.agent_tasks as task
                where task.id = v_id and task.status in ('waiting', 'pending', 'running')
                  and swarm._may_see_task(task.created_by)) then
      task_id := v_id;
      status := swarm.cancel_task(v_id, cancel_tasks.reason);
      return next;
    end if;
  end loop;
end
$$;

COMMENT ON FUNCTION swarm.cancel_tasks(task_ids bigint[], reason text) IS 'cancel_task for each of these tasks still waiting, pending or running';

CREATE FUNCTION swarm.claim_or_wait(worker text, agents text[] DEFAULT NULL::text[], queues text[] DEFAULT NULL::text[], max_tasks integer DEFAULT 1, lease_seconds integer DEFAULT 60, hostname text DEFAULT NULL::text, pid integer DEFAULT NULL::integer, durable boolean DEFAULT true) RETURNS SETOF swarm.agent_tasks
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_claimed int;
  v_free int;
  v_cursor bigint;
begin
  return query select * from swarm.claim_task(claim_or_wait.worker, claim_or_wait.agents, claim_or_wait.queues,
                                              claim_or_wait.max_tasks, claim_or_wait.lease_seconds,
                                              claim_or_wait.hostname, claim_or_wait.pid, claim_or_wait.durable);
  get diagnostics v_claimed = row_count;
  v_free := claim_or_wait.max_tasks - v_claimed;
  if v_free <= 0 then
    delete from swarm.idle_workers as i where i.worker = claim_or_wait.worker;
    return;
  end if;
  select s.last_value into v_cursor from swarm.wake_cursor as s;
  insert into swarm.idle_workers as i (worker, channel, agents, queues, free_slots, ticket)
  values (claim_or_wait.worker, swarm.wake_channel(claim_or_wait.worker),
          coalesce(claim_or_wait.agents, '{}'), claim_or_wait.queues, v_free, nextval('swarm.idle_ticket'))
  on conflict on constraint idle_workers_pkey do update
     set agents = excluded.agents, queues = excluded.queues, free_slots = excluded.free_slots,
         ticket = excluded.ticket
   where i.free_slots <> excluded.free_slots or i.ticket <= v_cursor
      or i.agents is distinct from excluded.agents or i.queues is distinct from excluded.queues;
end
$$;

COMMENT ON FUNCTION swarm.claim_or_wait(worker text, agents text[], queues text[], max_tasks integer, lease_seconds integer, hostname text, pid integer, durable boolean) IS 'claim_task, then wait among the idle workers (woken on swarm.wake_channel) when slots are left';

CREATE FUNCTION swarm.claim_task(worker text, agents text[] DEFAULT NULL::text[], queues text[] DEFAULT NULL::text[], max_tasks integer DEFAULT 1, lease_seconds integer DEFAULT 60, hostname text DEFAULT NULL::text, pid integer DEFAULT NULL::integer, durable boolean DEFAULT true) RETURNS SETOF swarm.agent_tasks
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET enable_sort TO 'off'
    SET jit TO 'off'
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_hashjoin TO 'off'
    SET enable_mergejoin TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.claim_task(worker text, agents text[], queues text[], max_tasks integer, lease_seconds integer, hostname text, pid integer, durable boolean) IS 'claim up to max_tasks tasks for a worker (FOR UPDATE SKIP LOCKED; honours pauses, caps, rates, concurrency keys)';

CREATE FUNCTION swarm.complete_task(task_id bigint, worker text, attempt integer, result jsonb DEFAULT NULL::jsonb, exit_code integer DEFAULT NULL::integer, output_tail text DEFAULT NULL::text, log_path text DEFAULT NULL::text, cost_usd numeric DEFAULT NULL::numeric, input_tokens bigint DEFAULT NULL::bigint, output_tokens bigint DEFAULT NULL::bigint, session_id text DEFAULT NULL::text, lease_token uuid DEFAULT NULL::uuid) RETURNS TABLE(accepted boolean, status text, message text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.complete_task(task_id bigint, worker text, attempt integer, result jsonb, exit_code integer, output_tail text, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) IS 'record a successful attempt (fenced by worker, attempt and lease token) and release dependents';

CREATE FUNCTION swarm.complete_tasks(worker text, task_ids bigint[], attempts integer[], results jsonb[] DEFAULT NULL::jsonb[], lease_tokens uuid[] DEFAULT NULL::uuid[]) RETURNS TABLE(task_id bigint, accepted boolean, status text, message text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    SET enable_nestloop TO 'off'
    SET enable_mergejoin TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.complete_tasks(worker text, task_ids bigint[], attempts integer[], results jsonb[], lease_tokens uuid[]) IS 'complete a batch of attempts of one worker (each fenced) and release dependents';

CREATE FUNCTION swarm.create_web_token(name text, scope text, expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
declare
  v_token text := 'pgsw_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
begin
  if create_web_token.scope is null or create_web_token.scope not in ('read', 'enqueue', 'admin') then
    perform swarm._invalid(format('unknown token scope %L', create_web_token.scope),
                           'a scope is read, enqueue (read + add and cancel tasks) or admin (everything)');
  end if;
  if create_web_token.name is null or create_web_token.name !~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$' then
    perform swarm._invalid(format('token name %L is not a simple name', create_web_token.name),
                           'use letters, digits, _ . @ - (at most 63), e.g. grafana or alice@laptop');
  end if;
  if create_web_token.expires_at <= swarm.now() then
    perform swarm._invalid(format('token expiry %s is not in the future', create_web_token.expires_at));
  end if;
  if exists (select 1 from swarm.web_tokens as t where t.name = create_web_token.name) then
    perform swarm._invalid(format('a web token named %L exists already', create_web_token.name),
                           format('revoke it first (pgswarm web token revoke %s) or choose another name',
                                  create_web_token.name));
  end if;
  insert into swarm.web_tokens (name, scope, token_sha256, expires_at)
  values (create_web_token.name, create_web_token.scope, swarm._web_token_hash(v_token), create_web_token.expires_at);
  return v_token;
end
$_$;

COMMENT ON FUNCTION swarm.create_web_token(name text, scope text, expires_at timestamp with time zone) IS 'make a bearer token for pgswarm web (scope read, enqueue or admin); returns the token, stored only hashed';

CREATE FUNCTION swarm.cron_next(cron text, after timestamp with time zone DEFAULT swarm.now(), timezone text DEFAULT 'UTC'::text) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_spec record;
begin
  perform swarm._check_timezone(cron_next.timezone);
  if cron_next.after is null then
    perform swarm._invalid('after is null', 'give a time: swarm.cron_next(''@daily'', now())');
  end if;
  v_spec := swarm._cron_parse(cron_next.cron);
  return swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                             v_spec.day_or, v_spec.follows_clock, cron_next.timezone, cron_next.after);
end
$$;

COMMENT ON FUNCTION swarm.cron_next(cron text, after timestamp with time zone, timezone text) IS 'the first time a cron expression fires after a given time, in a time zone (DST rule: docs/sql-api.md)';

CREATE FUNCTION swarm.declare_task_args(agent text, task_args jsonb DEFAULT NULL::jsonb, like_agent text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_args jsonb := declare_task_args.task_args;
begin
  if declare_task_args.like_agent is not null then
    select a.task_args into v_args from swarm.agents as a where a.name = declare_task_args.like_agent;
    if not found then
      perform swarm._unknown_agent(declare_task_args.like_agent);
    end if;
  end if;
  if v_args is null or jsonb_typeof(v_args) <> 'object' then
    return false;
  end if;
  update swarm.agents as a set task_args = v_args, updated_at = swarm.now()
   where a.name = declare_task_args.agent and a.task_args is null;
  if found then
    return true;
  end if;
  if not exists (select 1 from swarm.agents as a where a.name = declare_task_args.agent) then
    perform swarm._unknown_agent(declare_task_args.agent);
  end if;
  return false;
end
$$;

COMMENT ON FUNCTION swarm.declare_task_args(agent text, task_args jsonb, like_agent text) IS 'declare the task arguments of an agent that has no declaration yet (a worker''s TOML profile)';

CREATE FUNCTION swarm.dependency_results(task_id bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_depends_on bigint[];
begin
  select task.depends_on into v_depends_on from swarm.agent_tasks as task where task.id = dependency_results.task_id;
  if not found then
    perform swarm._unknown_task(dependency_results.task_id);
  end if;
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', dep.id, 'key', dep.key, 'agent', dep.agent, 'status', dep.status,
                                        'result', dep.result, 'error', dep.error) order by ord.n)
      from unnest(v_depends_on) with ordinality as ord (id, n)
      join swarm.agent_tasks as dep on dep.id = ord.id), '[]'::jsonb);
end
$$;

COMMENT ON FUNCTION swarm.dependency_results(task_id bigint) IS 'the results of a task''s dependencies, in depends_on order';

CREATE FUNCTION swarm.enqueue(prompt text, agent text DEFAULT NULL::text, queue text DEFAULT 'default'::text, args jsonb DEFAULT '{}'::jsonb, priority integer DEFAULT 0, depends_on bigint[] DEFAULT '{}'::bigint[], key text DEFAULT NULL::text, run_after timestamp with time zone DEFAULT NULL::timestamp with time zone, max_attempts integer DEFAULT 3, timeout_seconds integer DEFAULT NULL::integer, concurrency_key text DEFAULT NULL::text, parent_id bigint DEFAULT NULL::bigint, on_dependency_failure text DEFAULT 'cancel'::text, tags text[] DEFAULT '{}'::text[], metadata jsonb DEFAULT '{}'::jsonb) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_id bigint;
begin
  insert into swarm.agent_tasks as task (prompt, agent, queue, args, priority, depends_on, key, run_after,
                                         max_attempts, timeout_seconds, concurrency_key, parent_id,
                                         on_dependency_failure, tags, metadata)
  values (enqueue.prompt, coalesce(enqueue.agent, swarm._default_agent()), enqueue.queue, coalesce(enqueue.args, '{}'), enqueue.priority,
          coalesce(enqueue.depends_on, '{}'), enqueue.key, coalesce(enqueue.run_after, swarm.now()),
          enqueue.max_attempts, enqueue.timeout_seconds, enqueue.concurrency_key, enqueue.parent_id,
          enqueue.on_dependency_failure, coalesce(enqueue.tags, '{}'), coalesce(enqueue.metadata, '{}'))
  on conflict on constraint agent_tasks_key_key do nothing
  returning task.id into v_id;
  if v_id is null then
    select task.id into v_id from swarm.agent_tasks as task
     where task.key = enqueue.key and swarm._may_see_task(task.created_by);
    if not found then
      perform swarm._invalid(format('key %L is taken by another login''s task', enqueue.key), 'choose another key');
    end if;
  end if;
  return v_id;
end
$$;

COMMENT ON FUNCTION swarm.enqueue(prompt text, agent text, queue text, args jsonb, priority integer, depends_on bigint[], key text, run_after timestamp with time zone, max_attempts integer, timeout_seconds integer, concurrency_key text, parent_id bigint, on_dependency_failure text, tags text[], metadata jsonb) IS 'insert a task and return its id (the existing id when key is taken)';

CREATE FUNCTION swarm.enqueue_many(tasks jsonb) RETURNS TABLE(ordinal integer, id bigint, key text, agent text, status text, created boolean)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
declare
  v_task jsonb;
  v_columns jsonb;
  v_names text;
  v_refs jsonb := '{}';  -- ref or key of each task so far -> its id
  v_count int;
  v_where text := '';
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  if jsonb_typeof(enqueue_many.tasks) is distinct from 'array' then
    perform swarm._invalid(format('tasks must be a JSON array of task objects, not %s',
                                  coalesce(jsonb_typeof(enqueue_many.tasks), 'null')));
  end if;
  v_count := jsonb_array_length(enqueue_many.tasks);
  -- One exception block around the loop (one subtransaction a call, not one a task): it only
  -- adds the failing task's place to the message.
  begin
    for v_task, ordinal in
      select t.value, t.ordinality::int - 1 from jsonb_array_elements(enqueue_many.tasks) with ordinality as t
    loop
      if v_count > 1 then
        v_where := format('task %s of %s%s: ', ordinal + 1, v_count,
                          case when jsonb_typeof(v_task -> 'ref') = 'string' then format(' (%s)', v_task ->> 'ref')
                               else '' end);
      end if;
      v_columns := swarm._batch_task_columns(v_task, v_refs);
      created := true;
      id := null;
      if v_columns <> '{}' then
        select string_agg(quote_ident(c), ', ') into v_names from jsonb_object_keys(v_columns) as c;
        -- The columns given, and no others, so that the rest take their defaults.
        execute format('insert into swarm.agent_tasks as task (%1$s) '
                       'select %1$s from jsonb_populate_record(null::swarm.agent_tasks, $1) '
                       'on conflict (key) do nothing returning task.id, task.key, task.agent, task.status', v_names)
          using v_columns into id, key, agent, status;
      else
        insert into swarm.agent_tasks as task default values returning task.id, task.key, task.agent, task.status
          into id, key, agent, status;
      end if;
      if id is null then  -- the key was taken
        select t.id, t.key, t.agent, t.status, false into id, key, agent, status, created
          from swarm.agent_tasks as t where t.key = v_columns ->> 'key';
        if not found then  -- by a task this login may not see (tenants)
          perform swarm._invalid(format('key %L is taken by another login''s task', v_columns ->> 'key'),
                                 'choose another key');
        end if;
      end if;
      if jsonb_typeof(v_task -> 'ref') = 'string' then
        if v_refs ? (v_task ->> 'ref') and (v_refs ->> (v_task ->> 'ref'))::bigint <> id then
          perform swarm._invalid(format('ref %L names two tasks of the batch', v_task ->> 'ref'));
        end if;
        v_refs := v_refs || jsonb_build_object(v_task ->> 'ref', id);
      end if;
      if key is not null then
        v_refs := v_refs || jsonb_build_object(key, id);
      end if;
      return next;
    end loop;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail,
                            v_hint = pg_exception_hint;
    raise exception using errcode = v_state, message = v_where || v_message, detail = coalesce(v_detail, ''),
                          hint = coalesce(v_hint, '');
  end;
end
$_$;

COMMENT ON FUNCTION swarm.enqueue_many(tasks jsonb) IS 'insert a JSON array of tasks in one call (dependencies by ref or key within the batch); one row per task';

CREATE FUNCTION swarm.fail_task(task_id bigint, worker text, attempt integer, error text, exit_code integer DEFAULT NULL::integer, output_tail text DEFAULT NULL::text, log_path text DEFAULT NULL::text, result jsonb DEFAULT NULL::jsonb, cost_usd numeric DEFAULT NULL::numeric, input_tokens bigint DEFAULT NULL::bigint, output_tokens bigint DEFAULT NULL::bigint, retry_in_seconds integer DEFAULT NULL::integer, retryable boolean DEFAULT true, session_id text DEFAULT NULL::text, fault text DEFAULT 'service'::text, lease_token uuid DEFAULT NULL::uuid) RETURNS TABLE(accepted boolean, status text, message text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.fail_task(task_id bigint, worker text, attempt integer, error text, exit_code integer, output_tail text, log_path text, result jsonb, cost_usd numeric, input_tokens bigint, output_tokens bigint, retry_in_seconds integer, retryable boolean, session_id text, fault text, lease_token uuid) IS 'record a failed attempt (fenced); retry with backoff, fail for good, or cancel if requested';

CREATE FUNCTION swarm.fire_schedules() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_schedule swarm.schedules;
  v_fired int := 0;
  v_error text;
  v_next timestamptz;
begin
  for v_schedule in
    select s.* from swarm.schedules as s
     where s.enabled and s.next_fire_at <= v_now
     order by s.next_fire_at, s.name
       for update skip locked
  loop
    begin
      v_fired := v_fired + swarm._fire_schedule(v_schedule, v_now);
    exception when sqlstate 'SW000' or data_exception or integrity_constraint_violation then
      v_error := sqlerrm;
      begin
        v_next := swarm.cron_next(v_schedule.cron, v_now, v_schedule.timezone);
      exception when sqlstate 'SW000' then
        v_next := null;  -- the cron or time zone itself is bad: it fires again once fixed
      end;
      update swarm.schedules as s
         set next_fire_at = v_next, last_error = format('%s: %s', swarm._slot_text(v_schedule.next_fire_at), v_error)
       where s.name = v_schedule.name;
      raise warning 'schedule %: slot % not enqueued: %', v_schedule.name,
        swarm._slot_text(v_schedule.next_fire_at), v_error;
    end;
  end loop;
  return v_fired;
end
$$;

COMMENT ON FUNCTION swarm.fire_schedules() IS 'enqueue each due slot of every enabled schedule exactly once and move next_fire_at on; returns tasks enqueued';

CREATE FUNCTION swarm.heartbeat(worker text, task_ids bigint[], lease_seconds integer DEFAULT 60, lease_tokens uuid[] DEFAULT NULL::uuid[]) RETURNS TABLE(task_id bigint, owned boolean, cancel_requested boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.heartbeat(worker text, task_ids bigint[], lease_seconds integer, lease_tokens uuid[]) IS 'renew the leases of a worker''s running tasks (fenced by their tokens); per task: still owned? cancel requested?';

CREATE FUNCTION swarm.idle_check(agents text[] DEFAULT NULL::text[], queues text[] DEFAULT NULL::text[]) RETURNS double precision
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_floor bigint;
  v_next timestamptz;
begin
  select s.last_value into v_floor from swarm.claim_floor as s;
  -- A task claimable for less than a second has just been hinted to a worker, which is claiming
  -- it: a poll that claimed it too would be the herd again (measured at 500 idle workers: 1.8
  -- claims a task more). Such a task is asked about again when its second is up.
  select min(task.run_after) into v_next
    from swarm.agent_tasks as task
   where task.status = 'pending'
     and swarm._claim_rank(task.priority, task.run_after) >= v_floor
     and task.run_after <= v_now
     and task.run_after > v_now - interval '1 second'
     and (idle_check.agents is null or task.agent = any(idle_check.agents))
     and (idle_check.queues is null or task.queue = any(idle_check.queues));
  if exists (select 1 from swarm.agent_tasks as task
              where task.status = 'pending'
                and swarm._claim_rank(task.priority, task.run_after) >= v_floor
                and task.run_after <= v_now - interval '1 second'
                and (idle_check.agents is null or task.agent = any(idle_check.agents))
                and (idle_check.queues is null or task.queue = any(idle_check.queues))) then
    return 0;
  end if;
  -- The look below the floor that a claim makes at most every 5 seconds in the cluster
  -- (sql/22_claim_floor.sql), made here too: with hints reaching their workers, polls may be
  -- the only calls that find nothing. A task found there puts the floor right for the claim.
  if v_floor <> 0 and swarm._claim_floor_check_due() then
    if exists (select 1 from swarm.agent_tasks as task
                where task.status = 'pending'
                  and swarm._claim_rank(task.priority, task.run_after) < v_floor
                  and task.run_after <= v_now
                  and (idle_check.agents is null or task.agent = any(idle_check.agents))
                  and (idle_check.queues is null or task.queue = any(idle_check.queues))) then
      perform swarm._lower_claim_floor(0);
      return 0;
    end if;
  end if;
  if v_next is not null then
    return greatest(0.001, extract(epoch from v_next + interval '1 second' - v_now)::float8);
  end if;
  v_next := swarm.next_run_after(idle_check.agents, idle_check.queues);
  if v_next is null then
    return null;  -- not greatest(0, null), which is 0
  end if;
  return greatest(0, extract(epoch from v_next - v_now)::float8);
end
$$;

COMMENT ON FUNCTION swarm.idle_check(agents text[], queues text[]) IS 'seconds until a task of these agents and queues may be claimable (0: now; null: none pending)';

CREATE FUNCTION swarm.next_run_after(agents text[] DEFAULT NULL::text[], queues text[] DEFAULT NULL::text[]) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
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

COMMENT ON FUNCTION swarm.next_run_after(agents text[], queues text[]) IS 'earliest future moment a pending task becomes claimable';

CREATE FUNCTION swarm.next_schedule_at() RETURNS timestamp with time zone
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
  select min(s.next_fire_at) from swarm.schedules as s where s.enabled
$$;

COMMENT ON FUNCTION swarm.next_schedule_at() IS 'the earliest next_fire_at of the enabled schedules (a worker''s wake-up timer)';

CREATE FUNCTION swarm.pause_agent(name text, until timestamp with time zone DEFAULT NULL::timestamp with time zone, reason text DEFAULT NULL::text) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
  -- "Until resumed" is a far date rather than 'infinity', which client drivers cannot load.
  v_until timestamptz := coalesce(pause_agent."until", '9999-12-31 00:00:00+00');
  v_result timestamptz;
begin
  if v_until <= v_now then
    perform swarm._invalid(format('pause until %s is not in the future', v_until));
  end if;
  update swarm.agents as a
     set paused_until = greatest(v_until, case when a.paused_until > v_now then a.paused_until end),
         pause_reason = case when a.paused_until > v_until then a.pause_reason
                             else coalesce(pause_agent.reason, 'paused by operator') end,
         updated_at = v_now
   where a.name = pause_agent.name
  returning a.paused_until into v_result;
  if not found then
    perform swarm._unknown_agent(pause_agent.name);
  end if;
  return v_result;
end
$$;

COMMENT ON FUNCTION swarm.pause_agent(name text, until timestamp with time zone, reason text) IS 'pause an agent cluster-wide until a time (null = until resumed); returns the effective end';

CREATE FUNCTION swarm.priority(name text) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $_$
declare
  v_name text := lower(btrim(priority.name));
begin
  case v_name
    when 'critical' then return 100;
    when 'high' then return 50;
    when 'medium' then return 0;
    when 'low' then return -50;
    else
      if v_name ~ '^[+-]?[0-9]{1,9}$' then
        if v_name::int between -1000 and 1000 then
          return v_name::int;
        end if;
        perform swarm._invalid(format('priority %s is out of range -1000..1000', v_name));
      end if;
      raise exception using errcode = 'SW005', message = format('unknown priority %L', priority.name),
        detail = 'priorities: critical (100), high (50), medium (0), low (-50), or an integer -1000..1000',
        hint = 'for example swarm.priority(''high''); higher runs first';
  end case;
end
$_$;

COMMENT ON FUNCTION swarm.priority(name text) IS 'critical 100, high 50, medium 0, low -50, or an integer -1000..1000 as text';

CREATE FUNCTION swarm.reap_expired() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.reap_expired() IS 'retry, fail or cancel running tasks whose lease expired; safe to call concurrently';

CREATE FUNCTION swarm.record_session(task_id bigint, worker text, attempt integer, session_id text) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
  with recorded as (
    update swarm.task_attempts as ta set session_id = left($4, 200)
      from swarm.agent_tasks as task
     where task.id = $1 and task.status = 'running' and task.worker = $2 and task.attempts = $3
       and not swarm._worker_of_another_login($2)
       and ta.task_id = $1 and ta.attempt = $3 and ta.finished_at is null
    returning 1
  )
  select exists (select 1 from recorded)
$_$;

COMMENT ON FUNCTION swarm.record_session(task_id bigint, worker text, attempt integer, session_id text) IS 'record the agent session a running attempt runs in (fenced by worker and attempt), for a later resume';

CREATE FUNCTION swarm.register_agent_key(worker text, key bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_login name;
begin
  if register_agent_key.worker is null or register_agent_key.worker = '' then
    perform swarm._invalid('worker name must not be empty');
  end if;
  if register_agent_key.key is null or octet_length(register_agent_key.key) < 32 then
    perform swarm._invalid('an agent key must be at least 32 random bytes');
  end if;
  insert into swarm.agent_keys as k (worker, key, login)
  values (register_agent_key.worker, register_agent_key.key, session_user)
  on conflict on constraint agent_keys_pkey do update set key = excluded.key, registered_at = now()
   where k.login = excluded.login
  returning k.login into v_login;
  if v_login is null then
    raise exception using errcode = '42501',
      message = format('worker %s registered its agent key as another login', register_agent_key.worker),
      hint = 'give each worker login its own worker names (--name)';
  end if;
end
$$;

COMMENT ON FUNCTION swarm.register_agent_key(worker text, key bytea) IS 'a worker''s key for its attempts'' task tokens';

CREATE FUNCTION swarm.register_worker(name text, hostname text, pid integer, agents text[], queues text[], concurrency integer, version text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
begin
  if register_worker.name is null or register_worker.name = '' then
    perform swarm._invalid('worker name must not be empty');
  end if;
  if register_worker.concurrency is null or register_worker.concurrency < 1 then
    perform swarm._invalid(format('concurrency %s must be at least 1', register_worker.concurrency));
  end if;
  if swarm._worker_of_another_login(register_worker.name) then
    perform swarm._check_worker_login(register_worker.name);
  end if;
  insert into swarm.workers as w (name, hostname, pid, agents, queues, concurrency, version, started_at, heartbeat_at,
                                  login)
  values (register_worker.name, register_worker.hostname, register_worker.pid, register_worker.agents,
          register_worker.queues, register_worker.concurrency, register_worker.version, v_now, v_now, session_user)
  on conflict on constraint workers_pkey do update
     set hostname = excluded.hostname, pid = excluded.pid, agents = excluded.agents, queues = excluded.queues,
         concurrency = excluded.concurrency, version = excluded.version, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at, stopped_at = null, login = excluded.login
   -- Taken in the same statement: another login cannot slip in between the check and the upsert.
   where w.login is null or w.login = excluded.login;
  if not found then  -- another login took the name meanwhile
    perform swarm._check_worker_login(register_worker.name);
  end if;
end
$$;

COMMENT ON FUNCTION swarm.register_worker(name text, hostname text, pid integer, agents text[], queues text[], concurrency integer, version text) IS 'register (or re-register) a worker';

CREATE FUNCTION swarm.release_for_usage_limit(task_id bigint, worker text, attempt integer, until timestamp with time zone, reason text, exit_code integer DEFAULT NULL::integer, log_path text DEFAULT NULL::text, cost_usd numeric DEFAULT NULL::numeric, input_tokens bigint DEFAULT NULL::bigint, output_tokens bigint DEFAULT NULL::bigint, session_id text DEFAULT NULL::text, lease_token uuid DEFAULT NULL::uuid) RETURNS TABLE(accepted boolean, status text, message text, paused_until timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_agent text;
  v_paused_until timestamptz;
begin
  if swarm._worker_of_another_login(release_for_usage_limit.worker) then
    perform swarm._check_worker_login(release_for_usage_limit.worker);
  end if;
  select task.agent into v_agent from swarm.agent_tasks as task where task.id = release_for_usage_limit.task_id;
  if not found then
    perform swarm._unknown_task(release_for_usage_limit.task_id);
  end if;
  v_paused_until := swarm.pause_agent(v_agent, greatest(release_for_usage_limit."until",
                                                        swarm.now() + interval '1 minute'),
                                      left(coalesce(release_for_usage_limit.reason, v_agent || ' usage limit'), 1000));
  return query
    select r.accepted, r.status, r.message, v_paused_until
      from swarm.release_task(task_id => release_for_usage_limit.task_id, worker => release_for_usage_limit.worker,
                              attempt => release_for_usage_limit.attempt, delay_seconds => 0,
                              count_attempt => false,
                              reason => coalesce(release_for_usage_limit.reason, 'usage limit'),
                              exit_code => release_for_usage_limit.exit_code,
                              log_path => release_for_usage_limit.log_path,
                              cost_usd => release_for_usage_limit.cost_usd,
                              input_tokens => release_for_usage_limit.input_tokens,
                              output_tokens => release_for_usage_limit.output_tokens,
                              session_id => release_for_usage_limit.session_id,
                              lease_token => release_for_usage_limit.lease_token) as r;
end
$$;

COMMENT ON FUNCTION swarm.release_for_usage_limit(task_id bigint, worker text, attempt integer, until timestamp with time zone, reason text, exit_code integer, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) IS 'pause the agent for its usage limit and release the task without spending the attempt, in one transaction';

CREATE FUNCTION swarm.release_task(task_id bigint, worker text, attempt integer, delay_seconds integer DEFAULT 0, count_attempt boolean DEFAULT false, reason text DEFAULT NULL::text, exit_code integer DEFAULT NULL::integer, log_path text DEFAULT NULL::text, cost_usd numeric DEFAULT NULL::numeric, input_tokens bigint DEFAULT NULL::bigint, output_tokens bigint DEFAULT NULL::bigint, session_id text DEFAULT NULL::text, lease_token uuid DEFAULT NULL::uuid) RETURNS TABLE(accepted boolean, status text, message text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
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

COMMENT ON FUNCTION swarm.release_task(task_id bigint, worker text, attempt integer, delay_seconds integer, count_attempt boolean, reason text, exit_code integer, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) IS 'give a running task back (fenced), by default without spending the attempt';

CREATE FUNCTION swarm.require_schema(version integer) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_applied int := swarm.schema_version();
begin
  if v_applied < require_schema.version then
    raise exception 'the database schema is version %, this pgswarm needs %: run `pgswarm migrate`', v_applied, require_schema.version
      using errcode = 'SW006', detail = 'a worker or pgswarm web refuses to run on an older schema',
            hint = 'run `pgswarm migrate` with this pgswarm';
  end if;
  return v_applied;
end;
$$;

COMMENT ON FUNCTION swarm.require_schema(version integer) IS 'the schema version, or SW006 when older than the caller needs';

CREATE FUNCTION swarm.resume_agent(name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  update swarm.agents as a
     set paused_until = null, pause_reason = null, consecutive_failures = 0, updated_at = swarm.now()
   where a.name = resume_agent.name;
  if not found then
    perform swarm._unknown_agent(resume_agent.name);
  end if;
  perform swarm._notify_ready(array[resume_agent.name]);
end
$$;

COMMENT ON FUNCTION swarm.resume_agent(name text) IS 'end an agent''s pause and reset its circuit breaker';

CREATE FUNCTION swarm.retry_task(task_id bigint) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_state record;
  v_status text;
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = retry_task.task_id for update;
  if not found or not swarm._may_see_task(v_task.created_by) then  -- tenants: another login's is unknown
    perform swarm._unknown_task(retry_task.task_id);
  end if;
  if v_task.status not in ('failed', 'cancelled') then
    raise exception using errcode = 'SW003',
      message = format('task %s is %s; only failed or cancelled tasks can be retried', v_task.id, v_task.status),
      detail = format('%s -> pending is not allowed', v_task.status);
  end if;
  v_state := swarm._dependency_state(v_task.depends_on, 'cancel');
  if v_state.blocking is not null then
    raise exception using errcode = 'SW004',
      message = format('task %s depends on task %s, which failed or was cancelled', v_task.id, v_state.blocking),
      hint = format('retry task %s first: its retry revives this one', v_state.blocking);
  end if;
  v_status := case when v_state.unmet > 0 then 'waiting' else 'pending' end;
  perform set_config('swarm.api', 'on', true);
  update swarm.agent_tasks as task
     set status = v_status,
         unmet_dependencies = v_state.unmet,
         attempts = 0,
         free_releases = 0,
         run_after = v_now,
         finished_at = null,
         cancel_requested_at = null,
         cancel_reason = null,
         cancelled_by_dependency = null,
         updated_at = v_now
   where task.id = v_task.id;
  perform swarm._log(v_task.id, 'retry_scheduled', null, null,
                     jsonb_build_object('to', v_status, 'from', v_task.status, 'by', 'retry_task'), v_now);
  perform swarm._unresolve_for_dependents(array[v_task.id], v_now);
  perform swarm._revive_dependents(array[v_task.id], v_now);
  if v_status = 'pending' then
    perform swarm._notify_ready(array[v_task.agent]);
  end if;
  perform set_config('swarm.api', '', true);
  return v_status;
end
$$;

COMMENT ON FUNCTION swarm.retry_task(task_id bigint) IS 'retry a failed or cancelled task, reviving the dependents its failure cancelled';

CREATE FUNCTION swarm.retry_tasks(task_ids bigint[]) RETURNS TABLE(task_id bigint, status text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_id bigint;
begin
  for v_id in select distinct id from unnest(retry_tasks.task_ids) as id where id is not null order by id loop
    if exists (select 1 from swarm.agent_tasks as task
                where task.id = v_id and task.status in ('failed', 'cancelled')
                  and swarm._may_see_task(task.created_by)) then
      task_id := v_id;
      status := swarm.retry_task(v_id);
      return next;
    end if;
  end loop;
end
$$;

COMMENT ON FUNCTION swarm.retry_tasks(task_ids bigint[]) IS 'retry_task for each of these tasks still failed or cancelled';

CREATE FUNCTION swarm.revoke_web_token(name text) RETURNS timestamp with time zone
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_at timestamptz;
begin
  update swarm.web_tokens as t set revoked_at = coalesce(t.revoked_at, swarm.now())
   where t.name = revoke_web_token.name
  returning t.revoked_at into v_at;
  if not found then
    perform swarm._invalid(format('no web token named %L', revoke_web_token.name),
                           'list them with: pgswarm web token list');
  end if;
  return v_at;
end
$$;

COMMENT ON FUNCTION swarm.revoke_web_token(name text) IS 'revoke a pgswarm web token by name';

CREATE FUNCTION swarm.run_schedule(name text) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
declare
  v_schedule swarm.schedules;
  v_id bigint;
begin
  select s.* into v_schedule from swarm.schedules as s where s.name = run_schedule.name;
  if not found then
    raise exception using errcode = 'SW005', message = format('unknown schedule %L', run_schedule.name),
      hint = 'list them with: select name, cron, next_fire_at from swarm.schedules order by name';
  end if;
  insert into swarm.agent_tasks as task (queue, agent, prompt, args, priority, max_attempts, timeout_seconds,
                                         concurrency_key, tags, metadata)
  values (v_schedule.queue, v_schedule.agent, v_schedule.prompt, v_schedule.args, v_schedule.priority,
          v_schedule.max_attempts, v_schedule.timeout_seconds, v_schedule.concurrency_key, v_schedule.tags,
          v_schedule.metadata || jsonb_build_object('schedule', v_schedule.name, 'manual', true,
            'slot', to_char(swarm.now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
  returning task.id into v_id;
  return v_id;
end
$$;

COMMENT ON FUNCTION swarm.run_schedule(name text) IS 'enqueue a schedule''s task now, once (its next_fire_at stays)';

CREATE FUNCTION swarm.schema_version() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
  select coalesce(max(version), 0) from swarm.schema_migrations
$$;

COMMENT ON FUNCTION swarm.schema_version() IS 'highest applied migration number';

CREATE FUNCTION swarm.set_priority(task_id bigint, priority integer) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_status text;
begin
  if set_priority.priority is null or set_priority.priority not between -1000 and 1000 then
    perform swarm._invalid(format('priority %s is out of range -1000..1000', coalesce(set_priority.priority::text, 'null')),
                           'higher runs first; give a number from -1000 to 1000');
  end if;
  select task.status into v_status from swarm.agent_tasks as task where task.id = set_priority.task_id for update;
  if not found then
    perform swarm._unknown_task(set_priority.task_id);
  end if;
  if v_status in ('completed', 'failed', 'cancelled') then
    raise exception using errcode = 'SW003',
      message = format('task %s is already %s; its priority no longer matters', set_priority.task_id, v_status),
      detail = 'the priority of waiting, pending and running tasks can change',
      hint = format('retry it first: select swarm.retry_task(%s)', set_priority.task_id);
  end if;
  update swarm.agent_tasks as task
     set priority = set_priority.priority, updated_at = swarm.now()
   where task.id = set_priority.task_id and task.priority is distinct from set_priority.priority;
  return v_status;
end
$$;

COMMENT ON FUNCTION swarm.set_priority(task_id bigint, priority integer) IS 'change the priority of a waiting, pending or running task';

CREATE FUNCTION swarm.set_worker_allowed_args(worker text, allowed_args text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
declare
  v_bad text;
begin
  select entry into v_bad from unnest(set_worker_allowed_args.allowed_args) as entry
   where entry is null or entry !~ '^[A-Za-z_][A-Za-z0-9_-]*(=.+)?$' limit 1;
  if found then
    perform swarm._invalid(format('allowed arg %L is not NAME or NAME=VALUE', v_bad),
                           'for example permission_mode=bypassPermissions, or add_dirs for any directory');
  end if;
  -- Only the login that registered the worker: another's could widen what that worker runs.
  perform swarm._check_worker_login(set_worker_allowed_args.worker);
  update swarm.workers as w set allowed_args = coalesce(set_worker_allowed_args.allowed_args, '{}')
   where w.name = set_worker_allowed_args.worker;
  if not found then
    perform swarm._invalid(format('unknown worker %L', set_worker_allowed_args.worker),
                           'call swarm.register_worker first');
  end if;
end
$_$;

COMMENT ON FUNCTION swarm.set_worker_allowed_args(worker text, allowed_args text[]) IS 'record the argument values a worker''s operator allowed (the arg policy)';

CREATE FUNCTION swarm.set_worker_quarantine(name text, quarantined jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  if jsonb_typeof(coalesce(set_worker_quarantine.quarantined, '{}')) <> 'object' then
    perform swarm._invalid(format('quarantined must be a JSON object of agent names (got %s)',
                                  left(set_worker_quarantine.quarantined::text, 100)));
  end if;
  perform swarm._check_worker_login(set_worker_quarantine.name);
  update swarm.workers as w set quarantined = coalesce(set_worker_quarantine.quarantined, '{}')
   where w.name = set_worker_quarantine.name;
end
$$;

COMMENT ON FUNCTION swarm.set_worker_quarantine(name text, quarantined jsonb) IS 'record the agents a worker stopped claiming because its node cannot run them';

CREATE FUNCTION swarm.ship_output(worker text, batch jsonb) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_stored int;
  v_tasks bigint[];    -- the attempts that got a chunk: task ids ...
  v_attempts int[];    -- ... and attempt numbers, pairwise
begin
  if jsonb_typeof(ship_output.batch) is distinct from 'array' then
    perform swarm._invalid('batch must be a JSON array of {task_id, attempt, offset, chunk, progress}');
  end if;
  if swarm._worker_of_another_login(ship_output.worker) then
    perform swarm._check_worker_login(ship_output.worker);
  end if;

  with items as (
    select item.ord, task.id as task_id, task.attempts as attempt, (item.value->>'offset')::bigint as offset_bytes,
           nullif(item.value->>'chunk', '') as chunk, item.value->'progress' as progress
      from jsonb_array_elements(ship_output.batch) with ordinality as item(value, ord)
      join swarm.agent_tasks as task
        on task.id = (item.value->>'task_id')::bigint and task.status = 'running'
       and task.worker = ship_output.worker and task.attempts = (item.value->>'attempt')::int
  ), stored as (
    insert into swarm.task_output (task_id, attempt, seq, at, offset_bytes, chunk)
    select items.task_id, items.attempt,
           coalesce((select max(o.seq) from swarm.task_output as o
                      where o.task_id = items.task_id and o.attempt = items.attempt), 0)
             + row_number() over (partition by items.task_id, items.attempt order by items.ord),
           v_now, coalesce(items.offset_bytes, 0), items.chunk
      from items
     where items.chunk is not null
    returning task_output.task_id, task_output.attempt
  ), progressed as (
    update swarm.agent_tasks as task
       set progress = (latest.progress - 'agent')
                      || jsonb_build_object('attempt', latest.attempt, 'at', v_now)
                      || case when task.progress ? 'agent' then jsonb_build_object('agent', task.progress->'agent')
                              else '{}'::jsonb end
      from (select distinct on (items.task_id) items.task_id, items.attempt, items.progress
              from items where jsonb_typeof(items.progress) = 'object'
             order by items.task_id, items.ord desc) as latest
     where task.id = latest.task_id
    returning task.id
  ), attempts as (  -- (progressed runs whether read or not, as every data-modifying WITH)
    select distinct stored.task_id, stored.attempt from stored
  )
  select (select count(*) from items)::int,
         (select array_agg(attempts.task_id order by attempts.task_id) from attempts),
         (select array_agg(attempts.attempt order by attempts.task_id) from attempts)
    into v_stored, v_tasks, v_attempts;

  if v_tasks is not null then
    -- Keep each attempt's last MiB: drop the chunks before the last one that starts at or before
    -- (end - the limit), found through the offset index and deleted by the primary key, so the
    -- cost is the rows dropped.
    delete from swarm.task_output as o
     using (select shipped.task_id, shipped.attempt,
                   (select old.seq from swarm.task_output as old
                     where old.task_id = shipped.task_id and old.attempt = shipped.attempt
                       and old.offset_bytes <= last.end_bytes - swarm._output_keep_bytes()
                     order by old.offset_bytes desc limit 1) as first_kept
              from unnest(v_tasks, v_attempts) as shipped(task_id, attempt)
              cross join lateral (
                select newest.offset_bytes + octet_length(newest.chunk) as end_bytes
                  from swarm.task_output as newest
                 where newest.task_id = shipped.task_id and newest.attempt = shipped.attempt
                 order by newest.seq desc limit 1) as last) as cut
     where o.task_id = cut.task_id and o.attempt = cut.attempt and o.seq < cut.first_kept;

    perform pg_notify('swarm_output', shipped.task_id::text)
       from (select distinct unnest(v_tasks) as task_id) as shipped;
  end if;

  -- A day at most, whatever the attempt: a bounded batch per call.
  delete from swarm.task_output as o
   where o.ctid = any(array(select old.ctid from swarm.task_output as old
                             where old.at < v_now - interval '1 day' limit 1000));
  return v_stored;
end
$$;

COMMENT ON FUNCTION swarm.ship_output(worker text, batch jsonb) IS 'store what a worker''s running attempts printed (bounded per attempt) and their progress; NOTIFY swarm_output';

CREATE FUNCTION swarm.stats(since interval DEFAULT '01:00:00'::interval) RETURNS TABLE(window_start timestamp with time zone, window_end timestamp with time zone, created bigint, claimed bigint, completed bigint, failed bigint, retried bigint, cancelled bigint, completed_per_minute numeric, wait_p50 numeric, wait_p95 numeric, wait_p99 numeric, run_p50 numeric, run_p95 numeric, run_p99 numeric, cost_usd numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
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
$_$;

COMMENT ON FUNCTION swarm.stats(since interval) IS 'throughput, wait and run time percentiles (seconds) over a recent window';

CREATE FUNCTION swarm.stop_worker(name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
begin
  perform swarm._check_worker_login(stop_worker.name);
  delete from swarm.idle_workers as i where i.worker = stop_worker.name;
  update swarm.workers as w set stopped_at = swarm.now(), heartbeat_at = swarm.now()
   where w.name = stop_worker.name;
end
$$;

COMMENT ON FUNCTION swarm.stop_worker(name text) IS 'mark a worker as stopped';

CREATE FUNCTION swarm.task_arg_needs(agent text, args jsonb, declared jsonb) RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
declare
  v_common jsonb := swarm._common_task_args();
  v_key text;
  v_value jsonb;
  v_spec jsonb;
  v_type text;
  v_item jsonb;
  v_items jsonb;
  v_needs text[] := '{}';
  v_ok boolean;
  v_is_list boolean;
  v_index int;
begin
  for v_key, v_value in select entry.key, entry.value from jsonb_each(task_arg_needs.args) as entry loop
    -- null is unset, for any key (a pipeline step's way to drop a default's key)
    continue when jsonb_typeof(v_value) = 'null';
    v_spec := coalesce(v_common -> v_key, task_arg_needs.declared -> v_key);
    if v_spec is null then
      if task_arg_needs.declared is null then
        continue;  -- an agent without a declaration takes any key
      end if;
      perform swarm._invalid(
        format('unknown argument args.%s for agent %L', v_key, task_arg_needs.agent),
        format('%s takes: %s', task_arg_needs.agent,
               coalesce((select string_agg(k, ', ' order by k)
                           from jsonb_object_keys(task_arg_needs.declared || v_common) as k), 'none')));
    end if;
    v_type := v_spec ->> 'type';
    -- Plain expressions and integer loops only: a subquery would run as a query of its own for
    -- every key of every inserted row (measured: 3 args cut a bulk INSERT from 6,000 to 1,750 rows/s).
    v_is_list := jsonb_typeof(v_value) = 'array';
    v_items := case when v_is_list then v_value else jsonb_build_array(v_value) end;
    v_ok := case v_type
        when 'string' then jsonb_typeof(v_value) = 'string'
        when 'text' then jsonb_typeof(v_value) = 'string'
        when 'scalar' then jsonb_typeof(v_value) in ('string', 'number')
        when 'integer' then jsonb_typeof(v_value) = 'number' and (v_value #>> '{}')::numeric % 1 = 0
        when 'number' then jsonb_typeof(v_value) = 'number' and (v_value #>> '{}')::numeric > 0
        when 'boolean' then jsonb_typeof(v_value) = 'boolean'
        when 'object' then jsonb_typeof(v_value) = 'object'
        when 'string_or_object' then jsonb_typeof(v_value) in ('string', 'object')
        when 'strings_or_object' then jsonb_typeof(v_value) in ('string', 'object')
          or (v_is_list and jsonb_array_length(v_value) > 0)
        when 'strings' then jsonb_typeof(v_value) = 'string' or (v_is_list and jsonb_array_length(v_value) > 0)
        else true end;
    if v_ok and v_is_list then
      for v_index in 0 .. jsonb_array_length(v_value) - 1 loop
        v_ok := v_ok and jsonb_typeof(v_value -> v_index) = 'string';
      end loop;
    end if;
    if not v_ok then
      perform swarm._invalid(
        format('args.%s for agent %L must be %s, not %s', v_key, task_arg_needs.agent,
               case v_type when 'string' then 'a string' when 'text' then 'a string'
                           when 'integer' then 'an integer' when 'number' then 'a positive number'
                           when 'boolean' then 'true or false' when 'object' then 'a JSON object'
                           when 'string_or_object' then 'a string or a JSON object'
                           when 'strings_or_object' then 'a string, a list of strings or a JSON object'
                           when 'scalar' then 'a string or a number'
                           else 'a string or a non-empty list of strings' end,
               left(v_value::text, 80)),
        format('for example {"%s": %s}', v_key,
               case v_type when 'integer' then '10' when 'number' then '1.5' when 'boolean' then 'true'
                           when 'object' then '{}' when 'strings' then '["a", "b"]'
                           else coalesce((v_spec -> 'values' -> 0)::text, '"..."') end));
    end if;
    if v_type = 'integer' and (v_value #>> '{}')::numeric < coalesce((v_spec ->> 'min')::numeric, '-Infinity') then
      perform swarm._invalid(format('args.%s for agent %L must be at least %s, not %s', v_key,
                                    task_arg_needs.agent, v_spec ->> 'min', v_value));
    end if;
    for v_index in 0 .. jsonb_array_length(v_items) - 1 loop
      v_item := v_items -> v_index;
      if jsonb_typeof(v_item) = 'string'
         and v_type in ('string', 'strings', 'strings_or_object', 'string_or_object', 'scalar')
         and (v_item #>> '{}' = '' or v_item #>> '{}' like '-%') then
        perform swarm._invalid(format('args.%s for agent %L must not be empty or start with ''-'': %s',
                                      v_key, task_arg_needs.agent, left(v_item::text, 80)),
                               'a value starting with ''-'' would read as an option');
      end if;
      if v_spec ? 'values' and not (v_spec -> 'values') @> jsonb_build_array(v_item) then
        perform swarm._invalid(format('args.%s for agent %L cannot be %s', v_key, task_arg_needs.agent, v_item),
                               format('one of: %s', (select string_agg(e #>> '{}', ', ')
                                                      from jsonb_array_elements(v_spec -> 'values') as e)));
      end if;
      -- The arg policy: which values need the worker's --allow-arg.
      if jsonb_typeof(v_spec -> 'widens') = 'array' and (v_spec -> 'widens') @> jsonb_build_array(v_item) then
        v_needs := v_needs || (v_key || '=' || (v_item #>> '{}'));
      end if;
      if v_spec -> 'path' = 'true' and jsonb_typeof(v_item) = 'string'
         and not swarm._is_confined_path(v_item #>> '{}', task_arg_needs.args) then
        v_needs := v_needs || (v_key || '=' || (v_item #>> '{}'));
      end if;
    end loop;
    if v_spec -> 'widens' = 'true' then
      v_needs := v_needs || v_key;
    end if;
  end loop;
  return v_needs;
end
$$;

COMMENT ON FUNCTION swarm.task_arg_needs(agent text, args jsonb, declared jsonb) IS 'check task args against an agent''s declaration; the allowances (NAME or NAME=VALUE) a worker needs';

CREATE FUNCTION swarm.wake_channel(worker text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ('swarm_wake_'::text || "left"(md5(worker), 24));

COMMENT ON FUNCTION swarm.wake_channel(worker text) IS 'the LISTEN channel on which inserts wake this worker';

CREATE FUNCTION swarm.watch_task(task_id bigint) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    SET enable_seqscan TO 'off'
    SET jit TO 'off'
    AS $$
declare
  v_task record;
  v_status text;
begin
  perform swarm._check_task_visible(watch_task.task_id);  -- tenants: another login's task is unknown
  update swarm.agent_tasks as task set watched = true
   where task.id = watch_task.task_id and not task.watched and task.status in ('waiting', 'pending', 'running')
  returning task.status, task.agent, task.run_after into v_task;
  if found then
    if v_task.status = 'pending' and v_task.run_after <= swarm.now() then
      perform swarm._notify_ready(array[v_task.agent]);
    end if;
    return v_task.status;
  end if;
  select task.status into v_status from swarm.agent_tasks as task where task.id = watch_task.task_id;
  if not found then
    select task.status into v_status from swarm.agent_tasks_archive as task where task.id = watch_task.task_id;
    if not found then
      perform swarm._unknown_task(watch_task.task_id);
    end if;
  end if;
  return v_status;
end
$$;

COMMENT ON FUNCTION swarm.watch_task(task_id bigint) IS 'NOTIFY swarm_finished (payload: id) when this task finishes; returns its status now';

CREATE FUNCTION swarm.web_token_scope(token text) RETURNS TABLE(name text, scope text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $$
declare
  v_now timestamptz := swarm.now();
  v_token swarm.web_tokens;
begin
  select t.* into v_token from swarm.web_tokens as t
   where t.token_sha256 = swarm._web_token_hash(web_token_scope.token);
  if not found or v_token.revoked_at is not null or v_token.expires_at <= v_now then
    return;
  end if;
  if v_token.last_used_at is null or v_token.last_used_at < v_now - interval '1 minute' then
    update swarm.web_tokens as t set last_used_at = v_now where t.id = v_token.id;
  end if;
  name := v_token.name;
  scope := v_token.scope;
  return next;
end
$$;

COMMENT ON FUNCTION swarm.web_token_scope(token text) IS 'name and scope of a working pgswarm web token (no row: unknown, revoked or expired)';

CREATE FUNCTION swarm.why_pending(task_id bigint) RETURNS TABLE(code text, reason text, brief text, detail jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'swarm'
    AS $_$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_agent swarm.agents;
  v_count int;
  v_spent numeric;
  v_left numeric;     -- the agent's daily budget neither spent nor held by running attempts
  v_reserve numeric;  -- what an attempt of this task would reserve of it (swarm._budget_reservation)
  v_holder bigint;
  v_next timestamptz;
begin
  perform swarm._check_task_visible(why_pending.task_id);  -- tenants: another login's task is unknown
  select * into v_task from swarm.agent_tasks as task where task.id = why_pending.task_id;
  if not found then
    if exists (select 1 from swarm.agent_tasks_archive as archived where archived.id = why_pending.task_id) then
      return query select 'finished', format('task %s is finished and archived', why_pending.task_id),
                          'archived', jsonb_build_object('archived', true);
      return;
    end if;
    perform swarm._unknown_task(why_pending.task_id);
  end if;
  if v_task.status = 'running' then
    return;
  end if;
  if v_task.status in ('completed', 'failed', 'cancelled') then
    return query select 'finished', format('task %s is %s', v_task.id, v_task.status), v_task.status,
                        jsonb_build_object('status', v_task.status);
    return;
  end if;

  if v_task.status = 'waiting' then
    return query
      select 'dependency', format('waits for task %s (%s, agent %s)', dep.id, dep.status, dep.agent),
             format('task %s', dep.id), jsonb_build_object('task_id', dep.id, 'status', dep.status)
        from swarm.agent_tasks as dep
       where dep.id = any(v_task.depends_on) and dep.status <> 'completed'
       order by dep.id;
    if not found then
      return query select 'dependency', format('waits for %s of its dependencies', v_task.unmet_dependencies),
                          format('%s deps', v_task.unmet_dependencies),
                          jsonb_build_object('unmet', v_task.unmet_dependencies);
    end if;
  end if;

  select * into v_agent from swarm.agents as a where a.name = v_task.agent;

  if swarm._agent_paused(v_agent.paused_until, v_now) then
    return query select 'paused',
      format('agent %s is paused until %s (in %s): %s', v_agent.name, swarm._utc_time(v_agent.paused_until),
             swarm._in_words(v_agent.paused_until - v_now), coalesce(v_agent.pause_reason, 'no reason given')),
      format('paused until %s', to_char(v_agent.paused_until at time zone 'UTC', 'HH24:MI')),
      jsonb_build_object('agent', v_agent.name, 'until', v_agent.paused_until, 'reason', v_agent.pause_reason);
  end if;

  if swarm._agent_over_budget(v_agent.name, v_agent.daily_budget_usd, v_now) then
    v_spent := swarm._spent_today(v_agent.name, v_now);
    return query select 'budget',
      format('agent %s spent its daily budget: $%s of $%s%s (counts again at midnight UTC)', v_agent.name,
             round(v_spent, 4), v_agent.daily_budget_usd,
             case when swarm._reserved_now(v_agent.name) > 0
                  then format(', $%s more held by running attempts', round(swarm._reserved_now(v_agent.name), 4))
                  else '' end),
      format('budget $%s/$%s', round(v_spent, 2), v_agent.daily_budget_usd),
      jsonb_build_object('agent', v_agent.name, 'spent_usd', v_spent, 'budget_usd', v_agent.daily_budget_usd);
  elsif v_agent.daily_budget_usd is not null then
    -- The agent has budget left, but this task's reservation must fit in it too (_claim_limited).
    v_left := v_agent.daily_budget_usd - swarm._spent_today(v_agent.name, v_now) - swarm._reserved_now(v_agent.name);
    v_reserve := swarm._budget_reservation(v_task.args->>'max_budget_usd', swarm._typical_cost(v_agent.name), v_left);
    if v_reserve > v_left then
      return query select 'budget',
        format('an attempt of this task reserves $%s (its max_budget_usd), more than agent %s has left today: '
               '$%s of $%s', v_reserve, v_agent.name, round(v_left, 4), v_agent.daily_budget_usd),
        format('budget: needs $%s', v_reserve),
        jsonb_build_object('agent', v_agent.name, 'reserve_usd', v_reserve, 'left_usd', v_left,
                           'budget_usd', v_agent.daily_budget_usd);
    end if;
  end if;

  if v_agent.max_concurrent is not null then
    v_count := swarm._agent_running(v_agent.name);
    if v_count >= v_agent.max_concurrent then
      return query select 'cap',
        format('agent %s is at its cap: %s/%s running', v_agent.name, v_count, v_agent.max_concurrent),
        format('cap %s/%s', v_count, v_agent.max_concurrent),
        jsonb_build_object('agent', v_agent.name, 'running', v_count, 'max_concurrent', v_agent.max_concurrent);
    end if;
  end if;

  if v_agent.max_starts_per_minute is not null then
    v_count := swarm._agent_starts_last_minute(v_agent.name, v_now);
    if v_count >= v_agent.max_starts_per_minute then
      select min(s.started_at) + interval '1 minute' into v_next
        from swarm.agent_starts as s
       where s.agent = v_agent.name and s.started_at > v_now - interval '1 minute';
      return query select 'rate',
        format('agent %s started %s tasks in the last minute, its limit of %s a minute (next start in %s)',
               v_agent.name, v_count, v_agent.max_starts_per_minute,
               swarm._in_words(coalesce(v_next, v_now) - v_now)),
        format('rate %s/min', v_agent.max_starts_per_minute),
        jsonb_build_object('agent', v_agent.name, 'started', v_count,
                           'max_starts_per_minute', v_agent.max_starts_per_minute, 'next_at', v_next);
    end if;
  end if;

  if not swarm._task_due(v_task.run_after, v_now) then
    return query select 'run_after',
      format('run_after is in %s (%s)', swarm._in_words(v_task.run_after - v_now), swarm._utc_time(v_task.run_after)),
      format('in %s', swarm._in_words(v_task.run_after - v_now)),
      jsonb_build_object('run_after', v_task.run_after);
  end if;

  if v_task.concurrency_key is not null then
    v_holder := swarm._concurrency_key_holder(v_task.concurrency_key);
    if v_holder is not null then
      return query select 'concurrency_key',
        format('concurrency key %s is held by task %s', quote_literal(v_task.concurrency_key), v_holder),
        format('key: task %s', v_holder),
        jsonb_build_object('concurrency_key', v_task.concurrency_key, 'task_id', v_holder);
    end if;
  end if;

  -- Workers: some live worker must take this agent and this queue, and not have quarantined the
  -- agent on its node (swarm.workers.quarantined, keyed by agent: the worker leaves it out of its
  -- claims until a probe succeeds).
  if not exists (select 1 from swarm.workers as w
                  where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
                    and swarm._in_scope(w.agents, v_task.agent)
                    and swarm._in_scope(w.queues, v_task.queue)) then
    if v_task.agent = 'shell'
       and not exists (select 1 from swarm.workers as w
                        where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
                          and swarm._in_scope(w.agents, 'shell')) then
      return query select 'shell',
        'the shell agent runs only on workers started with --allow-shell, and no live worker is'::text,
        'needs --allow-shell'::text, jsonb_build_object('agent', 'shell');
    elsif not exists (select 1 from swarm.workers as w
                       where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
                         and swarm._in_scope(w.agents, v_task.agent)) then
      return query select 'no_worker', format('no live worker runs agent %s', v_task.agent),
                          format('no %s worker', v_task.agent), jsonb_build_object('agent', v_task.agent);
    else
      return query select 'no_worker',
        format('no live worker running agent %s takes queue %s', v_task.agent, v_task.queue),
        format('no worker on %s', v_task.queue), jsonb_build_object('agent', v_task.agent, 'queue', v_task.queue);
    end if;
  elsif not exists (select 1 from swarm.workers as w
                     where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
                       and swarm._in_scope(w.agents, v_task.agent)
                       and swarm._in_scope(w.queues, v_task.queue)
                       and not w.quarantined ? v_task.agent) then
    return query select 'quarantined',
      format('every live worker taking agent %s has quarantined it on its node (%s)', v_task.agent,
             (select string_agg(format('%s: %s', w.name, coalesce(w.quarantined -> v_task.agent ->> 'reason',
                                                                  w.quarantined ->> v_task.agent)), '; ' order by w.name)
                from swarm.workers as w
               where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
                 and swarm._in_scope(w.agents, v_task.agent) and w.quarantined ? v_task.agent)),
      format('%s quarantined on every node', v_task.agent),
      jsonb_build_object('agent', v_task.agent, 'workers',
        (select jsonb_object_agg(w.name, w.quarantined -> v_task.agent) from swarm.workers as w
          where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
            and swarm._in_scope(w.agents, v_task.agent) and w.quarantined ? v_task.agent));
  elsif v_task.arg_allowances <> '{}'
        and not exists (select 1 from swarm.workers as w
                         where swarm._worker_alive(w.stopped_at, w.heartbeat_at, v_now)
                           and swarm._in_scope(w.agents, v_task.agent)
                           and swarm._in_scope(w.queues, v_task.queue)
                           and swarm._args_allowed(v_task.arg_allowances, w.allowed_args)) then
    -- The arg policy (sql/14_task_args.sql): its widening args need a worker allowed them.
    return query select 'arg_policy',
      format('its args widen what agent %s may do (%s): they run only on a worker started with --allow-arg for '
             'them, and no live worker taking the task is', v_task.agent, array_to_string(v_task.arg_allowances, ', ')),
      format('needs --allow-arg %s', array_to_string(v_task.arg_allowances, ' ')),
      jsonb_build_object('agent', v_task.agent, 'arg_allowances', v_task.arg_allowances);
  end if;
end
$_$;

COMMENT ON FUNCTION swarm.why_pending(task_id bigint) IS 'every reason a task is not running now (code, sentence, brief, detail), from the rules claim_task applies';

CREATE VIEW public.agent_tasks WITH (security_invoker='true') AS
 SELECT id,
    key,
    queue,
    agent,
    prompt,
    args,
    priority,
    status,
    depends_on,
    unmet_dependencies,
    on_dependency_failure,
    parent_id,
    concurrency_key,
    run_after,
    attempts,
    max_attempts,
    timeout_seconds,
    lease_expires_at,
    worker,
    pid,
    hostname,
    created_at,
    started_at,
    finished_at,
    updated_at,
    exit_code,
    result,
    error,
    output_tail,
    log_path,
    cost_usd,
    input_tokens,
    output_tokens,
    tags,
    metadata,
    cancel_requested_at,
    cancel_reason,
    cancelled_by_dependency,
    free_releases,
    watched,
    lease_token,
    progress,
    created_by,
    resume_session_id,
    arg_allowances
   FROM swarm.agent_tasks;

COMMENT ON VIEW public.agent_tasks IS 'pgswarm: swarm.agent_tasks under its unqualified name (swarm.settings.public_names; pgswarm migrate --no-public-names)';

CREATE TABLE swarm.agent_daily_spend (
    agent text NOT NULL,
    day date NOT NULL,
    cost_usd numeric(14,6) DEFAULT 0 NOT NULL
);

COMMENT ON TABLE swarm.agent_daily_spend IS 'cost reported per agent and UTC day (daily_budget_usd reads it); archiving tasks does not lower it';

CREATE TABLE swarm.agent_keys (
    worker text NOT NULL,
    key bytea NOT NULL,
    login name DEFAULT SESSION_USER NOT NULL,
    registered_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT agent_keys_key_length CHECK ((octet_length(key) >= 32))
);

CREATE TABLE swarm.agent_prices (
    agent text NOT NULL,
    model text DEFAULT ''::text NOT NULL,
    input_usd_per_mtok numeric NOT NULL,
    output_usd_per_mtok numeric NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT agent_prices_input_not_negative CHECK ((input_usd_per_mtok >= (0)::numeric)),
    CONSTRAINT agent_prices_output_not_negative CHECK ((output_usd_per_mtok >= (0)::numeric))
);

COMMENT ON TABLE swarm.agent_prices IS 'USD per million input/output tokens, per agent and model ('''' = the agent''s default): prices reports without a cost';

CREATE TABLE swarm.agent_starts (
    agent text NOT NULL,
    started_at timestamp with time zone NOT NULL
);

CREATE TABLE swarm.agents (
    name text NOT NULL,
    description text,
    max_concurrent integer,
    max_starts_per_minute integer,
    paused_until timestamp with time zone,
    pause_reason text,
    retry_backoff_base_seconds numeric DEFAULT 10 NOT NULL,
    retry_backoff_max_seconds numeric DEFAULT 600 NOT NULL,
    consecutive_failures integer DEFAULT 0 NOT NULL,
    breaker_threshold integer DEFAULT 5,
    breaker_cooldown_seconds integer DEFAULT 300 NOT NULL,
    daily_budget_usd numeric,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    task_args jsonb,
    max_prompt_bytes integer DEFAULT 1048576 NOT NULL,
    CONSTRAINT agents_backoff_base_positive CHECK ((retry_backoff_base_seconds > (0)::numeric)),
    CONSTRAINT agents_backoff_max_at_least_base CHECK ((retry_backoff_max_seconds >= retry_backoff_base_seconds)),
    CONSTRAINT agents_breaker_cooldown_not_negative CHECK ((breaker_cooldown_seconds >= 0)),
    CONSTRAINT agents_breaker_threshold_positive CHECK ((breaker_threshold >= 1)),
    CONSTRAINT agents_daily_budget_not_negative CHECK ((daily_budget_usd >= (0)::numeric)),
    CONSTRAINT agents_max_concurrent_not_negative CHECK ((max_concurrent >= 0)),
    CONSTRAINT agents_max_prompt_bytes_positive CHECK ((max_prompt_bytes > 0)),
    CONSTRAINT agents_max_starts_per_minute_not_negative CHECK ((max_starts_per_minute >= 0)),
    CONSTRAINT agents_name_is_simple CHECK ((name ~ '^[a-z][a-z0-9_-]{0,62}$'::text)),
    CONSTRAINT agents_task_args_is_object CHECK ((jsonb_typeof(task_args) = 'object'::text))
);

COMMENT ON COLUMN swarm.agents.task_args IS 'the task arguments this agent takes (name -> type, allowed values, widening values); null = any';

COMMENT ON COLUMN swarm.agents.max_prompt_bytes IS 'the largest prompt an INSERT accepts for this agent (bytes)';

CREATE VIEW swarm.agent_stats AS
 SELECT a.name AS agent,
    COALESCE(live.running, (0)::numeric) AS running,
    a.max_concurrent,
    COALESCE(live.pending, (0)::numeric) AS pending,
    COALESCE(live.waiting, (0)::numeric) AS waiting,
    a.max_starts_per_minute,
    (a.paused_until > swarm.now()) AS paused,
        CASE
            WHEN (a.paused_until > swarm.now()) THEN a.paused_until
            ELSE NULL::timestamp with time zone
        END AS paused_until,
        CASE
            WHEN (a.paused_until > swarm.now()) THEN a.pause_reason
            ELSE NULL::text
        END AS pause_reason,
    a.consecutive_failures,
    a.breaker_threshold,
    COALESCE(day.completed, (0)::bigint) AS completed_24h,
    COALESCE(day.failed, (0)::bigint) AS failed_24h,
    round(((day.completed)::numeric / (NULLIF((day.completed + day.failed), 0))::numeric), 3) AS success_rate_24h,
    COALESCE(day.cost_usd, (0)::numeric) AS cost_usd_24h,
    COALESCE(today.cost_usd, (0)::numeric) AS cost_usd_today,
    a.daily_budget_usd
   FROM (((swarm.agents a
     LEFT JOIN ( SELECT active.agent,
            sum(active.tasks) FILTER (WHERE (active.status = 'running'::text)) AS running,
            sum(active.tasks) FILTER (WHERE (active.status = 'pending'::text)) AS pending,
            sum(active.tasks) FILTER (WHERE (active.status = 'waiting'::text)) AS waiting
           FROM ( SELECT task.agent,
                    'running'::text AS status,
                    count(*) AS tasks
                   FROM swarm.agent_tasks task
                  WHERE (task.status = 'running'::text)
                  GROUP BY task.agent
                UNION ALL
                 SELECT task.agent,
                    'pending'::text,
                    count(*) AS count
                   FROM swarm.agent_tasks task
                  WHERE (task.status = 'pending'::text)
                  GROUP BY task.agent
                UNION ALL
                 SELECT task.agent,
                    'waiting'::text,
                    count(*) AS count
                   FROM swarm.agent_tasks task
                  WHERE (task.status = 'waiting'::text)
                  GROUP BY task.agent) active
          GROUP BY active.agent) live ON ((live.agent = a.name)))
     LEFT JOIN ( SELECT task.agent,
            count(*) FILTER (WHERE (task.status = 'completed'::text)) AS completed,
            count(*) FILTER (WHERE (task.status = 'failed'::text)) AS failed,
            sum(task.cost_usd) AS cost_usd
           FROM swarm.agent_tasks task
          WHERE ((task.status = ANY (ARRAY['completed'::text, 'failed'::text, 'cancelled'::text])) AND (task.finished_at > (swarm.now() - '24:00:00'::interval)))
          GROUP BY task.agent) day ON ((day.agent = a.name)))
     LEFT JOIN LATERAL ( SELECT swarm._spent_today(a.name, swarm.now()) AS cost_usd) today ON (true));

COMMENT ON VIEW swarm.agent_stats IS 'per agent: running vs cap, pause and reason, breaker, 24 h success rate and cost';

CREATE TABLE swarm.agent_tasks_archive (
    id bigint CONSTRAINT agent_tasks_id_not_null NOT NULL,
    key text,
    queue text CONSTRAINT agent_tasks_queue_not_null NOT NULL,
    agent text CONSTRAINT agent_tasks_agent_not_null NOT NULL,
    prompt text,
    args jsonb CONSTRAINT agent_tasks_args_not_null NOT NULL,
    priority integer CONSTRAINT agent_tasks_priority_not_null NOT NULL,
    status text CONSTRAINT agent_tasks_status_not_null NOT NULL,
    depends_on bigint[] CONSTRAINT agent_tasks_depends_on_not_null NOT NULL,
    unmet_dependencies integer CONSTRAINT agent_tasks_unmet_dependencies_not_null NOT NULL,
    on_dependency_failure text CONSTRAINT agent_tasks_on_dependency_failure_not_null NOT NULL,
    parent_id bigint,
    concurrency_key text,
    run_after timestamp with time zone CONSTRAINT agent_tasks_run_after_not_null NOT NULL,
    attempts integer CONSTRAINT agent_tasks_attempts_not_null NOT NULL,
    max_attempts integer CONSTRAINT agent_tasks_max_attempts_not_null NOT NULL,
    timeout_seconds integer,
    lease_expires_at timestamp with time zone,
    worker text,
    pid integer,
    hostname text,
    created_at timestamp with time zone CONSTRAINT agent_tasks_created_at_not_null NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    updated_at timestamp with time zone CONSTRAINT agent_tasks_updated_at_not_null NOT NULL,
    exit_code integer,
    result jsonb,
    error text,
    output_tail text,
    log_path text,
    cost_usd numeric(14,6),
    input_tokens bigint,
    output_tokens bigint,
    tags text[] CONSTRAINT agent_tasks_tags_not_null NOT NULL,
    metadata jsonb CONSTRAINT agent_tasks_metadata_not_null NOT NULL,
    cancel_requested_at timestamp with time zone,
    cancel_reason text,
    cancelled_by_dependency bigint,
    free_releases integer CONSTRAINT agent_tasks_free_releases_not_null NOT NULL,
    archived_at timestamp with time zone DEFAULT now() NOT NULL,
    progress jsonb,
    created_by text,
    arg_allowances text[] DEFAULT '{}'::text[] NOT NULL
);

ALTER TABLE swarm.agent_tasks ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME swarm.agent_tasks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE SEQUENCE swarm.claim_floor
    START WITH 0
    INCREMENT BY 1
    MINVALUE 0
    NO MAXVALUE
    CACHE 1;

COMMENT ON SEQUENCE swarm.claim_floor IS 'a claim rank at or below that of every pending task: claims walk the claim index from here (sql/22_claim_floor.sql)';

CREATE SEQUENCE swarm.claim_floor_checked_at
    START WITH 0
    INCREMENT BY 1
    MINVALUE 0
    NO MAXVALUE
    CACHE 1;

COMMENT ON SEQUENCE swarm.claim_floor_checked_at IS 'when a claim last looked below the claim floor, in ms since the epoch (sql/22_claim_floor.sql)';

CREATE SEQUENCE swarm.idle_ticket
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

CREATE TABLE swarm.idle_workers (
    worker text NOT NULL,
    channel text NOT NULL,
    agents text[] NOT NULL,
    queues text[],
    free_slots integer NOT NULL,
    ticket bigint NOT NULL
)
WITH (fillfactor='50', autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='200', autovacuum_vacuum_cost_delay='0');

COMMENT ON TABLE swarm.idle_workers IS 'workers whose last claim left slots free, by ticket: the insert trigger wakes them in this order';

CREATE VIEW swarm.queue_stats AS
 SELECT queue,
    agent,
    status,
    count(*) AS tasks,
    count(*) FILTER (WHERE ((status = 'pending'::text) AND (run_after <= swarm.now()))) AS claimable,
    min(created_at) AS oldest_created_at,
    (swarm.now() - min(run_after) FILTER (WHERE ((status = 'pending'::text) AND (run_after <= swarm.now())))) AS oldest_pending_age
   FROM swarm.agent_tasks task
  GROUP BY queue, agent, status;

COMMENT ON VIEW swarm.queue_stats IS 'task counts by queue, agent and status, with the age of the oldest claimable task';

CREATE TABLE swarm.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL,
    applied_by text DEFAULT CURRENT_USER NOT NULL
);

CREATE TABLE swarm.settings (
    singleton boolean DEFAULT true NOT NULL,
    default_agent text DEFAULT 'shell'::text NOT NULL,
    test_clock boolean DEFAULT false NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    public_names boolean DEFAULT true NOT NULL,
    tenant_isolation boolean DEFAULT false NOT NULL,
    CONSTRAINT settings_one_row CHECK (singleton)
);

COMMENT ON TABLE swarm.settings IS 'database-wide settings (one row), changed only by the schema owner: update swarm.settings set ...';

COMMENT ON COLUMN swarm.settings.default_agent IS 'the agent of a task inserted without one';

COMMENT ON COLUMN swarm.settings.public_names IS 'whether migrate keeps the view public.agent_tasks (INSERT INTO agent_tasks unqualified)';

COMMENT ON COLUMN swarm.settings.tenant_isolation IS 'whether an enqueue login sees, cancels and retries only the tasks it created (row-level security)';

CREATE TABLE swarm.task_attempts (
    id bigint NOT NULL,
    task_id bigint NOT NULL,
    attempt integer NOT NULL,
    agent text NOT NULL,
    worker text NOT NULL,
    hostname text,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    outcome text,
    exit_code integer,
    error text,
    cost_usd numeric(14,6),
    input_tokens bigint,
    output_tokens bigint,
    session_id text,
    resumed_session_id text,
    reserved_usd numeric(14,6),
    log_path text,
    CONSTRAINT task_attempts_finished_has_outcome CHECK (((finished_at IS NULL) = (outcome IS NULL))),
    CONSTRAINT task_attempts_outcome_known CHECK ((outcome = ANY (ARRAY['completed'::text, 'failed'::text, 'released'::text, 'lease_expired'::text, 'cancelled'::text])))
)
WITH (fillfactor='40');

COMMENT ON TABLE swarm.task_attempts IS 'one row per attempt of a task: who ran it, how it ended, what it cost, its agent session';

COMMENT ON COLUMN swarm.task_attempts.resumed_session_id IS 'the agent session this attempt was told to resume (args.resume_on_retry), null for a fresh one';

COMMENT ON COLUMN swarm.task_attempts.reserved_usd IS 'budget held for this attempt while it runs (agents with daily_budget_usd); settled by its report';

CREATE TABLE swarm.task_attempts_archive (
    id bigint CONSTRAINT task_attempts_id_not_null NOT NULL,
    task_id bigint CONSTRAINT task_attempts_task_id_not_null NOT NULL,
    attempt integer CONSTRAINT task_attempts_attempt_not_null NOT NULL,
    agent text CONSTRAINT task_attempts_agent_not_null NOT NULL,
    worker text CONSTRAINT task_attempts_worker_not_null NOT NULL,
    hostname text,
    started_at timestamp with time zone CONSTRAINT task_attempts_started_at_not_null NOT NULL,
    finished_at timestamp with time zone,
    outcome text,
    exit_code integer,
    error text,
    cost_usd numeric(14,6),
    input_tokens bigint,
    output_tokens bigint,
    session_id text,
    resumed_session_id text,
    reserved_usd numeric(14,6),
    log_path text,
    CONSTRAINT task_attempts_finished_has_outcome CHECK (((finished_at IS NULL) = (outcome IS NULL))),
    CONSTRAINT task_attempts_outcome_known CHECK ((outcome = ANY (ARRAY['completed'::text, 'failed'::text, 'released'::text, 'lease_expired'::text, 'cancelled'::text])))
);

ALTER TABLE swarm.task_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME swarm.task_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE swarm.task_events (
    id bigint NOT NULL,
    task_id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    event text NOT NULL,
    worker text,
    attempt integer,
    detail jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT task_events_event_known CHECK ((event = ANY (ARRAY['created'::text, 'claimed'::text, 'completed'::text, 'failed'::text, 'retry_scheduled'::text, 'lease_expired'::text, 'released'::text, 'cancelled'::text, 'unblocked'::text, 'stale_report'::text])))
);

CREATE TABLE swarm.task_events_archive (
    id bigint CONSTRAINT task_events_id_not_null NOT NULL,
    task_id bigint CONSTRAINT task_events_task_id_not_null NOT NULL,
    at timestamp with time zone CONSTRAINT task_events_at_not_null NOT NULL,
    event text CONSTRAINT task_events_event_not_null NOT NULL,
    worker text,
    attempt integer,
    detail jsonb CONSTRAINT task_events_detail_not_null NOT NULL
);

ALTER TABLE swarm.task_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME swarm.task_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE swarm.task_output (
    task_id bigint NOT NULL,
    attempt integer NOT NULL,
    seq integer NOT NULL,
    at timestamp with time zone NOT NULL,
    offset_bytes bigint NOT NULL,
    chunk text NOT NULL
);

COMMENT ON TABLE swarm.task_output IS 'live output of running attempts (last 1 MiB per attempt, a day at most), shipped by workers';

CREATE SEQUENCE swarm.wake_cursor
    START WITH 0
    INCREMENT BY 1
    MINVALUE 0
    NO MAXVALUE
    CACHE 1;

CREATE TABLE swarm.web_tokens (
    id bigint NOT NULL,
    name text NOT NULL,
    scope text NOT NULL,
    token_sha256 bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text DEFAULT SESSION_USER NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT web_tokens_name_is_simple CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$'::text)),
    CONSTRAINT web_tokens_scope_known CHECK ((scope = ANY (ARRAY['read'::text, 'enqueue'::text, 'admin'::text])))
);

COMMENT ON TABLE swarm.web_tokens IS 'bearer tokens of pgswarm web: name, scope, sha256 of the token (the token itself is never stored)';

ALTER TABLE swarm.web_tokens ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME swarm.web_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE swarm.workers (
    name text NOT NULL,
    hostname text,
    pid integer,
    agents text[],
    queues text[],
    concurrency integer,
    version text,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    stopped_at timestamp with time zone,
    login text,
    quarantined jsonb DEFAULT '{}'::jsonb NOT NULL,
    allowed_args text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT workers_quarantined_is_object CHECK ((jsonb_typeof(quarantined) = 'object'::text))
);

COMMENT ON COLUMN swarm.workers.login IS 'the login (session_user) that registered this worker name';

COMMENT ON COLUMN swarm.workers.allowed_args IS 'the worker''s --allow-arg list: NAME (any value) or NAME=VALUE';

CREATE VIEW swarm.worker_stats AS
 SELECT w.name AS worker,
    w.hostname,
    w.pid,
    w.agents,
    w.queues,
    w.concurrency,
    COALESCE(run.running, (0)::bigint) AS running,
    run.task_ids,
    w.started_at,
    w.heartbeat_at,
    (swarm.now() - w.heartbeat_at) AS heartbeat_age,
    swarm._worker_alive(w.stopped_at, w.heartbeat_at, swarm.now()) AS alive,
    w.stopped_at,
    w.quarantined
   FROM (swarm.workers w
     LEFT JOIN ( SELECT task.worker,
            count(*) AS running,
            array_agg(task.id ORDER BY task.id) AS task_ids
           FROM swarm.agent_tasks task
          WHERE (task.status = 'running'::text)
          GROUP BY task.worker) run ON ((run.worker = w.name)));

COMMENT ON VIEW swarm.worker_stats IS 'workers: liveness (heartbeat within 2 minutes), running tasks, quarantined agents';

ALTER TABLE ONLY swarm.agent_daily_spend
    ADD CONSTRAINT agent_daily_spend_pkey PRIMARY KEY (agent, day);

ALTER TABLE ONLY swarm.agent_keys
    ADD CONSTRAINT agent_keys_pkey PRIMARY KEY (worker);

ALTER TABLE ONLY swarm.agent_prices
    ADD CONSTRAINT agent_prices_pkey PRIMARY KEY (agent, model);

ALTER TABLE ONLY swarm.agent_tasks_archive
    ADD CONSTRAINT agent_tasks_archive_pkey PRIMARY KEY (id);

ALTER TABLE ONLY swarm.agent_tasks
    ADD CONSTRAINT agent_tasks_key_key UNIQUE (key);

ALTER TABLE ONLY swarm.agent_tasks
    ADD CONSTRAINT agent_tasks_pkey PRIMARY KEY (id);

ALTER TABLE ONLY swarm.agents
    ADD CONSTRAINT agents_pkey PRIMARY KEY (name);

ALTER TABLE ONLY swarm.idle_workers
    ADD CONSTRAINT idle_workers_pkey PRIMARY KEY (worker);

ALTER TABLE ONLY swarm.schedules
    ADD CONSTRAINT schedules_pkey PRIMARY KEY (name);

ALTER TABLE ONLY swarm.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY swarm.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (singleton);

ALTER TABLE ONLY swarm.task_attempts_archive
    ADD CONSTRAINT task_attempts_archive_pkey PRIMARY KEY (id);

ALTER TABLE ONLY swarm.task_attempts
    ADD CONSTRAINT task_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY swarm.task_events
    ADD CONSTRAINT task_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY swarm.task_output
    ADD CONSTRAINT task_output_pkey PRIMARY KEY (task_id, attempt, seq);

ALTER TABLE ONLY swarm.web_tokens
    ADD CONSTRAINT web_tokens_name_unique UNIQUE (name);

ALTER TABLE ONLY swarm.web_tokens
    ADD CONSTRAINT web_tokens_pkey PRIMARY KEY (id);

ALTER TABLE ONLY swarm.web_tokens
    ADD CONSTRAINT web_tokens_token_sha256_unique UNIQUE (token_sha256);

ALTER TABLE ONLY swarm.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (name);

CREATE INDEX agent_starts_agent_idx ON swarm.agent_starts USING btree (agent, started_at);

CREATE INDEX agent_tasks_cancelled_by_dependency_idx ON swarm.agent_tasks USING btree (cancelled_by_dependency) WHERE (cancelled_by_dependency IS NOT NULL);

CREATE INDEX agent_tasks_claim_idx ON swarm.agent_tasks USING btree (swarm._claim_rank(priority, run_after), run_after, id) WHERE (status = 'pending'::text);

CREATE INDEX agent_tasks_finished_idx ON swarm.agent_tasks USING btree (finished_at) WHERE (status = ANY (ARRAY['completed'::text, 'failed'::text, 'cancelled'::text]));

CREATE UNIQUE INDEX agent_tasks_one_running_per_concurrency_key ON swarm.agent_tasks USING btree (concurrency_key) WHERE ((status = 'running'::text) AND (concurrency_key IS NOT NULL));

CREATE INDEX agent_tasks_parent_idx ON swarm.agent_tasks USING btree (parent_id) WHERE (parent_id IS NOT NULL);

CREATE INDEX agent_tasks_pending_concurrency_key_idx ON swarm.agent_tasks USING btree (concurrency_key) WHERE ((status = 'pending'::text) AND (concurrency_key IS NOT NULL));

CREATE INDEX agent_tasks_running_idx ON swarm.agent_tasks USING btree (agent) WHERE (status = 'running'::text);

CREATE INDEX agent_tasks_waiting_depends_on_idx ON swarm.agent_tasks USING gin (depends_on) WHERE (status = 'waiting'::text);

CREATE INDEX agent_tasks_waiting_idx ON swarm.agent_tasks USING btree (agent) WHERE (status = 'waiting'::text);

CREATE INDEX idle_workers_ticket_idx ON swarm.idle_workers USING btree (ticket);

CREATE INDEX schedules_due_idx ON swarm.schedules USING btree (next_fire_at) WHERE enabled;

CREATE INDEX task_attempts_archive_task_idx ON swarm.task_attempts_archive USING btree (task_id, id);

CREATE INDEX task_attempts_cost_idx ON swarm.task_attempts USING btree (agent, id) WHERE (cost_usd IS NOT NULL);

CREATE INDEX task_attempts_task_idx ON swarm.task_attempts USING btree (task_id, id);

CREATE INDEX task_events_archive_task_idx ON swarm.task_events_archive USING btree (task_id);

CREATE INDEX task_events_at_brin ON swarm.task_events USING brin (at);

CREATE INDEX task_events_task_idx ON swarm.task_events USING btree (task_id, id);

CREATE INDEX task_output_at_idx ON swarm.task_output USING btree (at);

CREATE INDEX task_output_offset_idx ON swarm.task_output USING btree (task_id, attempt, offset_bytes);

CREATE TRIGGER _050_schedules_owner_only BEFORE DELETE OR UPDATE OF name, cron, timezone, prompt, agent, args, queue, priority, tags, metadata, timeout_seconds, max_attempts, concurrency_key, enabled, catch_up, created_by ON swarm.schedules FOR EACH ROW EXECUTE FUNCTION swarm._schedules_owner_only();

CREATE TRIGGER _100_agent_tasks_before_insert BEFORE INSERT ON swarm.agent_tasks FOR EACH ROW WHEN (COALESCE(((new.agent IS NULL) OR (new.args <> '{}'::jsonb) OR (new.depends_on <> '{}'::bigint[]) OR (new.parent_id IS NOT NULL) OR (new.status <> 'pending'::text) OR (new.attempts <> 0) OR (new.worker IS NOT NULL) OR (new.lease_expires_at IS NOT NULL) OR (new.created_by <> SESSION_USER) OR (new.run_after IS NULL) OR (new.created_at <> now()) OR (new.updated_at <> now()) OR (new.unmet_dependencies <> 0) OR (new.cancel_requested_at IS NOT NULL) OR (new.cancelled_by_dependency IS NOT NULL) OR (new.free_releases <> 0) OR ((new.priority < '-1000'::integer) OR (new.priority > 1000)) OR (COALESCE(octet_length(new.key), 0) > 1000) OR (COALESCE(octet_length(new.concurrency_key), 0) > 1000)), true)) EXECUTE FUNCTION swarm._agent_tasks_before_insert();

CREATE TRIGGER _100_agents_before_delete BEFORE DELETE ON swarm.agents FOR EACH ROW EXECUTE FUNCTION swarm._agents_before_delete();

CREATE TRIGGER _100_agents_renamed AFTER UPDATE OF name ON swarm.agents FOR EACH ROW WHEN ((old.name IS DISTINCT FROM new.name)) EXECUTE FUNCTION swarm._agents_renamed();

CREATE TRIGGER _100_schedules_before_write BEFORE INSERT OR UPDATE OF name, cron, timezone, prompt, agent, args, queue, priority, tags, metadata, timeout_seconds, max_attempts, concurrency_key, enabled, catch_up ON swarm.schedules FOR EACH ROW EXECUTE FUNCTION swarm._schedules_before_write();

CREATE TRIGGER _150_agent_tasks_check_inserted AFTER INSERT ON swarm.agent_tasks REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION swarm._agent_tasks_check_inserted();

CREATE TRIGGER _200_agent_tasks_log_created AFTER INSERT ON swarm.agent_tasks REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION swarm._agent_tasks_log_created();

CREATE TRIGGER _300_agent_tasks_floor_inserted AFTER INSERT ON swarm.agent_tasks REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION swarm._agent_tasks_floor_inserted();

CREATE TRIGGER _300_agent_tasks_floor_updated AFTER UPDATE OF status, priority, run_after ON swarm.agent_tasks FOR EACH ROW WHEN (((new.status = 'pending'::text) AND ((old.status <> 'pending'::text) OR (new.priority > old.priority) OR (new.run_after < old.run_after)))) EXECUTE FUNCTION swarm._agent_tasks_floor_updated();

CREATE TRIGGER _400_agent_tasks_check_fields BEFORE UPDATE OF queue, args, priority, on_dependency_failure, max_attempts, timeout_seconds ON swarm.agent_tasks FOR EACH ROW EXECUTE FUNCTION swarm._agent_tasks_check_fields();

CREATE TRIGGER _500_agent_tasks_before_delete BEFORE DELETE ON swarm.agent_tasks FOR EACH ROW WHEN ((current_setting('swarm.api'::text, true) IS DISTINCT FROM 'on'::text)) EXECUTE FUNCTION swarm._agent_tasks_before_delete();

CREATE TRIGGER _500_agent_tasks_guard BEFORE UPDATE OF status, depends_on ON swarm.agent_tasks FOR EACH ROW WHEN (((old.depends_on IS DISTINCT FROM new.depends_on) OR ((old.status IS DISTINCT FROM new.status) AND ((current_setting('swarm.api'::text, true) IS DISTINCT FROM 'on'::text) OR (((old.status || '>'::text) || new.status) <> ALL (ARRAY['waiting>pending'::text, 'waiting>cancelled'::text, 'pending>running'::text, 'pending>cancelled'::text, 'running>completed'::text, 'running>failed'::text, 'running>cancelled'::text, 'running>pending'::text, 'failed>pending'::text, 'cancelled>pending'::text, 'cancelled>waiting'::text])))))) EXECUTE FUNCTION swarm._agent_tasks_guard();

CREATE TRIGGER _500_task_events_append_only BEFORE DELETE OR UPDATE ON swarm.task_events FOR EACH ROW EXECUTE FUNCTION swarm._task_events_append_only();

CREATE TRIGGER _900_agent_tasks_notify_inserted AFTER INSERT ON swarm.agent_tasks REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION swarm._agent_tasks_notify_inserted();

CREATE TRIGGER _910_agent_tasks_notify_finished AFTER UPDATE OF status ON swarm.agent_tasks FOR EACH ROW WHEN ((new.watched AND (old.status IS DISTINCT FROM new.status) AND (new.status = ANY (ARRAY['completed'::text, 'failed'::text, 'cancelled'::text])))) EXECUTE FUNCTION swarm._agent_tasks_notify_finished();

ALTER TABLE ONLY swarm.agent_daily_spend
    ADD CONSTRAINT agent_daily_spend_agent_fkey FOREIGN KEY (agent) REFERENCES swarm.agents(name) ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE ONLY swarm.agent_prices
    ADD CONSTRAINT agent_prices_agent_fkey FOREIGN KEY (agent) REFERENCES swarm.agents(name) ON UPDATE CASCADE ON DELETE CASCADE;

ALTER TABLE ONLY swarm.schedules
    ADD CONSTRAINT schedules_agent_fkey FOREIGN KEY (agent) REFERENCES swarm.agents(name) ON UPDATE CASCADE;

ALTER TABLE ONLY swarm.settings
    ADD CONSTRAINT settings_default_agent_fkey FOREIGN KEY (default_agent) REFERENCES swarm.agents(name) ON UPDATE CASCADE;

ALTER TABLE swarm.agent_tasks ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.agent_tasks_archive ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.schedules ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.task_attempts ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.task_attempts_archive ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.task_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.task_events_archive ENABLE ROW LEVEL SECURITY;

ALTER TABLE swarm.task_output ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_rows ON swarm.agent_tasks USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (created_by = SESSION_USER)));

CREATE POLICY tenant_rows ON swarm.agent_tasks_archive USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (created_by = SESSION_USER)));

CREATE POLICY tenant_rows ON swarm.schedules USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (created_by = CURRENT_USER)));

CREATE POLICY tenant_rows ON swarm.task_attempts USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (EXISTS ( SELECT 1
   FROM swarm.agent_tasks task
  WHERE (task.id = task_attempts.task_id)))));

CREATE POLICY tenant_rows ON swarm.task_attempts_archive USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (EXISTS ( SELECT 1
   FROM swarm.agent_tasks_archive task
  WHERE (task.id = task_attempts_archive.task_id)))));

CREATE POLICY tenant_rows ON swarm.task_events USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (EXISTS ( SELECT 1
   FROM swarm.agent_tasks task
  WHERE (task.id = task_events.task_id)))));

CREATE POLICY tenant_rows ON swarm.task_events_archive USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (EXISTS ( SELECT 1
   FROM swarm.agent_tasks_archive task
  WHERE (task.id = task_events_archive.task_id)))));

CREATE POLICY tenant_rows ON swarm.task_output USING ((( SELECT swarm._sees_all_tasks() AS _sees_all_tasks) OR (EXISTS ( SELECT 1
   FROM swarm.agent_tasks task
  WHERE (task.id = task_output.task_id)))));

GRANT USAGE ON SCHEMA swarm TO swarm_agent;
GRANT USAGE ON SCHEMA swarm TO swarm_enqueue;
GRANT USAGE ON SCHEMA swarm TO swarm_worker;
GRANT USAGE ON SCHEMA swarm TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm._add_spend(agent text, cost_usd numeric, as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._advance_claim_floor() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._default_agent() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._default_agent() TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm._default_agent() TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.now() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.now() TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.now() TO swarm_worker;
GRANT ALL ON FUNCTION swarm.now() TO swarm_monitor;

GRANT SELECT ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.agent_tasks TO swarm_worker;
GRANT SELECT ON TABLE swarm.agent_tasks TO swarm_monitor;

GRANT INSERT(key) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(key) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(queue) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(queue) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(agent) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(agent) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(prompt) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(prompt) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(args) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(args) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(priority) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(priority) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(depends_on) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(depends_on) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(on_dependency_failure) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(on_dependency_failure) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(parent_id) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(parent_id) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(concurrency_key) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(concurrency_key) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(run_after) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(run_after) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(max_attempts) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(max_attempts) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(timeout_seconds) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(timeout_seconds) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(tags) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(tags) ON TABLE swarm.agent_tasks TO swarm_worker;

GRANT INSERT(metadata) ON TABLE swarm.agent_tasks TO swarm_enqueue;
GRANT INSERT(metadata) ON TABLE swarm.agent_tasks TO swarm_worker;

REVOKE ALL ON FUNCTION swarm._agent_attempt(task_id bigint, token text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_failed(agent text, as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_over_budget(agent text, daily_budget_usd numeric, at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_paused(paused_until timestamp with time zone, at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_running(agent text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_starts_last_minute(agent text, at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_before_delete() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_before_insert() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_check_fields() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_check_inserted() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_floor_inserted() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_floor_updated() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_guard() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_log_created() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_notify_finished() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_tasks_notify_inserted() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agent_token(key bytea, task_id bigint, attempt integer, claimed_at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agents_before_delete() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._agents_renamed() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._apply_dependency_failure(finished bigint[], as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._args_allowed(needs text[], allowed text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._attempt_usage(task swarm.agent_tasks, as_of timestamp with time zone, exit_code integer, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, log_path text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._backoff(agent text, attempt integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._batch_field_kinds() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._batch_field_kinds() TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm._batch_field_kinds() TO swarm_worker;

REVOKE ALL ON FUNCTION swarm._batch_task_columns(task jsonb, refs jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._batch_task_columns(task jsonb, refs jsonb) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm._batch_task_columns(task jsonb, refs jsonb) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm._budget_reservation(max_budget_usd text, typical numeric, budget_left numeric) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._check_task_args(task swarm.agent_tasks, declared jsonb, max_prompt_bytes integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._check_task_fields(task swarm.agent_tasks) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._check_timezone(timezone text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._check_worker_login(worker text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._claim_floor_check_due() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._claim_floor_lock_key() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._claim_floor_top() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._claim_limited(worker text, free_agents text[], capped_agents text[], queues text[], max_tasks integer, lease_seconds integer, as_of timestamp with time zone, hostname text, pid integer, floor bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._common_task_args() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._concurrency_key_holder(concurrency_key text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_field(cron text, field text, label text, low integer, high integer, names text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_invalid(cron text, problem text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_latest(minutes integer[], hours integer[], days integer[], months integer[], weekdays integer[], day_or boolean, follows_clock boolean, timezone text, first timestamp with time zone, upto timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_next_at(minutes integer[], hours integer[], days integer[], months integer[], weekdays integer[], day_or boolean, follows_clock boolean, timezone text, after timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_next_wall(minutes integer[], hours integer[], days integer[], months integer[], weekdays integer[], day_or boolean, start timestamp without time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_parse(cron text, OUT minutes integer[], OUT hours integer[], OUT days integer[], OUT months integer[], OUT weekdays integer[], OUT day_or boolean, OUT follows_clock boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._cron_value(cron text, token text, label text, low integer, high integer, names text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._dependency_state(depends_on bigint[], on_dependency_failure text, OUT unmet integer, OUT blocking bigint, OUT missing bigint[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._end_attempt(task swarm.agent_tasks, outcome text, error text, as_of timestamp with time zone) FROM PUBLIC;

GRANT SELECT,DELETE ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(name),UPDATE(name) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(cron),UPDATE(cron) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(timezone),UPDATE(timezone) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(prompt),UPDATE(prompt) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(agent),UPDATE(agent) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(args),UPDATE(args) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(queue),UPDATE(queue) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(priority),UPDATE(priority) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(tags),UPDATE(tags) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(metadata),UPDATE(metadata) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(timeout_seconds),UPDATE(timeout_seconds) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(max_attempts),UPDATE(max_attempts) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(concurrency_key),UPDATE(concurrency_key) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(enabled),UPDATE(enabled) ON TABLE swarm.schedules TO swarm_enqueue;

GRANT INSERT(catch_up),UPDATE(catch_up) ON TABLE swarm.schedules TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm._enqueue_slot(schedule swarm.schedules, slot timestamp with time zone, extra jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._fence(task_id bigint, worker text, attempt integer, lease_token uuid, report text, as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._fire_schedule(schedule swarm.schedules, as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._holds_lease(status text, task_worker text, task_attempts integer, task_token uuid, worker text, attempt integer, token uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._in_api() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._in_scope(scope text[], value text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._in_words(span interval) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._invalid(message text, hint text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._is_confined_path(path text, args jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._lease_digest(token uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._lease_token(salt uuid, task_id bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._legal_transitions() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._log(task_id bigint, event text, worker text, attempt integer, detail jsonb, at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._lower_claim_floor(rank bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._notify_ready(agents text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._notify_slot_freed(agent text, concurrency_key text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._notify_workers(agents text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._open_attempts(worker text, task_ids bigint[], reserved_usd numeric[], lease_seconds integer, as_of timestamp with time zone, hostname text, pid integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._output_keep_bytes() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._plus(total bigint, amount bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._plus(total numeric, amount numeric) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._priced_cost(agent text, model text, input_tokens bigint, output_tokens bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._prompt_problem(prompt text, agent text, max_prompt_bytes integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._release_dependents(resolved bigint[], as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._reserved_now(agent text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._reserved_now(agent text) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm._resume_session(task_id bigint, mode text, hostname text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._revive_dependents(revived bigint[], as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._schedule_batch() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._schedule_grace() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._schedules_before_write() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._schedules_owner_only() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._settle_attempt(task swarm.agent_tasks, cause text, error text, retryable boolean, delay interval, as_of timestamp with time zone, spends_attempt boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._slot_text(slot timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._spent_today(agent text, at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._spent_today(agent text, at timestamp with time zone) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm._stale_reason(task_id bigint, worker text, attempt integer, lease_token uuid) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._task_due(run_after timestamp with time zone, at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._task_events_append_only() FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._task_field_problem(task swarm.agent_tasks) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._typical_cost(agent text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._typical_cost(agent text) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm._unknown_agent(agent text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._unknown_task(task_id bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._unresolve_for_dependents(returned bigint[], as_of timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._utc_offset(timezone text, at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._utc_time(at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._wake(agent text, queue text, tasks integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._web_token_hash(token text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._worker_alive(stopped_at timestamp with time zone, heartbeat_at timestamp with time zone, at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm._worker_alive(stopped_at timestamp with time zone, heartbeat_at timestamp with time zone, at timestamp with time zone) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm._worker_allowed_args(worker text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm._worker_of_another_login(worker text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.agent_children(task_id bigint, token text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.agent_children(task_id bigint, token text) TO swarm_agent;

REVOKE ALL ON FUNCTION swarm.agent_dependency_results(task_id bigint, token text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.agent_dependency_results(task_id bigint, token text) TO swarm_agent;

REVOKE ALL ON FUNCTION swarm.agent_enqueue(task_id bigint, token text, tasks jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.agent_enqueue(task_id bigint, token text, tasks jsonb) TO swarm_agent;

REVOKE ALL ON FUNCTION swarm.agent_report_progress(task_id bigint, token text, progress jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.agent_report_progress(task_id bigint, token text, progress jsonb) TO swarm_agent;

REVOKE ALL ON FUNCTION swarm.archive(older_than interval, batch_size integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.cancel_task(task_id bigint, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.cancel_task(task_id bigint, reason text) TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm.cancel_tasks(task_ids bigint[], reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.cancel_tasks(task_ids bigint[], reason text) TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm.claim_or_wait(worker text, agents text[], queues text[], max_tasks integer, lease_seconds integer, hostname text, pid integer, durable boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.claim_or_wait(worker text, agents text[], queues text[], max_tasks integer, lease_seconds integer, hostname text, pid integer, durable boolean) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.claim_task(worker text, agents text[], queues text[], max_tasks integer, lease_seconds integer, hostname text, pid integer, durable boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.claim_task(worker text, agents text[], queues text[], max_tasks integer, lease_seconds integer, hostname text, pid integer, durable boolean) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.complete_task(task_id bigint, worker text, attempt integer, result jsonb, exit_code integer, output_tail text, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.complete_task(task_id bigint, worker text, attempt integer, result jsonb, exit_code integer, output_tail text, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.complete_tasks(worker text, task_ids bigint[], attempts integer[], results jsonb[], lease_tokens uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.complete_tasks(worker text, task_ids bigint[], attempts integer[], results jsonb[], lease_tokens uuid[]) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.create_web_token(name text, scope text, expires_at timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.cron_next(cron text, after timestamp with time zone, timezone text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.cron_next(cron text, after timestamp with time zone, timezone text) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.cron_next(cron text, after timestamp with time zone, timezone text) TO swarm_worker;
GRANT ALL ON FUNCTION swarm.cron_next(cron text, after timestamp with time zone, timezone text) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm.declare_task_args(agent text, task_args jsonb, like_agent text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.declare_task_args(agent text, task_args jsonb, like_agent text) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.dependency_results(task_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.dependency_results(task_id bigint) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.enqueue(prompt text, agent text, queue text, args jsonb, priority integer, depends_on bigint[], key text, run_after timestamp with time zone, max_attempts integer, timeout_seconds integer, concurrency_key text, parent_id bigint, on_dependency_failure text, tags text[], metadata jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.enqueue(prompt text, agent text, queue text, args jsonb, priority integer, depends_on bigint[], key text, run_after timestamp with time zone, max_attempts integer, timeout_seconds integer, concurrency_key text, parent_id bigint, on_dependency_failure text, tags text[], metadata jsonb) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.enqueue(prompt text, agent text, queue text, args jsonb, priority integer, depends_on bigint[], key text, run_after timestamp with time zone, max_attempts integer, timeout_seconds integer, concurrency_key text, parent_id bigint, on_dependency_failure text, tags text[], metadata jsonb) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.enqueue_many(tasks jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.enqueue_many(tasks jsonb) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.enqueue_many(tasks jsonb) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.fail_task(task_id bigint, worker text, attempt integer, error text, exit_code integer, output_tail text, log_path text, result jsonb, cost_usd numeric, input_tokens bigint, output_tokens bigint, retry_in_seconds integer, retryable boolean, session_id text, fault text, lease_token uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.fail_task(task_id bigint, worker text, attempt integer, error text, exit_code integer, output_tail text, log_path text, result jsonb, cost_usd numeric, input_tokens bigint, output_tokens bigint, retry_in_seconds integer, retryable boolean, session_id text, fault text, lease_token uuid) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.fire_schedules() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.fire_schedules() TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.heartbeat(worker text, task_ids bigint[], lease_seconds integer, lease_tokens uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.heartbeat(worker text, task_ids bigint[], lease_seconds integer, lease_tokens uuid[]) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.idle_check(agents text[], queues text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.idle_check(agents text[], queues text[]) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.next_run_after(agents text[], queues text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.next_run_after(agents text[], queues text[]) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.next_schedule_at() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.next_schedule_at() TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.pause_agent(name text, until timestamp with time zone, reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.pause_agent(name text, until timestamp with time zone, reason text) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.priority(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.priority(name text) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.priority(name text) TO swarm_worker;
GRANT ALL ON FUNCTION swarm.priority(name text) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm.reap_expired() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.reap_expired() TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.record_session(task_id bigint, worker text, attempt integer, session_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.record_session(task_id bigint, worker text, attempt integer, session_id text) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.register_agent_key(worker text, key bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.register_agent_key(worker text, key bytea) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.register_worker(name text, hostname text, pid integer, agents text[], queues text[], concurrency integer, version text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.register_worker(name text, hostname text, pid integer, agents text[], queues text[], concurrency integer, version text) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.release_for_usage_limit(task_id bigint, worker text, attempt integer, until timestamp with time zone, reason text, exit_code integer, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.release_for_usage_limit(task_id bigint, worker text, attempt integer, until timestamp with time zone, reason text, exit_code integer, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.release_task(task_id bigint, worker text, attempt integer, delay_seconds integer, count_attempt boolean, reason text, exit_code integer, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.release_task(task_id bigint, worker text, attempt integer, delay_seconds integer, count_attempt boolean, reason text, exit_code integer, log_path text, cost_usd numeric, input_tokens bigint, output_tokens bigint, session_id text, lease_token uuid) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.require_schema(version integer) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.require_schema(version integer) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.require_schema(version integer) TO swarm_worker;
GRANT ALL ON FUNCTION swarm.require_schema(version integer) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm.resume_agent(name text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.retry_task(task_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.retry_task(task_id bigint) TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm.retry_tasks(task_ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.retry_tasks(task_ids bigint[]) TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm.revoke_web_token(name text) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.run_schedule(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.run_schedule(name text) TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm.schema_version() FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.schema_version() TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.schema_version() TO swarm_worker;
GRANT ALL ON FUNCTION swarm.schema_version() TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm.set_priority(task_id bigint, priority integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.set_worker_allowed_args(worker text, allowed_args text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.set_worker_allowed_args(worker text, allowed_args text[]) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.set_worker_quarantine(name text, quarantined jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.set_worker_quarantine(name text, quarantined jsonb) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.ship_output(worker text, batch jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.ship_output(worker text, batch jsonb) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.stats(since interval) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.stats(since interval) TO swarm_monitor;

REVOKE ALL ON FUNCTION swarm.stop_worker(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.stop_worker(name text) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.task_arg_needs(agent text, args jsonb, declared jsonb) FROM PUBLIC;

REVOKE ALL ON FUNCTION swarm.wake_channel(worker text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.wake_channel(worker text) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.watch_task(task_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.watch_task(task_id bigint) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.watch_task(task_id bigint) TO swarm_worker;

REVOKE ALL ON FUNCTION swarm.web_token_scope(token text) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.web_token_scope(token text) TO swarm_monitor;
GRANT ALL ON FUNCTION swarm.web_token_scope(token text) TO swarm_enqueue;

REVOKE ALL ON FUNCTION swarm.why_pending(task_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION swarm.why_pending(task_id bigint) TO swarm_enqueue;
GRANT ALL ON FUNCTION swarm.why_pending(task_id bigint) TO swarm_worker;
GRANT ALL ON FUNCTION swarm.why_pending(task_id bigint) TO swarm_monitor;

GRANT SELECT ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT SELECT ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(key) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(key) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(queue) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(queue) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(agent) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(agent) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(prompt) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(prompt) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(args) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(args) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(priority) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(priority) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(depends_on) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(depends_on) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(on_dependency_failure) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(on_dependency_failure) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(parent_id) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(parent_id) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(concurrency_key) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(concurrency_key) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(run_after) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(run_after) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(max_attempts) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(max_attempts) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(timeout_seconds) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(timeout_seconds) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(tags) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(tags) ON TABLE public.agent_tasks TO swarm_worker;

GRANT INSERT(metadata) ON TABLE public.agent_tasks TO swarm_enqueue;
GRANT INSERT(metadata) ON TABLE public.agent_tasks TO swarm_worker;

GRANT SELECT ON TABLE swarm.agent_daily_spend TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.agent_daily_spend TO swarm_worker;
GRANT SELECT ON TABLE swarm.agent_daily_spend TO swarm_monitor;

GRANT SELECT ON TABLE swarm.agent_prices TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.agent_prices TO swarm_worker;
GRANT SELECT ON TABLE swarm.agent_prices TO swarm_monitor;

GRANT SELECT ON TABLE swarm.agents TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.agents TO swarm_worker;
GRANT SELECT ON TABLE swarm.agents TO swarm_monitor;

GRANT SELECT ON TABLE swarm.agent_stats TO swarm_monitor;

GRANT SELECT ON TABLE swarm.agent_tasks_archive TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.agent_tasks_archive TO swarm_worker;
GRANT SELECT ON TABLE swarm.agent_tasks_archive TO swarm_monitor;

GRANT SELECT ON TABLE swarm.queue_stats TO swarm_monitor;

GRANT SELECT ON TABLE swarm.task_attempts TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.task_attempts TO swarm_worker;
GRANT SELECT ON TABLE swarm.task_attempts TO swarm_monitor;

GRANT SELECT ON TABLE swarm.task_attempts_archive TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.task_attempts_archive TO swarm_worker;
GRANT SELECT ON TABLE swarm.task_attempts_archive TO swarm_monitor;

GRANT SELECT ON TABLE swarm.task_events TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.task_events TO swarm_worker;
GRANT SELECT ON TABLE swarm.task_events TO swarm_monitor;

GRANT SELECT ON TABLE swarm.task_events_archive TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.task_events_archive TO swarm_worker;
GRANT SELECT ON TABLE swarm.task_events_archive TO swarm_monitor;

GRANT SELECT ON TABLE swarm.task_output TO swarm_enqueue;
GRANT SELECT ON TABLE swarm.task_output TO swarm_worker;
GRANT SELECT ON TABLE swarm.task_output TO swarm_monitor;

GRANT SELECT ON TABLE swarm.workers TO swarm_worker;
GRANT SELECT ON TABLE swarm.workers TO swarm_monitor;

GRANT SELECT ON TABLE swarm.worker_stats TO swarm_monitor;
