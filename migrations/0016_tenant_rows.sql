-- 0016_tenant_rows: row-level security on the tasks and their history, for
-- swarm.settings.tenant_isolation (0015). Off (the default), every row is visible to whoever may
-- read the table, as before. On, a login that holds neither swarm_worker nor swarm_monitor (nor
-- owns the schema) sees only the tasks it created, and their events.
--
-- The schema owner bypasses row-level security, and so do the SECURITY DEFINER functions (claims,
-- reports, cancel, retry, watch, enqueue): those apply the same rule themselves
-- (swarm._may_see_task, sql/96_tenants.sql). swarm._sees_all_tasks is created here first because
-- the policies name it; sql/96_tenants.sql keeps its definition.
create or replace function swarm._sees_all_tasks() returns boolean
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select not s.tenant_isolation
      or pg_has_role(session_user, 'swarm_worker', 'member')
      or pg_has_role(session_user, 'swarm_monitor', 'member')
      or pg_has_role(session_user, (select c.relowner from pg_class as c where c.oid = 'swarm.agent_tasks'::regclass),
                     'member')
    from swarm.settings as s
$$;
grant execute on function swarm._sees_all_tasks() to public;

-- (select ...): evaluated once per statement, not once per row.
alter table swarm.agent_tasks enable row level security;
create policy tenant_rows on swarm.agent_tasks
  using ((select swarm._sees_all_tasks()) or created_by = session_user);
alter table swarm.agent_tasks_archive enable row level security;
create policy tenant_rows on swarm.agent_tasks_archive
  using ((select swarm._sees_all_tasks()) or created_by = session_user);
alter table swarm.task_events enable row level security;
create policy tenant_rows on swarm.task_events
  using ((select swarm._sees_all_tasks())
         or exists (select 1 from swarm.agent_tasks as task where task.id = task_events.task_id));
alter table swarm.task_events_archive enable row level security;
create policy tenant_rows on swarm.task_events_archive
  using ((select swarm._sees_all_tasks())
         or exists (select 1 from swarm.agent_tasks_archive as task where task.id = task_events_archive.task_id));
