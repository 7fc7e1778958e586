-- Agents: pauses (manual, usage limits, circuit breaker), failure bookkeeping.

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
