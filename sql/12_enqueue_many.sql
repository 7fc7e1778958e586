-- Enqueueing for programs: priority names, and a batch of tasks in one call whose dependencies
-- name each other (the Python client, the CLI's pipelines, the MCP server and the REST API all
-- enqueue through swarm.enqueue_many). Every check is the INSERT's own (sql/10_tasks.sql).

-- swarm.priority: a priority name or number as the integer stored in agent_tasks.priority.
--   names:      critical 100, high 50, medium 0 (the default), low -50; or an integer
--               -1000..1000 written as text ('7', '-20'); case and surrounding blanks ignored.
--   raises:     SW005 an unknown name or a number out of range.
create or replace function swarm.priority(name text) returns int
language plpgsql immutable strict parallel safe
as $$
declare
  v_name text := lower(btrim(priority.name));
begin
  case v_name
    when 'critical' then return 100;
    when 'high' then return 50;
    when 'medium' then return 0;
    when 'low' then return -50;
    else
      if v_name ~ '^[+-]?[0-9]{1,9}$' then
        if v_name::int between -1000 and 1000 then
          return v_name::int;
        end if;
        perform swarm._invalid(format('priority %s is out of range -1000..1000', v_name));
      end if;
      raise exception using errcode = 'SW005', message = format('unknown priority %L', priority.name),
        detail = 'priorities: critical (100), high (50), medium (0), low (-50), or an integer -1000..1000',
        hint = 'for example swarm.priority(''high''); higher runs first';
  end case;
end
$$;
comment on function swarm.priority(text)
  is 'critical 100, high 50, medium 0, low -50, or an integer -1000..1000 as text';

-- swarm._batch_field_kinds: the fields a task object of swarm.enqueue_many may have, and the JSON
-- type of each ('integer' is a number without a fraction; 'priority' a number or a name;
-- 'references' an array of ids and names; 'strings' an array of strings).
create or replace function swarm._batch_field_kinds() returns jsonb
language sql immutable parallel safe
return '{"prompt": "string", "agent": "string", "queue": "string", "args": "object",
         "priority": "priority", "depends_on": "references", "key": "string", "ref": "string",
         "run_after": "string", "delay_seconds": "number", "max_attempts": "integer",
         "timeout_seconds": "integer", "concurrency_key": "string", "parent_id": "integer",
         "on_dependency_failure": "string", "tags": "strings", "metadata": "object"}'::jsonb;

