-- Tasks: what an INSERT into swarm.agent_tasks does, and which status changes are legal.
--
-- The state machine (every legal edge; the guard below refuses the rest):
--   waiting   -> pending     last dependency resolved (_release_dependents)
--   waiting   -> cancelled   cancel_task, or a dependency failed with on_dependency_failure = cancel
--   pending   -> running     claim_task
--   pending   -> cancelled   cancel_task
--   running   -> completed   complete_task
--   running   -> failed      fail_task / release_task / reap_expired, out of attempts or not retryable
--   running   -> cancelled   fail_task / release_task / reap_expired after cancel_task requested it
--   running   -> pending     fail_task (retry with backoff), release_task, reap_expired (lease expiry)
--   failed    -> pending     retry_task
--   cancelled -> pending     retry_task
--   cancelled -> waiting     retry_task (of the task, or of the dependency whose failure cancelled it)
-- Status changes happen only inside the SQL API; an UPDATE of status by hand is refused.

-- swarm._legal_transitions: the edges above, as data (a test compares them with this comment).
create or replace function swarm._legal_transitions() returns table (from_status text, to_status text)
language sql immutable
as $$
  values ('waiting', 'pending'), ('waiting', 'cancelled'),
         ('pending', 'running'), ('pending', 'cancelled'),
         ('running', 'completed'), ('running', 'failed'), ('running', 'cancelled'), ('running', 'pending'),
         ('failed', 'pending'), ('cancelled', 'pending'), ('cancelled', 'waiting')
$$;

-- swarm._dependency_state: how the dependencies of a task stand.
--   unmet:    dependencies not yet resolved (not completed, and not failed/cancelled under policy 'run')
--   blocking: a failed or cancelled dependency that cancels the task (policy 'cancel'), or null
--   missing:  ids that exist neither in agent_tasks nor in the archive
--   locks:    the live dependency rows FOR SHARE, so a dependency cannot finish between this
--             check and the commit of the dependent (its completion would miss the new row).
create or replace function swarm._dependency_state(depends_on bigint[], on_dependency_failure text,
                                                   out unmet int, out blocking bigint, out missing bigint[])
language plpgsql volatile
as $$
declare
  v_dep record;
  v_found bigint[] := '{}';
begin
  unmet := 0;
  for v_dep in
    select task.id, task.status from swarm.agent_tasks as task
     where task.id = any(_dependency_state.depends_on)
     order by task.id
       for share
  loop
    v_found := v_found || v_dep.id;
    if v_dep.status in ('failed', 'cancelled') then
      if _dependency_state.on_dependency_failure = 'cancel' and blocking is null then
        blocking := v_dep.id;
      end if;
    elsif v_dep.status <> 'completed' then
      unmet := unmet + 1;
    end if;
  end loop;
  if cardinality(v_found) < cardinality(_dependency_state.depends_on) then
    -- Archived tasks are terminal: completed ones are met, failed/cancelled ones block.
    for v_dep in
      select archived.id, archived.status from swarm.agent_tasks_archive as archived
       where archived.id = any(_dependency_state.depends_on) and archived.id <> all(v_found)
    loop
      v_found := v_found || v_dep.id;
      if v_dep.status <> 'completed' and _dependency_state.on_dependency_failure = 'cancel'
         and blocking is null then
        blocking := v_dep.id;
      end if;
    end loop;
  end if;
  select coalesce(array_agg(dep order by dep), '{}') into missing
    from unnest(_dependency_state.depends_on) as dep where dep <> all(v_found);
end
$$;

