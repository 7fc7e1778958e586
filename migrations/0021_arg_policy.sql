-- 0021_arg_policy: the arg policy (sql/14_task_args.sql). A task records at INSERT which
-- allowances its args need (values that widen what the agent may do: claude
-- permission_mode=bypassPermissions, codex sandbox=danger-full-access, a path outside the task's
-- directory, ...); a worker records what its operator allowed (`pgswarm worker --allow-arg`,
-- or [policy] allow_args in its TOML file); claim_task hands a task only to a worker allowed
-- all of them. The archive keeps the column (it copies by name).
alter table swarm.agent_tasks add column arg_allowances text[] not null default '{}';
alter table swarm.agent_tasks_archive add column arg_allowances text[] not null default '{}';
comment on column swarm.agent_tasks.arg_allowances is
  'what a worker must be allowed (--allow-arg NAME or NAME=VALUE) to run this task; set from args at insert';
alter table swarm.workers add column allowed_args text[] not null default '{}';
comment on column swarm.workers.allowed_args is
  'the worker''s --allow-arg list: NAME (any value) or NAME=VALUE';
