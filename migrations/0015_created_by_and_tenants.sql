-- 0015_created_by_and_tenants: who created each task, and the owner's tenant switch.
--
-- agent_tasks.created_by: the login (session_user) that inserted the task, set by the database:
-- the column default, and the insert trigger of sql/10_tasks.sql refuses another value from any
-- login but the schema owner (who may write a schedule's owner, say). No role is granted the
-- column. Tasks inserted before this migration keep null (unknown).
-- swarm.settings.tenant_isolation: off by default; on, a login holding only swarm_enqueue reads,
-- waits for, cancels and retries only the tasks it created (row-level security, sql/96_tenants.sql).
alter table swarm.agent_tasks add column created_by text;
alter table swarm.agent_tasks alter column created_by set default session_user;
alter table swarm.agent_tasks_archive add column created_by text;
comment on column swarm.agent_tasks.created_by is 'the login that inserted the task (set by the database)';
alter table swarm.settings add column tenant_isolation boolean not null default false;
comment on column swarm.settings.tenant_isolation is
  'whether an enqueue login sees, cancels and retries only the tasks it created (row-level security)';