-- swarm._task_field_problem: the first bound the columns a user sets break, as the message and
-- hint of an SW005 that names the column, or null. The one statement of these rules: an INSERT (the
-- statement check below, every row at once), an UPDATE of those columns and a schedule's task
-- columns are checked by it. Plain SQL, so the planner inlines it into the statement check's query.
create or replace function swarm._task_field_problem(task swarm.agent_tasks) returns text[]
language sql stable
as $$
  select case
    when task.queue = '' then
      array['queue is empty', 'leave queue out for ''default'', or name one']
    when jsonb_typeof(task.args) <> 'object' then
      array[format('args must be a JSON object, not %s: %s', jsonb_typeof(task.args), left(task.args::text, 80)),
            'for example ''{"model": "sonnet"}''']
    when task.priority not between -1000 and 1000 then
      array[format('priority %s is out of range -1000..1000', task.priority), null]
    when task.on_dependency_failure not in ('cancel', 'run') then
      array[format('on_dependency_failure %L must be ''cancel'' or ''run''', task.on_dependency_failure), null]
    when task.max_attempts < 1 then
      array[format('max_attempts %s must be at least 1', task.max_attempts), null]
    when task.max_attempts > 1000 then
      array[format('max_attempts %s is more than 1000', task.max_attempts), null]
    when task.timeout_seconds <= 0 then
      array[format('timeout_seconds %s must be positive', task.timeout_seconds), null]
    when task.timeout_seconds > 604800 then
      array[format('timeout_seconds %s is more than 7 days (604800)', task.timeout_seconds), null]
    when not isfinite(task.run_after) then
      array[format('run_after %s is not a time', task.run_after), 'give a date and time, or leave run_after out for now']
    when octet_length(task.key) > 1000 then
      array[format('key is %s bytes long; at most 1000', octet_length(task.key)), null]
    when octet_length(task.concurrency_key) > 1000 then
      array[format('concurrency_key is %s bytes long; at most 1000', octet_length(task.concurrency_key)), null]
  end
$$;

-- swarm._check_task_fields: raise SW005 for the first bound a task's columns break (above).
create or replace function swarm._check_task_fields(task swarm.agent_tasks) returns void
language plpgsql stable
as $$
declare
  v_problem text[] := swarm._task_field_problem(task);
begin
  if v_problem is not null then
    perform swarm._invalid(v_problem[1], v_problem[2]);
  end if;
end
$$;

-- swarm._prompt_problem: what is wrong with a task's prompt for an agent that takes at most
-- max_prompt_bytes (message and hint of an SW005), or null: null, blank, or too long.
create or replace function swarm._prompt_problem(prompt text, agent text, max_prompt_bytes int) returns text[]
language sql stable
as $$
  select case
    when prompt is null or btrim(prompt, E' \t\r\n') = '' then
      array[format('prompt is %s (agent %L)', case when prompt is null then 'null' else 'empty' end, agent),
            'give the task an instruction: insert into swarm.agent_tasks (agent, prompt) values (...)']
    when octet_length(prompt) > max_prompt_bytes then
      array[format('prompt of %s bytes is over the %s-byte limit of agent %L', octet_length(prompt),
                   max_prompt_bytes, agent),
            format('put the material in a file the agent reads, or raise the limit: update swarm.agents set '
                   'max_prompt_bytes = %s where name = %L', octet_length(prompt), agent)]
  end
$$;

-- swarm._agent_tasks_check_fields: the same bounds for an UPDATE that sets those columns.
create or replace function swarm._agent_tasks_check_fields() returns trigger
language plpgsql
as $$
declare
  v_agent record;
begin
  perform swarm._check_task_fields(new);
  if new.args is distinct from old.args then
    select a.task_args into v_agent from swarm.agents as a where a.name = new.agent;
    new.arg_allowances := swarm._check_task_args(new, v_agent.task_args, 2147483647);
  end if;
  return new;
end
$$;

create or replace trigger _400_agent_tasks_check_fields
  before update of queue, args, priority, on_dependency_failure, max_attempts, timeout_seconds
  on swarm.agent_tasks
  for each row execute function swarm._agent_tasks_check_fields();

