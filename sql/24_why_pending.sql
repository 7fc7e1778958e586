-- Why a task is not running: the claim's rules (sql/20_claim.sql) read back as sentences.

-- swarm._worker_alive: whether a worker counts as live (no goodbye, a heartbeat within 2 minutes).
create or replace function swarm._worker_alive(stopped_at timestamptz, heartbeat_at timestamptz, at timestamptz)
returns boolean
language sql immutable parallel safe
as $$ select stopped_at is null and heartbeat_at > at - interval '2 minutes' $$;

-- swarm._in_words: a short, rounded duration for people ("40 seconds", "12 minutes", "3 hours", "2 days").
create or replace function swarm._in_words(span interval) returns text
language sql immutable parallel safe
as $$
  select case
    when extract(epoch from span) < 90 then greatest(ceil(extract(epoch from span)), 0)::int || ' seconds'
    when extract(epoch from span) < 90 * 60 then round(extract(epoch from span) / 60)::int || ' minutes'
    when extract(epoch from span) < 36 * 3600 then round(extract(epoch from span) / 3600)::int || ' hours'
    else round(extract(epoch from span) / 86400)::int || ' days' end
$$;

-- swarm._utc_time: a time as people read it in logs, in UTC, to the second.
create or replace function swarm._utc_time(at timestamptz) returns text
language sql immutable parallel safe
as $$ select to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"') $$;

-- swarm.why_pending: every reason a task is not running now, one row each.
--   returns:    code (dependency, paused, budget, cap, rate, run_after, concurrency_key,
--               no_worker, shell, arg_policy, quarantined, finished), reason (a sentence with the detail),
--               brief (a few words for a list column), detail (the values, as jsonb).
--               A waiting or pending task with no row is claimable now: a live worker asking
--               would get it (when it is first in line). A running task has no row; a finished
--               one has one (code finished).
--   rules:      the claim's own (swarm._task_due, _agent_paused, _agent_over_budget, _budget_reservation,
--               _agent_running, _agent_starts_last_minute, _concurrency_key_holder, _in_scope),
--               plus the workers: a live worker (_worker_alive) must take the task's agent and
--               queue. tests/sql/test_why_pending.py checks the two agree on every small state.
--   locks:      nothing (reads; cheap enough for a page of 100 tasks).
--   guarantees: changes nothing.   raises: SW002 unknown task.   notifies: nothing.
create or replace function swarm.why_pending(task_id bigint)
returns table (code text, reason text, brief text, detail jsonb)
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
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
$$;
comment on function swarm.why_pending(bigint)
  is 'every reason a task is not running now (code, sentence, brief, detail), from the rules claim_task applies';
