-- Tenants: swarm.settings.tenant_isolation confines a login that may only enqueue to the tasks it
-- created (agent_tasks.created_by, set by the database). Off by default: one team, one queue.
--
--   update swarm.settings set tenant_isolation = true;   -- as the schema owner
--
-- Who sees what, with it on:
--   swarm_enqueue (alone)   its own tasks: reads them and their events (row-level security,
--                           migrations/0016), cancels, retries and waits for them, depends on
--                           them and names them as --parent; another login's task is "unknown".
--                           Its own schedules only, too.
--   swarm_worker            every task (it runs them), as before.
--   swarm_monitor           every task (it watches the fleet), read only.
--   the schema owner        everything.
-- The SECURITY DEFINER functions bypass row-level security, so each of them that takes a task id
-- from a caller checks swarm._may_see_task first.

-- swarm._sees_all_tasks: whether the session's login reads every task (isolation off; or it holds
-- swarm_worker or swarm_monitor; or it owns the schema, superusers included). session_user, not
-- current_user: inside a SECURITY DEFINER function current_user is the owner. swarm_agent too: it
-- reads no table, and its functions (sql/87_agent_capability.sql) confine it to its own task's
-- tree, whose children belong to the task's creator.
create or replace function swarm._sees_all_tasks() returns boolean
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select not s.tenant_isolation
      or pg_has_role(session_user, 'swarm_worker', 'member')
      or pg_has_role(session_user, 'swarm_monitor', 'member')
      or pg_has_role(session_user, 'swarm_agent', 'member')
      or pg_has_role(session_user, (select c.relowner from pg_class as c where c.oid = 'swarm.agent_tasks'::regclass),
                     'member')
    from swarm.settings as s
$$;

-- swarm._may_see_task: the row-level rule for one task, for the functions that bypass it.
create or replace function swarm._may_see_task(created_by text) returns boolean
language sql stable
as $$
  select _may_see_task.created_by = session_user or swarm._sees_all_tasks()
$$;

-- swarm._check_task_visible: raise SW002 (unknown task) for a task the session's login may not see,
-- live or archived; exactly the answer for an id that does not exist, so nothing leaks.
create or replace function swarm._check_task_visible(task_id bigint) returns void
language plpgsql stable
as $$
begin
  if swarm._sees_all_tasks() then
    return;
  end if;
  if not exists (select 1 from swarm.agent_tasks as task
                  where task.id = _check_task_visible.task_id and task.created_by = session_user)
     and not exists (select 1 from swarm.agent_tasks_archive as task
                      where task.id = _check_task_visible.task_id and task.created_by = session_user) then
    perform swarm._unknown_task(_check_task_visible.task_id);
  end if;
end
$$;

-- The attempt ledger (migration 0018) and the live output (0022), numbered after the policies of
-- 0016, follow their tasks: their policies are made here, once, when missing.
do $$
declare
  v_table text;
  v_tasks text;
begin
  foreach v_table in array array['task_attempts', 'task_attempts_archive', 'task_output'] loop
    v_tasks := case v_table when 'task_attempts_archive' then 'agent_tasks_archive' else 'agent_tasks' end;
    if to_regclass('swarm.' || v_table) is not null
       and not exists (select 1 from pg_catalog.pg_policies as p
                        where p.schemaname = 'swarm' and p.tablename = v_table and p.policyname = 'tenant_rows') then
      execute format('alter table swarm.%I enable row level security', v_table);
      execute format('create policy tenant_rows on swarm.%1$I using ((select swarm._sees_all_tasks()) '
                     'or exists (select 1 from swarm.%2$I as task where task.id = %1$I.task_id))', v_table, v_tasks);
    end if;
  end loop;
  -- Schedules: a login reads, runs (swarm.run_schedule runs with the caller's rights), changes
  -- and drops only its own; workers fire them all (swarm.fire_schedules, as the owner).
  if not exists (select 1 from pg_catalog.pg_policies as p
                  where p.schemaname = 'swarm' and p.tablename = 'schedules' and p.policyname = 'tenant_rows') then
    alter table swarm.schedules enable row level security;
    create policy tenant_rows on swarm.schedules
      using ((select swarm._sees_all_tasks()) or created_by = current_user);
  end if;
end
$$;