-- swarm._agent_tasks_before_insert: validate a new task and decide its first status.
--   runs:       only for a row that needs it (_new_task_needs_trigger); the others start
--               'pending' with the columns' defaults, and every row, this one too, is checked
--               once more by the statement trigger _agent_tasks_check_inserted below.
--   locks:      the dependency rows FOR SHARE (see _dependency_state).
--   guarantees: a task starts 'waiting' exactly when a dependency is unresolved, 'pending'
--               otherwise, or 'cancelled' when a dependency already failed under policy cancel.
--   raises:     SW001 unknown agent, SW002 unknown parent, SW003 status given, SW004 bad
--               dependency, SW005 bad argument (a field, an args key the agent does not
--               declare or of the wrong type, a prompt over its max_prompt_bytes).
--   defaults:   a null agent becomes swarm.settings.default_agent.
create or replace function swarm._agent_tasks_before_insert() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
declare
  v_now timestamptz := swarm.now();
  v_state record;
  v_agent record;  -- the agent's task_args and max_prompt_bytes (sql/14_task_args.sql)
begin
  if new.agent is null then  -- an explicit null: the owner's choice, as the column's default
    new.agent := swarm._default_agent();
  end if;
  select a.task_args, a.max_prompt_bytes into v_agent from swarm.agents as a where a.name = new.agent;
  if not found then
    perform swarm._unknown_agent(new.agent);
  end if;
  -- Who created the task is the database's to say: the login (session_user, also inside
  -- swarm.enqueue, which runs as the owner). No role may write the column; only the engine's
  -- own functions (a schedule's task is its owner's) may set another name.
  if new.created_by is distinct from session_user and not swarm._in_api() then
    perform swarm._invalid(format('created_by %L: the database records who created a task', new.created_by),
                           'leave created_by out of the INSERT');
  end if;
  perform swarm._check_task_fields(new);
  new.arg_allowances := swarm._check_task_args(new, v_agent.task_args, v_agent.max_prompt_bytes);
  if new.status is distinct from 'pending' then
    raise exception using errcode = 'SW003',
      message = format('a new task cannot be inserted as %L', new.status),
      detail = 'the database decides the first status: waiting (unmet dependencies) or pending',
      hint = 'leave status out of the INSERT';
  end if;
  if new.attempts <> 0 or new.worker is not null or new.lease_expires_at is not null then
    perform swarm._invalid('attempts, worker and lease_expires_at are maintained by the database',
                           'leave them out of the INSERT');
  end if;
  if new.parent_id is not null
     and not exists (select 1 from swarm.agent_tasks as t
                      where t.id = new.parent_id and swarm._may_see_task(t.created_by))
     and not exists (select 1 from swarm.agent_tasks_archive as t
                      where t.id = new.parent_id and swarm._may_see_task(t.created_by)) then
    raise exception using errcode = 'SW002', message = format('unknown parent task %s', new.parent_id);
  end if;

  new.run_after := coalesce(new.run_after, v_now);
  new.created_at := v_now;
  new.updated_at := v_now;
  new.unmet_dependencies := 0;
  new.cancel_requested_at := null;
  new.cancelled_by_dependency := null;
  new.free_releases := 0;

  if new.depends_on is null then
    new.depends_on := '{}';
  elsif cardinality(new.depends_on) > 0 then
    if array_position(new.depends_on, null) is not null then
      raise exception using errcode = 'SW004', message = 'depends_on contains null';
    end if;
    new.depends_on := array(select distinct dep from unnest(new.depends_on) as dep order by dep);
    if new.id = any(new.depends_on) then
      raise exception using errcode = 'SW004', message = format('task %s cannot depend on itself', new.id);
    end if;
    v_state := swarm._dependency_state(new.depends_on, new.on_dependency_failure);
    if not swarm._sees_all_tasks() then  -- tenants: another login's task counts as missing
      v_state.missing := v_state.missing || array(
        select dep from unnest(new.depends_on) as dep
         where dep <> all(v_state.missing)
           and not exists (select 1 from swarm.agent_tasks as t where t.id = dep and t.created_by = session_user)
           and not exists (select 1 from swarm.agent_tasks_archive as t
                            where t.id = dep and t.created_by = session_user)
         order by dep);
    end if;
    if cardinality(v_state.missing) > 0 then
      raise exception using errcode = 'SW004',
        message = format('unknown dependency: task %s does not exist', array_to_string(v_state.missing, ', ')),
        detail = 'a task can depend only on tasks that already exist',
        hint = 'insert the dependencies first (in the same transaction is fine)';
    end if;
    if v_state.blocking is not null then
      new.status := 'cancelled';
      new.cancelled_by_dependency := v_state.blocking;
      new.cancel_reason := format('dependency %s failed or was cancelled', v_state.blocking);
      new.finished_at := v_now;
    elsif v_state.unmet > 0 then
      new.status := 'waiting';
      new.unmet_dependencies := v_state.unmet;
    end if;
  end if;
  return new;
