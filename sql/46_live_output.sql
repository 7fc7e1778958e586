-- Live output: what running attempts print, shipped by their workers (table: migration 0022).

-- swarm._output_keep_bytes: how much of an attempt's output swarm.task_output keeps (its last MiB).
create or replace function swarm._output_keep_bytes() returns bigint
language sql immutable parallel safe
return 1048576;

-- swarm.ship_output: store what a worker's running attempts printed since its last call, and
-- their parsed progress.
--   batch:      a JSON array of {task_id, attempt, offset, chunk, progress}: offset is where the
--               chunk starts in the attempt's whole output (bytes; a jump means the worker left
--               bytes out), chunk the text (may be empty), progress an object or absent.
--   guarantees: only items of attempts this worker runs now are stored (a stale item, from an
--               attempt whose lease was lost or reported, is skipped); chunks get seq 1, 2, ...
--               per attempt in batch order; progress replaces agent_tasks.progress, with the
--               attempt and the time added (its key 'agent', what the agent reported itself
--               through swarm.agent_report_progress, is kept). Each attempt keeps its last _output_keep_bytes()
--               (older chunks deleted) and chunks older than a day are deleted (a bounded batch
--               per call).
--   locks:      the task rows of the progress updates; nothing else.
--   returns:    how many items were stored.   raises: SW005 a batch that is not an array, SW007
--               the worker name belongs to another login (sql/30_lease.sql).
--   notifies:   swarm_output with the task id, once per task with a new chunk.
create or replace function swarm.ship_output(worker text, batch jsonb)
returns int
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
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
comment on function swarm.ship_output(text, jsonb)
  is 'store what a worker''s running attempts printed (bounded per attempt) and their progress; NOTIFY swarm_output';
