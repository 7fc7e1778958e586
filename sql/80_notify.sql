-- Wake-ups. NOTIFY is a hint that saves a poll; workers also poll, so a lost one delays work but
-- loses none. swarm_ready carries the agent name and goes out once per statement and agent
-- (never per row: a 1,000-row INSERT sends one per agent), for anyone listening (pgswarm web's
-- live feed, services); workers do not listen to it. An insert wakes idle workers one by one
-- on their own channels (sql/66_wake.sql), and sends swarm_wake (every worker listens) only when
-- those cannot take every new task; the other events that make tasks claimable (unblock, retry,
-- release, resume, a freed slot) send swarm_wake too.

-- swarm._notify_ready: one swarm_ready and one swarm_wake per distinct agent.
create or replace function swarm._notify_ready(agents text[])
returns void
language plpgsql volatile
as $$
begin
  if cardinality(_notify_ready.agents) > 0 then
    perform pg_notify('swarm_ready', a.agent), pg_notify('swarm_wake', a.agent)
       from (select distinct unnest(_notify_ready.agents) as agent) as a
      where a.agent is not null;
  end if;
end
$$;

-- swarm._notify_workers: one swarm_wake (every worker) per distinct agent.
create or replace function swarm._notify_workers(agents text[])
returns void
language plpgsql volatile
as $$
begin
  if cardinality(_notify_workers.agents) > 0 then
    perform pg_notify('swarm_wake', a.agent)
       from (select distinct unnest(_notify_workers.agents) as agent) as a
      where a.agent is not null;
  end if;
end
$$;

-- swarm._notify_slot_freed: a finished attempt frees a slot of a capped agent or a concurrency
-- key; tasks held back by it may now be claimed, so say so (uncapped agents stay quiet: nothing
-- was waiting on the slot, and the hot path avoids NOTIFY's commit-time lock).
create or replace function swarm._notify_slot_freed(agent text, concurrency_key text)
returns void
language plpgsql volatile
as $$
begin
  if _notify_slot_freed.concurrency_key is not null
     or exists (select 1 from swarm.agents as a where a.name = _notify_slot_freed.agent
                   and (a.max_concurrent is not null or a.max_starts_per_minute is not null)) then
    perform swarm._notify_ready(array[_notify_slot_freed.agent]);
  end if;
end
$$;

-- swarm._agent_tasks_notify_inserted: after an INSERT statement, for each agent and queue that
-- got tasks claimable now (not waiting, not delayed): one swarm_ready per agent; wake that many
-- idle workers on their own channels (sql/66_wake.sql), and every worker (swarm_wake, once per
-- agent) when those cannot take them all.
create or replace function swarm._agent_tasks_notify_inserted() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
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

create or replace trigger _900_agent_tasks_notify_inserted
  after insert on swarm.agent_tasks
  referencing new table as inserted
  for each statement execute function swarm._agent_tasks_notify_inserted();
