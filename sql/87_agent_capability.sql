-- What a running agent may do (issue 16, defect 3): a per-attempt capability. The worker never
-- hands its own login to an agent. Each attempt gets a token (PGSWARM_TASK_TOKEN, with
-- PGSWARM_TASK_ID) that works only while that attempt runs; holders of the NOLOGIN role
-- swarm_agent call the functions below with it, and may: enqueue children of their own task,
-- read their dependencies' results and their children's outcomes, report progress. Nothing else.
--
-- The token is sha256(worker key || 'task:attempt:claim time in microseconds'), hex. The worker
-- makes a random key at start and registers it once (swarm.register_agent_key), so it computes a
-- token per attempt with no round trip; the functions here recompute it from the running row.
-- A new claim (a new attempt, or the same attempt claimed again after a release) has another
-- claim time, hence another token; a reported, released, reaped or cancel-requested attempt is
-- not running, or not for long, and its token is refused.

-- swarm._agent_token: the token of one attempt (hex), as the worker computes it.
create or replace function swarm._agent_token(key bytea, task_id bigint, attempt int, claimed_at timestamptz)
returns text
language sql immutable parallel safe
return encode(sha256(key || convert_to(format('%s:%s:%s', task_id, attempt,
  extract(epoch from date_trunc('second', claimed_at))::bigint * 1000000
  + extract(microseconds from claimed_at)::bigint % 1000000), 'UTF8')), 'hex');

-- swarm._agent_attempt: the running task a token was given for, or 42501 (the same refusal
-- whether the task does not exist, does not run, or the token is wrong: a token reveals nothing).
create or replace function swarm._agent_attempt(task_id bigint, token text)
returns swarm.agent_tasks
language plpgsql stable
set search_path = pg_catalog, swarm
as $$
declare
  v_task swarm.agent_tasks;
begin
  select task.* into v_task from swarm.agent_tasks as task where task.id = _agent_attempt.task_id;
  if not found or v_task.status <> 'running' or v_task.lease_expires_at <= swarm.now()
     or v_task.cancel_requested_at is not null or _agent_attempt.token is null
     or not exists (select 1 from swarm.agent_keys as k
                     where k.worker = v_task.worker
                       and swarm._agent_token(k.key, v_task.id, v_task.attempts, v_task.started_at)
                           = _agent_attempt.token) then
    raise exception using errcode = '42501',
      message = format('the task token for task %s is not valid', _agent_attempt.task_id),
      detail = 'a task token works only while the attempt it was given to runs (not after it reported, '
               'was released, cancelled or its lease expired), and only for that task',
      hint = 'agents find theirs in PGSWARM_TASK_TOKEN and PGSWARM_TASK_ID';
  end if;
  return v_task;
end
$$;

-- swarm.register_agent_key: a worker registers the key its attempts' tokens are made with.
--   locks:      the worker's row of swarm.agent_keys.
--   guarantees: the tokens of the worker's earlier key stop working (a restarted worker's agents
--               are gone); a worker name's key is changed only by the login that registered it.
--   raises:     SW005 empty name or a key shorter than 32 bytes; 42501 the name's key belongs to
--               another login.
--   notifies:   nothing.
create or replace function swarm.register_agent_key(worker text, key bytea)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_login name;
begin
  if register_agent_key.worker is null or register_agent_key.worker = '' then
    perform swarm._invalid('worker name must not be empty');
  end if;
  if register_agent_key.key is null or octet_length(register_agent_key.key) < 32 then
    perform swarm._invalid('an agent key must be at least 32 random bytes');
  end if;
  insert into swarm.agent_keys as k (worker, key, login)
  values (register_agent_key.worker, register_agent_key.key, session_user)
  on conflict on constraint agent_keys_pkey do update set key = excluded.key, registered_at = now()
   where k.login = excluded.login
  returning k.login into v_login;
  if v_login is null then
    raise exception using errcode = '42501',
      message = format('worker %s registered its agent key as another login', register_agent_key.worker),
      hint = 'give each worker login its own worker names (--name)';
  end if;
