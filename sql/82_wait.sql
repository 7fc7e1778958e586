-- Waiting for a task: swarm.watch_task marks it, and its last status change says so with
-- NOTIFY swarm_finished (payload: the task id). Only watched tasks notify: a NOTIFY on every
-- finished task would serialise the reports' commits (see 80_notify.sql). As every NOTIFY, it is
-- a hint: a waiter reads the task again and believes only the row.

-- swarm.watch_task: ask for NOTIFY swarm_finished when a task finishes; returns its status now.
--   order:      LISTEN swarm_finished first, then call this, then wait while the status it
--               returned (or a later read) is waiting, pending or running: no finish is missed.
--   locks:      the task row for an instant, the first time only (already watched, or finished:
--               nothing is written). A claim that skips the row meanwhile is woken again: a
--               claimable task gets a swarm_ready.
--   returns:    waiting | pending | running | completed | failed | cancelled (archived tasks too).
--   raises:     SW002 unknown task (or another login's, with tenants on).
--   notifies:   swarm_ready and swarm_wake (the task's agent) when it marked a claimable task.
create or replace function swarm.watch_task(task_id bigint) returns text
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
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
comment on function swarm.watch_task(bigint)
  is 'NOTIFY swarm_finished (payload: id) when this task finishes; returns its status now';

-- swarm._agent_tasks_notify_finished: the NOTIFY of a watched task that just finished.
create or replace function swarm._agent_tasks_notify_finished() returns trigger
language plpgsql
as $$
begin
  perform pg_notify('swarm_finished', new.id::text);
  return null;
end
$$;

-- The WHEN clause keeps the reports' cost: an unwatched task never calls the function.
create or replace trigger _910_agent_tasks_notify_finished
  after update of status on swarm.agent_tasks
  for each row
  when (new.watched and old.status is distinct from new.status
        and new.status in ('completed', 'failed', 'cancelled'))
  execute function swarm._agent_tasks_notify_finished();
