-- Task arguments: what each agent takes (swarm.agents.task_args, migration 0020), checked at
-- INSERT, and which values widen what the agent may do (the arg policy: a worker passes them
-- only when its operator allowed them, `pgswarm worker --allow-arg NAME[=VALUE]`).

-- swarm._common_task_args: the arguments every agent takes; the worker reads them itself.
create or replace function swarm._common_task_args() returns jsonb
language sql immutable
as $$
  select '{
    "repo": {"type": "string"},
    "base": {"type": "string"},
    "worktree_keep": {"type": "string", "values": ["on_failure", "always", "never"]},
    "cwd": {"type": "string"},
    "resume_on_retry": {"type": "string", "values": ["auto", "always", "never"]},
    "idle_timeout_seconds": {"type": "integer", "min": 1},
    "swarm_tools": {"type": "boolean"},
    "max_budget_usd": {"type": "number"}}'::jsonb
$$;

-- swarm._is_confined_path: whether a path stays inside the task's directory: relative without
-- '..', or absolute under args.cwd or args.repo.
create or replace function swarm._is_confined_path(path text, args jsonb) returns boolean
language sql immutable
as $$
  select case
    when ('/' || path || '/') like '%/../%' then false
    when path like '~%' then false
    when path not like '/%' then true
    else exists (select 1 from (values (args ->> 'cwd'), (args ->> 'repo')) as root (dir)
                  where root.dir like '/%'
                    and ('/' || root.dir || '/') not like '%/../%'
                    and (path = rtrim(root.dir, '/')
                         or left(path, length(rtrim(root.dir, '/')) + 1) = rtrim(root.dir, '/') || '/'))
  end
$$;

-- swarm.task_arg_needs: check a task's args against its agent's declaration and say which
-- allowances (`NAME` or `NAME=VALUE`) a worker needs to run it.
--   reads:      nothing (the declaration is passed in: swarm.agents.task_args, null = any key).
--   guarantees: an empty array for args that widen nothing; a null value is unset (any key).
--   raises:     SW005 naming the key: unknown key (with the known ones), wrong type, a value not
--               allowed, a string starting with '-' (it would read as an option).
--   notifies:   nothing.
create or replace function swarm.task_arg_needs(agent text, args jsonb, declared jsonb) returns text[]
language plpgsql stable
as $$
declare
  v_common jsonb := swarm._common_task_args();
  v_key text;
  v_value jsonb;
  v_spec jsonb;
  v_type text;
  v_item jsonb;
  v_items jsonb;
  v_needs text[] := '{}';
  v_ok boolean;
  v_is_list boolean;
  v_index int;
