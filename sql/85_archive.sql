-- Archive: move old finished tasks, with their history, out of the hot table.

-- swarm.archive: move terminal tasks finished before now - older_than, with their events and
-- attempts, into swarm.agent_tasks_archive / task_events_archive / task_attempts_archive (the
-- day's spend in swarm.agent_daily_spend stays: budgets do not drop).
--   locks:      the moved task rows (DELETE); tasks locked by someone else are skipped and moved
--               by a later call.
--   guarantees: a task, its events and its attempts move together, in one transaction; claiming
--               is unaffected (only terminal rows move). batch_size bounds one call (null = all,
--               in one transaction: prefer swarm.archive_in_batches below, which commits each batch).
--   returns:    the number of tasks moved.
--   raises:     SW005 negative interval.
create or replace function swarm.archive(older_than interval, batch_size int default null)
returns bigint
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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
comment on function swarm.archive(interval, int) is 'move finished tasks older than an interval (and their events) to the archive tables';

-- swarm.archive_in_batches: swarm.archive in batches of batch_size, each committed before the next
-- (CALL it outside a transaction block; pgswarm archive does).
--   why:        one transaction for 102,000 tasks and 306,000 events held their row locks, its
--               snapshot (which keeps vacuum from cleaning up behind every claim, see the claim
--               floor) and a burst of WAL for the whole move; a batch holds them for a moment.
--   locks:      as swarm.archive, one batch at a time.
--   guarantees: a task and its events move together (each batch is one swarm.archive call);
--               stops when a batch moves fewer than batch_size (the rest is newer, or locked
--               and moved by a later call), or after max_batches.
--   returns:    moved, the number of tasks moved (INOUT; pass null).
--   raises:     SW005 batch_size or max_batches below 1, a negative interval (nothing moved).
-- SECURITY INVOKER and no SET clause: a procedure with either cannot COMMIT. Each batch runs
-- swarm.archive, which is SECURITY DEFINER, so callers need EXECUTE on both (the owner has it).
create or replace procedure swarm.archive_in_batches(older_than interval, batch_size int default 1000,
                                                     inout moved bigint default null, max_batches int default null)
language plpgsql
as $$
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
comment on procedure swarm.archive_in_batches(interval, int, bigint, int)
  is 'swarm.archive in committed batches (CALL outside a transaction block)';
