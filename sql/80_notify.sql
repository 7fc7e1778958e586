-- Wake-ups. NOTIFY is a hint that saves a poll; workers also poll, so a lost one delays work but
-- loses none. swarm_ready carries the agent name and goes out once per statement and agent
-- (never per row: a 1,000-row INSERT sends one per agent). swarm_cancel carries a task id and
-- is sent by cancel_task.

-- swarm._notify_ready: one swarm_ready per distinct agent.
create or replace function swarm._notify_ready(agents text[])
returns void
language plpgsql volatile
as $$
begin
  if cardinality(_notify_ready.agents) > 0 then
    perform pg_notify('swarm_ready', a.agent)
       from (select distinct unnest(_notify_ready.agents) as agent) as a
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
    perform pg_notify('swarm_ready', _notify_slot_freed.agent);
  end if;
end
$$;

-- swarm._agent_tasks_notify_inserted: after an INSERT statement, one swarm_ready per agent that
-- got a task claimable now (not waiting, not delayed).
create or replace function swarm._agent_tasks_notify_inserted() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
begin
  perform pg_notify('swarm_ready', ready.agent)
     from (select distinct inserted.agent from inserted
            where inserted.status = 'pending' and inserted.run_after <= swarm.now()) as ready;
  return null;
end
$$;

create or replace trigger _900_agent_tasks_notify_inserted
  after insert on swarm.agent_tasks
  referencing new table as inserted
  for each statement execute function swarm._agent_tasks_notify_inserted();