begin
  for v_key, v_value in select entry.key, entry.value from jsonb_each(task_arg_needs.args) as entry loop
    -- null is unset, for any key (a pipeline step's way to drop a default's key)
    continue when jsonb_typeof(v_value) = 'null';
    v_spec := coalesce(v_common -> v_key, task_arg_needs.declared -> v_key);
    if v_spec is null then
      if task_arg_needs.declared is null then
        continue;  -- an agent without a declaration takes any key
      end if;
      perform swarm._invalid(
        format('unknown argument args.%s for agent %L', v_key, task_arg_needs.agent),
        format('%s takes: %s', task_arg_needs.agent,
               coalesce((select string_agg(k, ', ' order by k)
                           from jsonb_object_keys(task_arg_needs.declared || v_common) as k), 'none')));
    end if;
    v_type := v_spec ->> 'type';
    -- Plain expressions and integer loops only: a subquery would run as a query of its own for
    -- every key of every inserted row (measured: 3 args cut a bulk INSERT from 6,000 to 1,750 rows/s).
    v_is_list := jsonb_typeof(v_value) = 'array';
    v_items := case when v_is_list then v_value else jsonb_build_array(v_value) end;
    v_ok := case v_type
        when 'string' then jsonb_typeof(v_value) = 'string'
        when 'text' then jsonb_typeof(v_value) = 'string'
        when 'scalar' then jsonb_typeof(v_value) in ('string', 'number')
        when 'integer' then jsonb_typeof(v_value) = 'number' and (v_value #>> '{}')::numeric % 1 = 0
        when 'number' then jsonb_typeof(v_value) = 'number' and (v_value #>> '{}')::numeric > 0
        when 'boolean' then jsonb_typeof(v_value) = 'boolean'
        when 'object' then jsonb_typeof(v_value) = 'object'
        when 'string_or_object' then jsonb_typeof(v_value) in ('string', 'object')
        when 'strings_or_object' then jsonb_typeof(v_value) in ('string', 'object')
          or (v_is_list and jsonb_array_length(v_value) > 0)
        when 'strings' then jsonb_typeof(v_value) = 'string' or (v_is_list and jsonb_array_length(v_value) > 0)
        else true end;
    if v_ok and v_is_list then
      for v_index in 0 .. jsonb_array_length(v_value) - 1 loop
        v_ok := v_ok and jsonb_typeof(v_value -> v_index) = 'string';
      end loop;
    end if;
    if not v_ok then
      perform swarm._invalid(
        format('args.%s for agent %L must be %s, not %s', v_key, task_arg_needs.agent,
               case v_type when 'string' then 'a string' when 'text' then 'a string'
                           when 'integer' then 'an integer' when 'number' then 'a positive number'
                           when 'boolean' then 'true or false' when 'object' then 'a JSON object'
                           when 'string_or_object' then 'a string or a JSON object'
                           when 'strings_or_object' then 'a string, a list of strings or a JSON object'
                           when 'scalar' then 'a string or a number'
                           else 'a string or a non-empty list of strings' end,
               left(v_value::text, 80)),
        format('for example {"%s": %s}', v_key,
               case v_type when 'integer' then '10' when 'number' then '1.5' when 'boolean' then 'true'
                           when 'object' then '{}' when 'strings' then '["a", "b"]'
                           else coalesce((v_spec -> 'values' -> 0)::text, '"..."') end));
    end if;
    if v_type = 'integer' and (v_value #>> '{}')::numeric < coalesce((v_spec ->> 'min')::numeric, '-Infinity') then
      perform swarm._invalid(format('args.%s for agent %L must be at least %s, not %s', v_key,
                                    task_arg_needs.agent, v_spec ->> 'min', v_value));
    end if;
    for v_index in 0 .. jsonb_array_length(v_items) - 1 loop
      v_item := v_items -> v_index;
      if jsonb_typeof(v_item) = 'string'
         and v_type in ('string', 'strings', 'strings_or_object', 'string_or_object', 'scalar')
         and (v_item #>> '{}' = '' or v_item #>> '{}' like '-%') then
        perform swarm._invalid(format('args.%s for agent %L must not be empty or start with ''-'': %s',
                                      v_key, task_arg_needs.agent, left(v_item::text, 80)),
                               'a value starting with ''-'' would read as an option');
      end if;
      if v_spec ? 'values' and not (v_spec -> 'values') @> jsonb_build_array(v_item) then
        perform swarm._invalid(format('args.%s for agent %L cannot be %s', v_key, task_arg_needs.agent, v_item),
                               format('one of: %s', (select string_agg(e #>> '{}', ', ')
                                                      from jsonb_array_elements(v_spec -> 'values') as e)));
      end if;
      -- The arg policy: which values need the worker's --allow-arg.
      if jsonb_typeof(v_spec -> 'widens') = 'array' and (v_spec -> 'widens') @> jsonb_build_array(v_item) then
        v_needs := v_needs || (v_key || '=' || (v_item #>> '{}'));
      end if;
      if v_spec -> 'path' = 'true' and jsonb_typeof(v_item) = 'string'
         and not swarm._is_confined_path(v_item #>> '{}', task_arg_needs.args) then
        v_needs := v_needs || (v_key || '=' || (v_item #>> '{}'));
      end if;
    end loop;
    if v_spec -> 'widens' = 'true' then
      v_needs := v_needs || v_key;
    end if;
  end loop;
  return v_needs;
end
$$;
comment on function swarm.task_arg_needs(text, jsonb, jsonb)
  is 'check task args against an agent''s declaration; the allowances (NAME or NAME=VALUE) a worker needs';

-- swarm._check_task_args: the insert trigger's check of args and prompt; returns the task's
-- arg_allowances.
--   raises: SW005 (see task_arg_needs; a prompt null, blank or over max_prompt_bytes: _prompt_problem).
create or replace function swarm._check_task_args(task swarm.agent_tasks, declared jsonb, max_prompt_bytes int)
returns text[]
language plpgsql stable
as $$
declare
  v_problem text[] := swarm._prompt_problem(task.prompt, task.agent, _check_task_args.max_prompt_bytes);
begin
  if v_problem is not null then
    perform swarm._invalid(v_problem[1], v_problem[2]);
  end if;
  if task.args <> '{}' and jsonb_typeof(task.args) = 'object' then
    return swarm.task_arg_needs(task.agent, task.args, _check_task_args.declared);
  end if;
  return '{}';
end
$$;

-- swarm.declare_task_args: a worker declares the task arguments of a profile from its TOML file
-- (a built-in's under another name takes that built-in's declaration: like_agent; an argv
-- template, the {args.NAME} it fills: "scalar"), so that tasks for it are checked at INSERT.
--   locks:      the agent's row.
--   guarantees: only a declaration that is null changes: the operator's and the seed's stay.
--               Returns whether it was set.
--   raises:     SW001 unknown agent or like_agent; SW005 a declaration that is not an object.
--   notifies:   nothing.
create or replace function swarm.declare_task_args(agent text, task_args jsonb default null,
                                                   like_agent text default null)
returns boolean
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_args jsonb := declare_task_args.task_args;
begin
  if declare_task_args.like_agent is not null then
    select a.task_args into v_args from swarm.agents as a where a.name = declare_task_args.like_agent;
    if not found then
      perform swarm._unknown_agent(declare_task_args.like_agent);
    end if;
  end if;
  if v_args is null or jsonb_typeof(v_args) <> 'object' then
    return false;
  end if;
  update swarm.agents as a set task_args = v_args, updated_at = swarm.now()
   where a.name = declare_task_args.agent and a.task_args is null;
  if found then
    return true;
  end if;
  if not exists (select 1 from swarm.agents as a where a.name = declare_task_args.agent) then
    perform swarm._unknown_agent(declare_task_args.agent);
  end if;
  return false;
end
$$;
comment on function swarm.declare_task_args(text, jsonb, text)
  is 'declare the task arguments of an agent that has no declaration yet (a worker''s TOML profile)';

-- swarm._args_allowed: whether a worker allowed every allowance a task needs: NAME=VALUE by
-- itself, or NAME alone (every value of the argument).
create or replace function swarm._args_allowed(needs text[], allowed text[]) returns boolean
language sql immutable parallel safe
as $$
  select not exists (select 1 from unnest(needs) as need
                      where need <> all(allowed) and split_part(need, '=', 1) <> all(allowed))
$$;

-- swarm._worker_allowed_args: what a worker's operator allowed (swarm.workers.allowed_args);
-- nothing for a worker that never registered.
create or replace function swarm._worker_allowed_args(worker text) returns text[]
language sql stable
as $$
  select coalesce((select w.allowed_args from swarm.workers as w where w.name = _worker_allowed_args.worker), '{}')
$$;

-- swarm.set_worker_allowed_args: a worker records the argument values its operator allowed
-- (`pgswarm worker --allow-arg NAME[=VALUE]`, or [policy] allow_args); claim_task then hands it
-- tasks whose arg_allowances they cover, and only those.
--   locks:      the worker's row.
--   guarantees: the list replaces the previous one.
--   raises:     SW005 unknown worker, or an entry that is not NAME or NAME=VALUE.
--   notifies:   nothing.
create or replace function swarm.set_worker_allowed_args(worker text, allowed_args text[])
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_bad text;
begin
  select entry into v_bad from unnest(set_worker_allowed_args.allowed_args) as entry
   where entry is null or entry !~ '^[A-Za-z_][A-Za-z0-9_-]*(=.+)?$' limit 1;
  if found then
    perform swarm._invalid(format('allowed arg %L is not NAME or NAME=VALUE', v_bad),
                           'for example permission_mode=bypassPermissions, or add_dirs for any directory');
  end if;
  -- Only the login that registered the worker: another's could widen what that worker runs.
  perform swarm._check_worker_login(set_worker_allowed_args.worker);
  update swarm.workers as w set allowed_args = coalesce(set_worker_allowed_args.allowed_args, '{}')
   where w.name = set_worker_allowed_args.worker;
  if not found then
    perform swarm._invalid(format('unknown worker %L', set_worker_allowed_args.worker),
                           'call swarm.register_worker first');
  end if;
end
$$;
comment on function swarm.set_worker_allowed_args(text, text[])
  is 'record the argument values a worker''s operator allowed (the arg policy)';
