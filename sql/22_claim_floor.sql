-- The claim floor: where claims start walking the claim index.
--
-- swarm.claim_floor (a sequence, migration 0005) holds a claim rank at or below that of every
-- pending task. Claims scan agent_tasks_claim_idx from it instead of from the start, which skips
-- the entries of tasks claimed since the oldest open snapshot: those stay in the index, and a
-- walk must visit each one, until that snapshot ends. A sequence, because it has no row versions
-- for an old snapshot to pin, and setval is not undone by a rollback.
--
-- The floor's invariant, floor <= _claim_rank of every pending task, holds because:
--   * every change that makes a task pending (insert, unblock, retry, release, reap) or raises its
--     place (priority up, run_after earlier) takes the floor lock in SHARE mode until its
--     transaction ends, then lowers the floor to the task's rank if it is below;
--   * the floor only rises in _advance_claim_floor, under the same lock in EXCLUSIVE mode (tried,
--     never waited for): no such change is then in flight, so each one has either committed, and
--     the advance's fresh snapshot sees its task, or will lower the floor after the advance.
-- A session holding the lock in SHARE mode (a long transaction enqueuing) stops the floor from
-- rising until it ends: claims are then as slow under an old snapshot as without a floor, never
-- wrong. When nothing is pending, the floor goes to the top: the next task to become pending
-- lowers it to its own rank.
-- In case the floor were ever wrong, a claim that finds nothing above it also looks below it,
-- at most once every 5 seconds in the whole cluster (_claim_floor_check_due), and puts the
-- floor right when it finds a task there.
-- The floor is a rank, not a place in the index: tasks of one rank (same priority and run_after,
-- e.g. all the tasks one transaction enqueues with the default run_after) are walked from the
-- first of them, claimed or not. And a task that stays pending unclaimed (its agent paused, a
-- later run_after at a higher priority) holds the floor at its rank for every agent.

-- swarm._claim_floor_lock_key: the advisory lock (two-int form) that orders raising the floor
-- against changes that lower it; the second half orders the lowerings among themselves.
create or replace function swarm._claim_floor_lock_key() returns int
language sql immutable parallel safe
return hashtext('swarm.claim_floor');

-- swarm._claim_floor_top: the floor when no task is pending (above every claim rank).
create or replace function swarm._claim_floor_top() returns bigint
language sql immutable parallel safe
return 9223372036854775807;

-- swarm._claim_floor_check_due: whether this claim should look below the floor; true at most
-- once every 5 seconds in the whole cluster (two claims at the same instant may both look).
--   locks:      nothing; swarm.claim_floor_checked_at is set without a transaction.
--   why:        below a right floor lie only the entries of tasks no longer pending; while an old
--               snapshot is held none of them can be marked dead, and the look visits them all.
create or replace function swarm._claim_floor_check_due() returns boolean
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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

-- swarm._lower_claim_floor: lower the floor to rank if it lies above.
--   locks:      the floor lock in SHARE mode until the transaction ends (see above); the
--               lowerings' lock for an instant, so that two of them cannot undo each other.
--   guarantees: on return the floor is <= rank, and it cannot rise above rank before this
--               transaction ends.
create or replace function swarm._lower_claim_floor(rank bigint) returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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

-- swarm._advance_claim_floor: raise the floor to the lowest rank of a pending task, or to the top
-- when none is pending.
--   runs:       at most every 10 ms in a session (claim_task calls it after each claim); only
--               under READ COMMITTED, where the walk below takes a snapshot after the lock.
--   locks:      the floor lock in EXCLUSIVE mode, tried and released before return: when a
--               change that may lower the floor is in flight, the floor stays where it is.
--   cost:       the walk from the old floor visits the entries claimed since the last advance.
--   why the top: a queue that keeps up is empty after most claims; a floor left at the last
--               pending rank would then stay there, and under an old snapshot every claim would
--               walk the entries of every task claimed since (measured: claims of 100 from 2 to
--               15 ms over 100,000 tasks).
create or replace function swarm._advance_claim_floor() returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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

-- swarm._agent_tasks_floor_inserted: after an INSERT (or COPY) statement, lower the floor to its
-- lowest pending task.
create or replace function swarm._agent_tasks_floor_inserted() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
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

create or replace trigger _300_agent_tasks_floor_inserted
  after insert on swarm.agent_tasks
  referencing new table as inserted
  for each statement execute function swarm._agent_tasks_floor_inserted();

-- swarm._agent_tasks_floor_updated: a task became pending, or moved up while pending.
create or replace function swarm._agent_tasks_floor_updated() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
begin
  perform swarm._lower_claim_floor(swarm._claim_rank(new.priority, new.run_after));
  return null;
end
$$;

-- Per row, but the WHEN clause lets through only the rows that matter (claims, heartbeats and
-- reports never call it).
create or replace trigger _300_agent_tasks_floor_updated
  after update of status, priority, run_after on swarm.agent_tasks
  for each row
  when (new.status = 'pending'
        and (old.status <> 'pending' or new.priority > old.priority or new.run_after < old.run_after))
  execute function swarm._agent_tasks_floor_updated();
