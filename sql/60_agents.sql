-- Agents: pauses (manual, usage limits, circuit breaker), failure bookkeeping, and what a rename
-- or delete of an agent does to its tasks.

-- swarm.pause_agent: stop every worker from claiming an agent's tasks until `until`.
--   locks:      the agent row.
--   guarantees: claim_task skips the agent while paused_until > now; running tasks go on.
--               A pause never shortens a longer one already in place (usage limits reported by
--               several workers at once keep the latest reset).
--   raises:     SW001 unknown agent, SW005 until in the past.   notifies: nothing.
create or replace function swarm.pause_agent(name text, "until" timestamptz default null, reason text default null)
returns timestamptz
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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
comment on function swarm.pause_agent(text, timestamptz, text)
  is 'pause an agent cluster-wide until a time (null = until resumed); returns the effective end';

-- swarm.resume_agent: end a pause (and reset the circuit breaker's failure count).
--   raises: SW001 unknown agent.   notifies: swarm_ready for the agent.
create or replace function swarm.resume_agent(name text)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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
comment on function swarm.resume_agent(text) is 'end an agent''s pause and reset its circuit breaker';

-- swarm._agent_failed: count a failed attempt; at breaker_threshold consecutive failures the
-- breaker opens: the agent is paused for breaker_cooldown_seconds. After the cooldown the next
-- attempt is a probe: a success resets the count, a failure opens the breaker again at once.
create or replace function swarm._agent_failed(agent text, as_of timestamptz)
returns void
language sql volatile
as $$
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
$$;

-- What the foreign key agent_tasks.agent -> agents.name did on this side (migration 0030 replaced
-- it; the insert side is _agent_tasks_check_inserted in sql/10_tasks.sql, one check a statement).

-- swarm._agents_before_delete: an agent that still has tasks cannot be deleted (nobody would run
-- them, and psql would show tasks of an agent that does not exist).
--   raises: 23503 foreign_key_violation (as the key did), naming a few of the tasks.
create or replace function swarm._agents_before_delete() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
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

create or replace trigger _100_agents_before_delete
  before delete on swarm.agents
  for each row execute function swarm._agents_before_delete();

-- swarm._agents_renamed: a renamed agent takes its tasks along (archived tasks keep the name
-- they ran under).
create or replace function swarm._agents_renamed() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
begin
  update swarm.agent_tasks as task set agent = new.name where task.agent = old.name;
  return null;
end
$$;

create or replace trigger _100_agents_renamed
  after update of name on swarm.agents
  for each row
  when (old.name is distinct from new.name)
  execute function swarm._agents_renamed();
