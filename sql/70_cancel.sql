-- Cancel and retry: the operator's levers.

-- swarm.cancel_task: cancel a task.
--   waiting/pending: cancelled at once; dependents follow their on_dependency_failure.
--   running:         cancellation is requested (cancel_requested_at) and the owning worker is
--                    told (NOTIFY swarm_cancel, and the next heartbeat); it stops the process and
--                    reports, which records 'cancelled'. A worker that died is reaped into
--                    'cancelled' when its lease expires.
--   cancelled:       nothing to do (idempotent).
--   locks:           the task row, then dependents in id order.
--   returns:         the task's status after the call.
--   raises:          SW002 unknown task (or another login's, with tenants on), SW003 task already
--                    completed or failed.
--   notifies:        swarm_cancel with the task id (running tasks).
create or replace function swarm.cancel_task(task_id bigint, reason text default null)
returns text
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_reason text := coalesce(cancel_task.reason, 'cancelled by ' || session_user);
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = cancel_task.task_id for update;
  if not found or not swarm._may_see_task(v_task.created_by) then  -- tenants: another login's is unknown
    perform swarm._unknown_task(cancel_task.task_id);
  end if;
  if v_task.status = 'cancelled' then
    return 'cancelled';
  elsif v_task.status in ('completed', 'failed') then
    raise exception using errcode = 'SW003',
      message = format('task %s is already %s and cannot be cancelled', v_task.id, v_task.status),
      detail = format('%s -> cancelled is not allowed', v_task.status);
  end if;
  perform set_config('swarm.api', 'on', true);
  if v_task.status = 'running' then
    update swarm.agent_tasks as task
       set cancel_requested_at = coalesce(task.cancel_requested_at, v_now),
           cancel_reason = coalesce(task.cancel_reason, v_reason), updated_at = v_now
     where task.id = v_task.id;
    perform pg_notify('swarm_cancel', v_task.id::text);
    perform set_config('swarm.api', '', true);
    return 'running';
  end if;
  update swarm.agent_tasks as task
     set status = 'cancelled', cancel_reason = v_reason, finished_at = v_now, updated_at = v_now
   where task.id = v_task.id;
  perform swarm._log(v_task.id, 'cancelled', null, null,
                     jsonb_build_object('to', 'cancelled', 'from', v_task.status, 'reason', v_reason), v_now);
  perform swarm._apply_dependency_failure(array[v_task.id], v_now);
  perform set_config('swarm.api', '', true);
  return 'cancelled';
end
$$;
comment on function swarm.cancel_task(bigint, text)
  is 'cancel a waiting/pending task now, or request cancellation of a running one (NOTIFY swarm_cancel)';

-- swarm.retry_task: give a failed or cancelled task a fresh set of attempts.
--   guarantees: the task becomes pending (or waiting, if dependencies are unresolved again), its
--               attempts start from 0; the dependents its failure cancelled are revived,
--               transitively.
--   locks:      the task row, its dependencies FOR SHARE, then revived dependents in id order.
--   raises:     SW002 unknown task (or another login's, with tenants on), SW003 not failed/cancelled,
--               SW004 a dependency of the task
--               itself failed (retry that one first).
--   notifies:   swarm_ready for the agent when the task is claimable now.
create or replace function swarm.retry_task(task_id bigint)
returns text
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_state record;
  v_status text;
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = retry_task.task_id for update;
  if not found or not swarm._may_see_task(v_task.created_by) then  -- tenants: another login's is unknown
    perform swarm._unknown_task(retry_task.task_id);
  end if;
  if v_task.status not in ('failed', 'cancelled') then
    raise exception using errcode = 'SW003',
      message = format('task %s is %s; only failed or cancelled tasks can be retried', v_task.id, v_task.status),
      detail = format('%s -> pending is not allowed', v_task.status);
  end if;
  v_state := swarm._dependency_state(v_task.depends_on, 'cancel');
  if v_state.blocking is not null then
    raise exception using errcode = 'SW004',
      message = format('task %s depends on task %s, which failed or was cancelled', v_task.id, v_state.blocking),
      hint = format('retry task %s first: its retry revives this one', v_state.blocking);
  end if;
  v_status := case when v_state.unmet > 0 then 'waiting' else 'pending' end;
  perform set_config('swarm.api', 'on', true);
  update swarm.agent_tasks as task
     set status = v_status,
         unmet_dependencies = v_state.unmet,
         attempts = 0,
         free_releases = 0,
         run_after = v_now,
         finished_at = null,
         cancel_requested_at = null,
         cancel_reason = null,
         cancelled_by_dependency = null,
         updated_at = v_now
   where task.id = v_task.id;
  perform swarm._log(v_task.id, 'retry_scheduled', null, null,
                     jsonb_build_object('to', v_status, 'from', v_task.status, 'by', 'retry_task'), v_now);
  perform swarm._unresolve_for_dependents(array[v_task.id], v_now);
  perform swarm._revive_dependents(array[v_task.id], v_now);
  if v_status = 'pending' then
    perform swarm._notify_ready(array[v_task.agent]);
  end if;
  perform set_config('swarm.api', '', true);
  return v_status;
end
$$;
comment on function swarm.retry_task(bigint) is 'retry a failed or cancelled task, reviving the dependents its failure cancelled';

-- swarm.cancel_tasks: cancel many tasks in one call (pgswarm cancel --queue Q --status pending).
--   skips:      tasks already completed, failed or cancelled when their turn comes (a cancel
--               earlier in the call may have cancelled a dependent already); unknown ids, and
--               another login's tasks with tenants on.
--   locks:      each task as cancel_task does, in id order.
--   returns:    (task_id, status) of each task it cancelled or asked to stop, in id order.
--   notifies:   as cancel_task.
create or replace function swarm.cancel_tasks(task_ids bigint[], reason text default null)
returns table (task_id bigint, status text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off
set jit = off
as $$
declare
  v_id bigint;
begin
  for v_id in select distinct id from unnest(cancel_tasks.task_ids) as id where id is not null order by id loop
    if exists (select 1 from swarm.agent_tasks as task
                where task.id = v_id and task.status in ('waiting', 'pending', 'running')
                  and swarm._may_see_task(task.created_by)) then
      task_id := v_id;
      status := swarm.cancel_task(v_id, cancel_tasks.reason);
      return next;
    end if;
  end loop;
end
$$;
comment on function swarm.cancel_tasks(bigint[], text) is 'cancel_task for each of these tasks still waiting, pending or running';

-- swarm.retry_tasks: retry many tasks in one call (pgswarm retry --status failed --queue Q).
--   skips:      tasks that are no longer failed or cancelled when their turn comes (retrying a
--               dependency earlier in the call revives its dependents); unknown ids, and another
--               login's tasks with tenants on.
--   locks:      each task as retry_task does, in id order.
--   returns:    (task_id, status) of each task it retried, in id order.
--   raises:     SW004 as retry_task (a task whose own dependency failed: retry that one too).
--   notifies:   as retry_task.
create or replace function swarm.retry_tasks(task_ids bigint[])
returns table (task_id bigint, status text)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off
set jit = off
as $$
declare
  v_id bigint;
begin
  for v_id in select distinct id from unnest(retry_tasks.task_ids) as id where id is not null order by id loop
    if exists (select 1 from swarm.agent_tasks as task
                where task.id = v_id and task.status in ('failed', 'cancelled')
                  and swarm._may_see_task(task.created_by)) then
      task_id := v_id;
      status := swarm.retry_task(v_id);
      return next;
    end if;
  end loop;
end
$$;
comment on function swarm.retry_tasks(bigint[]) is 'retry_task for each of these tasks still failed or cancelled';