end
$$;

create or replace trigger _100_agent_tasks_before_insert
  before insert on swarm.agent_tasks
  for each row
  -- Only a row that needs it: a column the trigger decides was given (status, created_at,
  -- attempts, ...; the roles may not insert those), the agent is an explicit null (the default
  -- agent then), the task has args, dependencies or a parent, or a bound an index needs is broken
  -- (a priority would overflow the claim index's rank, a key pass the btree's row limit, before the
  -- statement check could name the column). A plain INSERT or COPY of prompts, with agent, queue,
  -- priority, key, tags, ..., takes the columns' defaults and the statement check below: no
  -- PL/pgSQL a row (bulk enqueue 2.3x faster, bench/enqueue_profile.py). Plain expressions, no
  -- function: a trigger's WHEN clause is not planned, so a SQL function in it would be planned
  -- anew by every statement. A null anywhere counts as needing the trigger. now(), not
  -- swarm.now(): under the test clock every row takes the trigger, which sets the clock's time.
  when (coalesce(new.agent is null or new.args <> '{}' or new.depends_on <> '{}' or new.parent_id is not null
                 or new.status <> 'pending' or new.attempts <> 0 or new.worker is not null
                 or new.lease_expires_at is not null or new.created_by <> session_user
                 or new.run_after is null or new.created_at <> now() or new.updated_at <> now()
                 or new.unmet_dependencies <> 0 or new.cancel_requested_at is not null
                 or new.cancelled_by_dependency is not null or new.free_releases <> 0
                 or new.priority not between -1000 and 1000 or coalesce(octet_length(new.key), 0) > 1000
                 or coalesce(octet_length(new.concurrency_key), 0) > 1000,
                 true))
  execute function swarm._agent_tasks_before_insert();

-- swarm._agent_tasks_check_inserted: after an INSERT (or COPY) statement, every new row checked
-- at once: its fields' bounds (_task_field_problem), its agent, its prompt.
--   locks:      the rows of the new tasks' agents FOR KEY SHARE until the transaction ends, so an
--               agent cannot be deleted or renamed under tasks not yet committed (as a foreign
--               key would; sql/60_agents.sql keeps the rest of one).
--   raises:     SW001 an unknown agent; SW005 a field out of bounds, a prompt null, blank or over
--               its agent's max_prompt_bytes. The statement then inserts nothing.
create or replace function swarm._agent_tasks_check_inserted() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
declare
  v_bad record;
begin
  perform from swarm.agents as a where a.name in (select i.agent from inserted as i) order by a.name for key share;
  select i.agent, a.name is not null as known,
         coalesce(swarm._task_field_problem(i), swarm._prompt_problem(i.prompt, i.agent, a.max_prompt_bytes)) as problem
    into v_bad
    from inserted as i left join swarm.agents as a on a.name = i.agent
   where a.name is null or swarm._task_field_problem(i) is not null
      or swarm._prompt_problem(i.prompt, i.agent, a.max_prompt_bytes) is not null
   limit 1;
  if not found then
    return null;
  elsif not v_bad.known then
    perform swarm._unknown_agent(v_bad.agent);
  end if;
  perform swarm._invalid(v_bad.problem[1], v_bad.problem[2]);
  return null;
end
$$;

