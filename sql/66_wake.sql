-- Targeted wake-ups: an enqueue wakes as many idle workers as it made tasks, not every worker.
--
-- A worker claims with swarm.claim_or_wait. When the claim leaves slots free the worker goes in
-- swarm.idle_workers (migration 0024) with a ticket; the insert trigger (sql/80_notify.sql) calls
-- swarm._wake, which picks live idle workers for the tasks' agent and queue in ticket order,
-- starting after the last one woken (round robin), until their free slots cover the tasks, and
-- NOTIFYs each on its own channel (swarm.wake_channel). A worker woken goes to the back of the
-- line on its next idle claim. Nothing here locks a row: enqueuers only read swarm.idle_workers
-- and move a sequence, so a long enqueuing transaction never holds up a worker's claim.
-- What a hint may get wrong, and why nothing is lost: a worker may die, be busy by the time it
-- is woken, or register while an insert looks; the insert also wakes every worker (swarm_wake)
-- when the idle workers it found cannot take every task, and every worker still polls
-- (swarm.idle_check) at its poll interval.

-- swarm.wake_channel: the LISTEN channel on which a worker is woken (fits NAMEDATALEN whatever
-- the worker's name).
create or replace function swarm.wake_channel(worker text) returns text
language sql immutable parallel safe
return 'swarm_wake_' || left(md5(worker), 24);
comment on function swarm.wake_channel(text) is 'the LISTEN channel on which inserts wake this worker';

-- swarm.claim_or_wait: swarm.claim_task, and the worker's place among the idle workers.
--   order, honours, durable, locks: as swarm.claim_task.
--   guarantees: when fewer than max_tasks are claimed the worker is in swarm.idle_workers with
--               the slots left (a new ticket when its slots changed or it was woken since its
--               last ticket); otherwise it is not. Its wake-ups go to swarm.wake_channel(worker).
--   raises:     as swarm.claim_task (SW005 bad arguments).   notifies: nothing.
create or replace function swarm.claim_or_wait(
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
as $$
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
comment on function swarm.claim_or_wait(text, text[], text[], int, int, text, int, boolean)
  is 'claim_task, then wait among the idle workers (woken on swarm.wake_channel) when slots are left';

-- swarm._wake: wake idle workers for tasks of an agent and queue just made claimable.
--   guarantees: NOTIFY (payload: the agent) on the channel of live idle workers (registered, not
--               stopped, a heartbeat within 2 minutes) whose agents and queues take these tasks,
--               in ticket order after the cursor, then from the start, until their free slots
--               cover tasks; the cursor moves to the last ticket woken.
--   returns:    the free slots of the workers woken (may exceed tasks by one worker's slots).
--   locks:      nothing (reads swarm.idle_workers; setval).
create or replace function swarm._wake(agent text, queue text, tasks int)
returns int
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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

-- swarm.idle_check: what a worker's fallback poll asks before claiming: seconds until a task of
-- its agents and queues may be claimable (0: now), or null when none is in sight.
--   why:        with hints reaching the right worker, a poll mostly finds nothing; this asks
--               without a claim's row writes and locks (one walk of the claim index from the
--               claim floor), and makes the cluster's look below the floor when it is due, so
--               that look still happens even if only polls run.
--   locks:      no rows; when it finds a task below the floor, the floor lock as
--               swarm._lower_claim_floor (the floor sequence and its check time are written,
--               outside any transaction).
--   guarantees: 0 while a task the caller could claim has been claimable for a second or more
--               (with a rank at or above the claim floor); a task claimable for less says the
--               rest of its second (paused agents and caps are not looked at: their tasks say 0
--               too, and the claim that follows decides). So a task whose every hint went
--               astray is claimed within the poll interval plus a second.
create or replace function swarm.idle_check(agents text[] default null, queues text[] default null)
returns double precision
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off
set jit = off
as $$
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
comment on function swarm.idle_check(text[], text[]) is
  'seconds until a task of these agents and queues may be claimable (0: now; null: none pending)';