end
$$;
comment on function swarm.register_agent_key(text, bytea) is 'a worker''s key for its attempts'' task tokens';

-- swarm.agent_enqueue: enqueue children of the caller's own running task (swarm.enqueue_many's
-- batch format); parent_id is forced to that task.
--   locks:      as swarm.enqueue_many (the new rows; dependency rows FOR SHARE).
--   guarantees: every task of the batch is a child of task_id, none runs on the shell agent, and
--               each depends only on tasks of this family (task_id itself, its children, the batch's
--               earlier tasks by ref); all or nothing. The children's created_by is the parent's
--               (with tenants on, the login that enqueued the parent sees its agent's follow-ups).
--   raises:     42501 token not valid, a shell task, a dependency outside the family, another
--               parent, a key taken by a task outside the family; and what enqueue_many raises.
--   notifies:   swarm_ready, through the inserts.
create or replace function swarm.agent_enqueue(task_id bigint, token text, tasks jsonb)
returns table (ordinal int, id bigint, key text, agent text, status text, created boolean)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_parent swarm.agent_tasks := swarm._agent_attempt(agent_enqueue.task_id, agent_enqueue.token);
  v_batch jsonb := '[]';
  v_task jsonb;
  v_row record;
  v_outside bigint;
begin
  if jsonb_typeof(agent_enqueue.tasks) is distinct from 'array' then
    perform swarm._invalid(format('tasks must be a JSON array of task objects, not %s',
                                  coalesce(jsonb_typeof(agent_enqueue.tasks), 'null')));
  end if;
  for v_task in select t from jsonb_array_elements(agent_enqueue.tasks) as t loop
    if jsonb_typeof(v_task) = 'object' then
      if coalesce(jsonb_typeof(v_task -> 'parent_id'), 'null') <> 'null'
         and (v_task -> 'parent_id') <> to_jsonb(v_parent.id) then
        raise exception using errcode = '42501',
          message = format('an agent enqueues children of its own task %s only, not of task %s',
                           v_parent.id, v_task -> 'parent_id'),
          hint = 'leave parent_id out: it is set to the running task';
      end if;
      v_task := v_task || jsonb_build_object('parent_id', v_parent.id);
    end if;
    v_batch := v_batch || jsonb_build_array(v_task);
  end loop;
  for v_row in select * from swarm.enqueue_many(v_batch) as made loop
    if v_row.agent = 'shell' then
      raise exception using errcode = '42501',
        message = format('an agent cannot enqueue shell tasks (task %s of the batch)', v_row.ordinal + 1),
        detail = 'a shell task runs its prompt as a command on any worker started with --allow-shell',
        hint = 'name a coding agent (claude, codex, ...) in "agent"';
    end if;
    if not v_row.created and not exists (select 1 from swarm.agent_tasks as t
                                          where t.id = v_row.id and t.parent_id = v_parent.id) then
      raise exception using errcode = '42501',
        message = format('key %L of task %s of the batch is taken by a task that is not a child of task %s',
                         v_row.key, v_row.ordinal + 1, v_parent.id),
        hint = 'choose another key';
    end if;
    select dep into v_outside
      from swarm.agent_tasks as t, unnest(t.depends_on) as dep
     where t.id = v_row.id
       and dep <> v_parent.id
       and not exists (select 1 from swarm.agent_tasks as d where d.id = dep and d.parent_id = v_parent.id)
     limit 1;
    if v_outside is not null then
      raise exception using errcode = '42501',
        message = format('task %s of the batch depends on task %s, which is not task %s or one of its children',
                         v_row.ordinal + 1, v_outside, v_parent.id),
        hint = 'an agent''s tasks depend on its own task, its children or earlier tasks of the batch';
    end if;
    if v_row.created then  -- a child belongs to whoever created its parent (tenants: they see it)
      update swarm.agent_tasks as t set created_by = v_parent.created_by where t.id = v_row.id;
    end if;
    ordinal := v_row.ordinal;
    id := v_row.id;
    key := v_row.key;
    agent := v_row.agent;
    status := v_row.status;
    created := v_row.created;
    return next;
  end loop;
end
$$;
comment on function swarm.agent_enqueue(bigint, text, jsonb)
  is 'a running agent enqueues children of its own task (task token); one row per task';

-- swarm.agent_dependency_results: what the caller's own task's dependencies produced.
--   locks:      nothing (a read).
--   guarantees: as swarm.dependency_results, for the token's own task only.
--   raises:     42501 token not valid.
--   notifies:   nothing.
create or replace function swarm.agent_dependency_results(task_id bigint, token text)
returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
begin
  perform swarm._agent_attempt(agent_dependency_results.task_id, agent_dependency_results.token);
  return swarm.dependency_results(agent_dependency_results.task_id);
end
$$;
comment on function swarm.agent_dependency_results(bigint, text)
  is 'a running agent reads its own task''s dependencies'' results (task token)';

-- swarm.agent_children: the outcomes of the caller's own task's children.
--   locks:      nothing (a read).
--   guarantees: one object per child, oldest first: id, key, agent, status, result, error.
--   raises:     42501 token not valid.
--   notifies:   nothing.
create or replace function swarm.agent_children(task_id bigint, token text)
returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
begin
  perform swarm._agent_attempt(agent_children.task_id, agent_children.token);
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', child.id, 'key', child.key, 'agent', child.agent,
                                        'status', child.status, 'result', child.result, 'error', child.error)
                     order by child.id)
      from swarm.agent_tasks as child
     where child.parent_id = agent_children.task_id), '[]'::jsonb);