create or replace trigger _150_agent_tasks_check_inserted
  after insert on swarm.agent_tasks
  referencing new table as inserted
  for each statement execute function swarm._agent_tasks_check_inserted();

-- swarm._default_agent: swarm.settings.default_agent, the agent column's default (a task that
-- names no agent). Created by migration 0030, which names it in the default. PL/pgSQL, whose
-- plan a session keeps: a SQL function in a column default is planned again by every INSERT.
create or replace function swarm._default_agent() returns text
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
begin
  return (select s.default_agent from swarm.settings as s);
end
$$;

-- swarm._agent_tasks_log_created: one 'created' event per inserted row, in one statement.
create or replace function swarm._agent_tasks_log_created() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
begin
  insert into swarm.task_events (task_id, at, event, detail)
  select inserted.id, inserted.created_at, 'created',
         jsonb_build_object('to', inserted.status, 'agent', inserted.agent, 'queue', inserted.queue)
    from inserted;
  return null;
end
$$;

create or replace trigger _200_agent_tasks_log_created
  after insert on swarm.agent_tasks
  referencing new table as inserted
  for each statement execute function swarm._agent_tasks_log_created();

-- swarm._agent_tasks_guard: refuse illegal status changes and any change of depends_on.
--   runs:   only for the updates its trigger's WHEN clause lets through (every change by hand of
--           status or depends_on; an API change only when it breaks the state machine), so the
--           API's claims and reports, many rows a statement in batches, never call a function here.
--   raises: SW003 illegal status change, SW004 depends_on changed.
create or replace function swarm._agent_tasks_guard() returns trigger
language plpgsql
as $$
begin
  if new.depends_on is distinct from old.depends_on then
    raise exception using errcode = 'SW004',
      message = format('depends_on of task %s cannot be changed', old.id),
      detail = 'dependencies are fixed at insert, which keeps the graph acyclic',
      hint = 'cancel the task and insert a new one with the dependencies you want';
  end if;
  if not exists (select 1 from swarm._legal_transitions() as edge
                  where edge.from_status = old.status and edge.to_status = new.status) then
    raise exception using errcode = 'SW003',
      message = format('illegal status change of task %s: %s -> %s', old.id, old.status, new.status),
      detail = format('status of task %s is %L; %s -> %s is not allowed', old.id, old.status, old.status, new.status),
      hint = case when old.status in ('failed', 'cancelled') then format('use select swarm.retry_task(%s)', old.id)
                  else format('use select swarm.cancel_task(%s) to stop it', old.id) end;
  end if;
  raise exception using errcode = 'SW003',
    message = format('status of task %s cannot be changed by UPDATE (%s -> %s)', old.id, old.status, new.status),
    detail = 'status changes go through the swarm.* functions, which keep events, leases and dependents right',
    hint = case when new.status = 'cancelled' then format('use select swarm.cancel_task(%s)', old.id)
                when new.status = 'pending' then format('use select swarm.retry_task(%s)', old.id)
                else 'use the swarm.* functions' end;
end
$$;

-- The WHEN clause is the guard's hot path: an expression, no function call (calling the
-- function for every row of a batch claim or report cost 7 % of batch throughput, measured).
-- It holds the edges of _legal_transitions() inlined; a test checks that they agree.
create or replace trigger _500_agent_tasks_guard
  before update of status, depends_on on swarm.agent_tasks
  for each row
  when (old.depends_on is distinct from new.depends_on
        or (old.status is distinct from new.status
            and (current_setting('swarm.api', true) is distinct from 'on'
                 or (old.status || '>' || new.status) <> all (array[
                      'waiting>pending', 'waiting>cancelled', 'pending>running', 'pending>cancelled',
                      'running>completed', 'running>failed', 'running>cancelled', 'running>pending',
                      'failed>pending', 'cancelled>pending', 'cancelled>waiting']))))
  execute function swarm._agent_tasks_guard();

-- swarm._agent_tasks_before_delete: a DELETE by hand of a task that others still wait for is
-- refused (they would wait forever); swarm.archive moves only finished tasks, which nobody waits for.
--   raises: SW004 naming the waiting dependents.
create or replace function swarm._agent_tasks_before_delete() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
declare
  v_waiting bigint[];
