-- Priority: the operator's lever on the order of the queue.

-- swarm.set_priority: change the priority of a task that has not finished.
--   locks:      the task row (for update).
--   guarantees: a pending task takes its new place in the claim order at once; raising it lowers
--               the claim floor in the same transaction (the floor trigger of 22_claim_floor.sql).
--               A running task keeps running; the priority applies to its retries.
--   returns:    the task's status.
--   raises:     SW002 unknown task, SW003 task already finished, SW005 priority out of range.
--   notifies:   nothing (a pending task is already claimable; workers poll).
create or replace function swarm.set_priority(task_id bigint, priority int)
returns text
language plpgsql volatile security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_status text;
begin
  if set_priority.priority is null or set_priority.priority not between -1000 and 1000 then
    perform swarm._invalid(format('priority %s is out of range -1000..1000', coalesce(set_priority.priority::text, 'null')),
                           'higher runs first; give a number from -1000 to 1000');
  end if;
  select task.status into v_status from swarm.agent_tasks as task where task.id = set_priority.task_id for update;
  if not found then
    perform swarm._unknown_task(set_priority.task_id);
  end if;
  if v_status in ('completed', 'failed', 'cancelled') then
    raise exception using errcode = 'SW003',
      message = format('task %s is already %s; its priority no longer matters', set_priority.task_id, v_status),
      detail = 'the priority of waiting, pending and running tasks can change',
      hint = format('retry it first: select swarm.retry_task(%s)', set_priority.task_id);
  end if;
  update swarm.agent_tasks as task
     set priority = set_priority.priority, updated_at = swarm.now()
   where task.id = set_priority.task_id and task.priority is distinct from set_priority.priority;
  return v_status;
end
$$;
comment on function swarm.set_priority(bigint, int) is 'change the priority of a waiting, pending or running task';