-- swarm._batch_task_columns: one task object of a batch checked and turned into the columns of
-- an INSERT (a JSON object keyed by column name; fields left out or null are absent, so the
-- columns' defaults apply). Dependencies given by name are resolved against refs: a JSON object
-- of the names (ref or key) of the batch's earlier tasks and their ids.
--   raises:     SW005 unknown field, wrong type, both run_after and delay_seconds;
--               SW004 a dependency name that no earlier task of the batch and no task has.
create or replace function swarm._batch_task_columns(task jsonb, refs jsonb) returns jsonb
language plpgsql stable
set search_path = pg_catalog, swarm
as $$
declare
  v_kinds jsonb := swarm._batch_field_kinds();
  v_field record;
  v_kind text;
  v_type text;
  v_ok boolean;
  v_columns jsonb := '{}';
  v_deps bigint[] := '{}';
  v_dep jsonb;
  v_dep_id bigint;
begin
  if jsonb_typeof(_batch_task_columns.task) is distinct from 'object' then
    perform swarm._invalid(format('a task must be a JSON object, not %s',
                                  coalesce(jsonb_typeof(_batch_task_columns.task), 'null')),
                           'for example {"prompt": "fix the bug", "agent": "claude"}');
  end if;
  for v_field in select f.key, f.value from jsonb_each(_batch_task_columns.task) as f order by f.key loop
    v_kind := v_kinds ->> v_field.key;
    v_type := jsonb_typeof(v_field.value);
    if v_kind is null then
      perform swarm._invalid(format('unknown field %L', v_field.key),
        format('a task has: %s', (select string_agg(k, ', ' order by k) from jsonb_object_keys(v_kinds) as k)));
    end if;
    continue when v_type = 'null';
    v_ok := case v_kind
              when 'integer' then v_type = 'number' and v_field.value::text !~ '[.eE]'
              when 'priority' then v_type in ('number', 'string')
              when 'references' then v_type = 'array'
              when 'strings' then v_type = 'array'
              else v_type = v_kind end;
    if not v_ok then
      perform swarm._invalid(format('%s must be %s, not %s', v_field.key,
        case v_kind when 'integer' then 'an integer'
                    when 'priority' then 'a number or a name (critical, high, medium, low)'
                    when 'references' then 'an array of task ids and names' when 'strings' then 'an array of strings'
                    when 'object' then 'a JSON object' else 'a ' || v_kind end,
        left(v_field.value::text, 80)));
    end if;
    if v_kind = 'integer' and v_field.key <> 'parent_id'
       and (v_field.value::text)::numeric not between -2147483648 and 2147483647 then
      perform swarm._invalid(format('%s %s is out of range', v_field.key, v_field.value::text));
    end if;
    case v_field.key
      when 'ref' then null;  -- a name inside the batch only
      when 'priority' then
        v_columns := v_columns || jsonb_build_object('priority',
          swarm.priority(case when v_type = 'number' then v_field.value::text else v_field.value #>> '{}' end));
      when 'delay_seconds' then
        if jsonb_typeof(_batch_task_columns.task -> 'run_after') is distinct from 'null'
           and _batch_task_columns.task ? 'run_after' then
          perform swarm._invalid('give run_after or delay_seconds, not both');
        end if;
        v_columns := v_columns || jsonb_build_object('run_after',
          swarm.now() + make_interval(secs => greatest((v_field.value #>> '{}')::double precision, 0)));
      when 'tags' then
        if exists (select 1 from jsonb_array_elements(v_field.value) as t where jsonb_typeof(t) <> 'string') then
          perform swarm._invalid(format('tags must be an array of strings, not %s', left(v_field.value::text, 80)));
        end if;
        v_columns := v_columns || jsonb_build_object('tags', v_field.value);
      when 'depends_on' then
        for v_dep in select d from jsonb_array_elements(v_field.value) as d loop
          if jsonb_typeof(v_dep) = 'number' and v_dep::text !~ '[.eE]' then
            v_dep_id := v_dep::text::bigint;
          elsif jsonb_typeof(v_dep) = 'string' then
            v_dep_id := (_batch_task_columns.refs ->> (v_dep #>> '{}'))::bigint;
            if v_dep_id is null then
              select t.id into v_dep_id from swarm.agent_tasks as t where t.key = v_dep #>> '{}';
            end if;
            if v_dep_id is null then
              select t.id into v_dep_id from swarm.agent_tasks_archive as t where t.key = v_dep #>> '{}';
            end if;
            if v_dep_id is null then
              raise exception using errcode = 'SW004',
                message = format('unknown dependency %L: no earlier task of this batch has that ref or key, '
                                 'and no task has that key', v_dep #>> '{}'),
                hint = 'list a task after the tasks it depends on';
            end if;
          else
            perform swarm._invalid(format('depends_on entries are task ids or names, not %s', v_dep::text));
          end if;
          v_deps := v_deps || v_dep_id;
        end loop;
        v_columns := v_columns || jsonb_build_object('depends_on', to_jsonb(v_deps));
      else
        v_columns := v_columns || jsonb_build_object(v_field.key, v_field.value);
    end case;
  end loop;
  return v_columns;
end
$$;

-- swarm.enqueue_many: insert a batch of tasks in one call; a task may depend on earlier ones by name.
--   tasks:      a JSON array of objects with the columns a user sets (prompt, agent, queue, args,
--               priority, depends_on, key, run_after, max_attempts, timeout_seconds,
--               concurrency_key, parent_id, on_dependency_failure, tags, metadata) and two more:
--               delay_seconds (run_after = now + delay) and ref (a name for the task within the
--               batch). A field left out, or null, takes the column's default, as in an INSERT;
--               priority may be a name (swarm.priority). depends_on holds task ids and names: the
--               ref or key of an earlier task of the batch, else the key of an existing task.
--   returns:    one row per task, in order: ordinal (0-based), id, key, agent, status, created
--               (false: its key was taken; the existing task's row is returned, nothing inserted).
--   locks:      as the INSERTs do (dependency rows FOR SHARE); runs with the caller's rights.
--   guarantees: all tasks or none. An error names the task's place in the batch (and its ref).
--   raises:     SW005 unknown field, wrong type; SW004 unknown dependency; and what the INSERT
--               raises (SW001, SW002, SW004, SW005).
--   notifies:   swarm_ready, once per agent at commit (via the inserts).
create or replace function swarm.enqueue_many(tasks jsonb)
returns table (ordinal int, id bigint, key text, agent text, status text, created boolean)
language plpgsql volatile
set search_path = pg_catalog, swarm
as $$
declare
  v_task jsonb;
  v_columns jsonb;
  v_names text;
  v_refs jsonb := '{}';  -- ref or key of each task so far -> its id
  v_count int;
  v_where text := '';
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  if jsonb_typeof(enqueue_many.tasks) is distinct from 'array' then
    perform swarm._invalid(format('tasks must be a JSON array of task objects, not %s',
                                  coalesce(jsonb_typeof(enqueue_many.tasks), 'null')));
  end if;
  v_count := jsonb_array_length(enqueue_many.tasks);
  -- One exception block around the loop (one subtransaction a call, not one a task): it only
  -- adds the failing task's place to the message.
  begin
    for v_task, ordinal in
      select t.value, t.ordinality::int - 1 from jsonb_array_elements(enqueue_many.tasks) with ordinality as t
    loop
      if v_count > 1 then
        v_where := format('task %s of %s%s: ', ordinal + 1, v_count,
                          case when jsonb_typeof(v_task -> 'ref') = 'string' then format(' (%s)', v_task ->> 'ref')
                               else '' end);
      end if;
      v_columns := swarm._batch_task_columns(v_task, v_refs);
      created := true;
      id := null;
      if v_columns <> '{}' then
        select string_agg(quote_ident(c), ', ') into v_names from jsonb_object_keys(v_columns) as c;
        -- The columns given, and no others, so that the rest take their defaults.
        execute format('insert into swarm.agent_tasks as task (%1$s) '
                       'select %1$s from jsonb_populate_record(null::swarm.agent_tasks, $1) '
                       'on conflict (key) do nothing returning task.id, task.key, task.agent, task.status', v_names)
          using v_columns into id, key, agent, status;
      else
        insert into swarm.agent_tasks as task default values returning task.id, task.key, task.agent, task.status
          into id, key, agent, status;
      end if;
      if id is null then  -- the key was taken
        select t.id, t.key, t.agent, t.status, false into id, key, agent, status, created
          from swarm.agent_tasks as t where t.key = v_columns ->> 'key';
        if not found then  -- by a task this login may not see (tenants)
          perform swarm._invalid(format('key %L is taken by another login''s task', v_columns ->> 'key'),
                                 'choose another key');
        end if;
      end if;
      if jsonb_typeof(v_task -> 'ref') = 'string' then
        if v_refs ? (v_task ->> 'ref') and (v_refs ->> (v_task ->> 'ref'))::bigint <> id then
          perform swarm._invalid(format('ref %L names two tasks of the batch', v_task ->> 'ref'));
        end if;
        v_refs := v_refs || jsonb_build_object(v_task ->> 'ref', id);
      end if;
      if key is not null then
        v_refs := v_refs || jsonb_build_object(key, id);
      end if;
      return next;
    end loop;
  exception when others then
    get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail,
                            v_hint = pg_exception_hint;
    raise exception using errcode = v_state, message = v_where || v_message, detail = coalesce(v_detail, ''),
                          hint = coalesce(v_hint, '');
  end;
end
$$;
comment on function swarm.enqueue_many(jsonb)
  is 'insert a JSON array of tasks in one call (dependencies by ref or key within the batch); one row per task';