begin
  select array_agg(task.id order by task.id) into v_waiting
    from swarm.agent_tasks as task
   where task.status = 'waiting' and task.depends_on @> array[old.id];
  if v_waiting is not null then
    raise exception using errcode = 'SW004',
      message = format('task %s cannot be deleted: task %s %s for it', old.id,
                       array_to_string(v_waiting[1:10], ', ') || case when cardinality(v_waiting) > 10 then ', ...' else '' end,
                       case when cardinality(v_waiting) = 1 then 'waits' else 'wait' end),
      detail = 'a deleted dependency would leave its dependents waiting forever',
      hint = format('cancel it first (select swarm.cancel_task(%s)): its dependents follow their on_dependency_failure',
                    old.id);
  end if;
  return old;
end
$$;

create or replace trigger _500_agent_tasks_before_delete
  before delete on swarm.agent_tasks
  for each row
  when (current_setting('swarm.api', true) is distinct from 'on')
  execute function swarm._agent_tasks_before_delete();

-- swarm._task_events_append_only: the history is never rewritten (archive moves it inside the API).
create or replace function swarm._task_events_append_only() returns trigger
language plpgsql
as $$
begin
  if not swarm._in_api() then
    raise exception using errcode = 'SW003', message = 'swarm.task_events is append-only',
      hint = 'use swarm.archive(older_than) to move old history out of the way';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

create or replace trigger _500_task_events_append_only
  before update or delete on swarm.task_events
  for each row execute function swarm._task_events_append_only();

-- swarm.enqueue: insert one task; a convenience for SQL callers (a plain INSERT does the same).
--   guarantees: with a key already taken, nothing is inserted and the existing id is returned;
--               agent null (the default) is swarm.settings.default_agent.
--   raises:     as the INSERT does (SW001, SW004, SW005).   notifies: swarm_ready (via the insert).
create or replace function swarm.enqueue(
  prompt text,
  agent text default null,
  queue text default 'default',
  args jsonb default '{}',
  priority int default 0,
  depends_on bigint[] default '{}',
  key text default null,
  run_after timestamptz default null,
  max_attempts int default 3,
  timeout_seconds int default null,  -- null: the agent's profile's, else 1800 s (migration 0017)
  concurrency_key text default null,
  parent_id bigint default null,
  on_dependency_failure text default 'cancel',
  tags text[] default '{}',
  metadata jsonb default '{}')
returns bigint
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_id bigint;
begin
  insert into swarm.agent_tasks as task (prompt, agent, queue, args, priority, depends_on, key, run_after,
                                         max_attempts, timeout_seconds, concurrency_key, parent_id,
                                         on_dependency_failure, tags, metadata)
  values (enqueue.prompt, coalesce(enqueue.agent, swarm._default_agent()), enqueue.queue, coalesce(enqueue.args, '{}'), enqueue.priority,
          coalesce(enqueue.depends_on, '{}'), enqueue.key, coalesce(enqueue.run_after, swarm.now()),
          enqueue.max_attempts, enqueue.timeout_seconds, enqueue.concurrency_key, enqueue.parent_id,
          enqueue.on_dependency_failure, coalesce(enqueue.tags, '{}'), coalesce(enqueue.metadata, '{}'))
  on conflict on constraint agent_tasks_key_key do nothing
  returning task.id into v_id;
  if v_id is null then
    select task.id into v_id from swarm.agent_tasks as task
     where task.key = enqueue.key and swarm._may_see_task(task.created_by);
    if not found then
      perform swarm._invalid(format('key %L is taken by another login''s task', enqueue.key), 'choose another key');
    end if;
  end if;
  return v_id;
end
$$;
comment on function swarm.enqueue(text, text, text, jsonb, int, bigint[], text, timestamptz, int, int, text, bigint, text, text[], jsonb)
  is 'insert a task and return its id (the existing id when key is taken)';