end
$$;
comment on function swarm.agent_children(bigint, text)
  is 'a running agent reads its own task''s children''s outcomes (task token)';

-- swarm.agent_report_progress: the caller's own task's progress, as the agent says it: the key
-- "agent" of agent_tasks.progress (the rest of it is the worker's, parsed from the agent's output).
--   locks:      the task's row.
--   guarantees: progress is a JSON object of at most 16 KiB; the last report wins; nothing else of
--               the task changes.
--   raises:     42501 token not valid; SW005 not an object, too large.
--   notifies:   nothing.
create or replace function swarm.agent_report_progress(task_id bigint, token text, progress jsonb)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
begin
  perform swarm._agent_attempt(agent_report_progress.task_id, agent_report_progress.token);
  if jsonb_typeof(agent_report_progress.progress) is distinct from 'object' then
    perform swarm._invalid(format('progress must be a JSON object, not %s',
                                  coalesce(jsonb_typeof(agent_report_progress.progress), 'null')),
                           'for example {"message": "tests pass", "percent": 60}');
  end if;
  if octet_length(agent_report_progress.progress::text) > 16384 then
    perform swarm._invalid(format('progress is %s bytes; at most 16384',
                                  octet_length(agent_report_progress.progress::text)));
  end if;
  update swarm.agent_tasks as task
     set progress = coalesce(task.progress, '{}') || jsonb_build_object('agent', agent_report_progress.progress),
         updated_at = now()
   where task.id = agent_report_progress.task_id;
end
$$;
comment on function swarm.agent_report_progress(bigint, text, jsonb)
  is 'a running agent reports its own task''s progress (task token)';

-- The agent role's grants live with its functions: swarm_agent holds these and nothing else
-- (sql/95_grants.sql takes every function back from PUBLIC). The worker registers its key.
grant usage on schema swarm to swarm_agent;
grant execute on function swarm.agent_enqueue(bigint, text, jsonb), swarm.agent_dependency_results(bigint, text),
  swarm.agent_children(bigint, text), swarm.agent_report_progress(bigint, text, jsonb)
  to swarm_agent;
grant execute on function swarm.register_agent_key(text, bytea) to swarm_worker;
