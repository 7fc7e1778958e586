-- 0020_agent_task_args: each agent declares the task arguments it takes, and how big a prompt
-- it accepts; the insert trigger (sql/10_tasks.sql, sql/14_task_args.sql) refuses the rest.
--
-- swarm.agents.task_args: {"arg": {"type": ..., "values": [...], "min": n, "path": true,
--   "widens": true | [values]}, ...}; null = not declared (any key is
-- accepted; the arguments every agent shares are still checked). Types: string (not empty, not
-- starting with '-'), text (any string), integer, number (positive), boolean, strings (a string
-- or a list of strings), object, string_or_object, strings_or_object.
-- "path": the values are paths: one outside the task's working directory widens what the agent
-- may do. "widens": the values (or, with true, every value) that need the worker's
-- --allow-arg (the arg policy, docs in README "The arg policy").
-- swarm.agents.max_prompt_bytes: the largest prompt (in bytes, UTF-8) an INSERT accepts.
alter table swarm.agents add column task_args jsonb
  constraint agents_task_args_is_object check (jsonb_typeof(task_args) = 'object');
alter table swarm.agents add column max_prompt_bytes int not null default 1048576
  constraint agents_max_prompt_bytes_positive check (max_prompt_bytes > 0);
comment on column swarm.agents.task_args is
  'the task arguments this agent takes (name -> type, allowed values, widening values); null = any';
comment on column swarm.agents.max_prompt_bytes is 'the largest prompt an INSERT accepts for this agent (bytes)';

update swarm.agents as a set task_args = d.task_args::jsonb
  from (values
  ('claude', '{
    "model": {"type": "string"},
    "fallback_model": {"type": "string"},
    "max_turns": {"type": "integer", "min": 1},
    "allowed_tools": {"type": "strings"},
    "disallowed_tools": {"type": "strings"},
    "permission_mode": {"type": "string",
                        "values": ["acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan"],
                        "widens": ["bypassPermissions", "auto"]},
    "system_prompt": {"type": "text"},
    "append_system_prompt": {"type": "text"},
    "resume": {"type": "string"},
    "add_dirs": {"type": "strings", "path": true},
    "effort": {"type": "string", "values": ["low", "medium", "high", "xhigh", "max"]},
    "mcp_config": {"type": "strings_or_object", "widens": true},
    "strict_mcp_config": {"type": "boolean"},
    "settings": {"type": "string_or_object", "widens": true},
    "json_schema": {"type": "string_or_object"}}'),
  ('codex', '{
    "model": {"type": "string"},
    "profile": {"type": "string"},
    "sandbox": {"type": "string", "values": ["read-only", "workspace-write", "danger-full-access"],
                "widens": ["danger-full-access"]},
    "skip_git_repo_check": {"type": "boolean"},
    "add_dirs": {"type": "strings", "path": true},
    "config": {"type": "object", "widens": true},
    "output_schema": {"type": "string", "path": true}}'),
  ('gemini', '{
    "model": {"type": "string"},
    "approval_mode": {"type": "string", "values": ["default", "auto_edit", "yolo", "plan"], "widens": ["yolo"]},
    "include_directories": {"type": "strings", "path": true},
    "skip_trust": {"type": "boolean"}}'),
  ('aider', '{
    "model": {"type": "string"},
    "files": {"type": "strings", "path": true},
    "read": {"type": "strings", "path": true},
    "edit_format": {"type": "string"}}'),
  ('opencode', '{
    "model": {"type": "string"},
    "agent": {"type": "string"},
    "files": {"type": "strings", "path": true}}'),
  ('cursor', '{
    "model": {"type": "string"},
    "force": {"type": "boolean", "widens": [true]}}'),
  ('shell', '{}')
  ) as d (name, task_args)
 where a.name = d.name;

update swarm.agents set description = 'opencode (opencode run)' where name = 'opencode'
   and description = 'opencode (profile defined in the worker TOML file)';
update swarm.agents set description = 'Cursor agent (cursor-agent -p)' where name = 'cursor'
   and description = 'Cursor agent (profile defined in the worker TOML file)';
