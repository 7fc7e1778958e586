-- Schedules: cron rows (migrations/*_schedules.sql) that enqueue a task per slot, each slot exactly once.
--
-- A row of swarm.schedules is a cron expression (sql/15_cron.sql) in a time zone and the template
-- of the task it enqueues. The database keeps next_fire_at: set at INSERT, recomputed when cron,
-- timezone or enabled change, moved on by swarm.fire_schedules() in the transaction that enqueues
-- the slot. Nothing fires by itself: workers call fire_schedules() on a short timer and when the
-- earliest next_fire_at comes (pg_cron can call it too). With nobody calling, slots come due
-- and wait; catch_up decides what the next call does with them:
--   latest (default)  the latest due slot is enqueued once; the earlier ones are dropped
--   all               every due slot is enqueued, oldest first, at most 100 per schedule a call
--   none              due slots are dropped, except one that is on time (due at most 60 s ago)
-- Exactly once: a slot's task has the key 'schedule:<name>:<slot, UTC ISO 8601>', and the slot is
-- enqueued in the transaction that moves next_fire_at past it, under the schedule's row lock.
-- Who may do what (docs/sql-api.md): swarm_enqueue logins create schedules and change or drop
-- their own (created_by); changing another's is for the schema owner; workers fire them.

-- Seconds a slot may be late and still count as on time for catch_up = 'none'.
create or replace function swarm._schedule_grace() returns interval
language sql immutable
as $$ select interval '60 seconds' $$;

-- Slots enqueued per schedule and call under catch_up = 'all' (the rest in the next calls).
create or replace function swarm._schedule_batch() returns int
language sql immutable
as $$ select 100 $$;

-- swarm._slot_text: a slot as it appears in keys and metadata, e.g. 2026-03-08T07:00:00Z.
create or replace function swarm._slot_text(slot timestamptz) returns text
language sql immutable
as $$ select to_char($1 at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;

-- swarm._schedules_owner_only: a schedule is changed or dropped only by its creator, or by the
-- schema owner (the owner of swarm.schedules, its members, superusers). Runs as the caller, so
-- current_user is the login (or role) that asked.
--   raises: 42501 naming the schedule and its creator.
create or replace function swarm._schedules_owner_only() returns trigger
language plpgsql
as $$
declare
  v_owner text := (select pg_catalog.pg_get_userbyid(class.relowner) from pg_catalog.pg_class as class
                    where class.oid = tg_relid);
begin
  if old.created_by is distinct from current_user and not pg_catalog.pg_has_role(current_user, v_owner, 'USAGE') then
    raise exception using errcode = '42501',
      message = format('schedule %L belongs to %s; %s may not %s it', old.name, old.created_by, current_user,
                       case when tg_op = 'DELETE' then 'drop' else 'change' end),
      detail = 'a schedule is changed or dropped only by the login that created it, or by the schema owner',
      hint = format('ask %s or %s, or create a schedule of your own', old.created_by, v_owner);
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

create or replace trigger _050_schedules_owner_only
  before update of name, cron, timezone, prompt, agent, args, queue, priority, tags, metadata, timeout_seconds,
                   max_attempts, concurrency_key, enabled, catch_up, created_by
     or delete
  on swarm.schedules
  for each row execute function swarm._schedules_owner_only();

-- swarm._schedules_before_write: check a schedule as its tasks will be checked, fill the agent,
-- and keep next_fire_at.
--   guarantees: next_fire_at is the first slot after now while enabled (kept on an UPDATE that
--               changes neither cron, timezone nor enabled, so a due slot is not lost), null
--               while disabled.
--   raises:     SW001 unknown agent; SW005 naming the column: name, cron, timezone, prompt,
--               catch_up, metadata, and the task columns' bounds (queue, args, priority,
--               max_attempts, timeout_seconds), args the agent does not declare, a prompt over
--               its max_prompt_bytes.
create or replace function swarm._schedules_before_write() returns trigger
language plpgsql security definer set search_path = pg_catalog, swarm
as $$
declare
  v_now timestamptz := swarm.now();
  v_task swarm.agent_tasks;
  v_spec record;
begin
  if new.name is null or new.name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' then
    perform swarm._invalid(format('schedule name %L must be 1-100 letters, digits, ''.'', ''_'' or ''-'', '
                                  'starting with a letter or digit', new.name),
                           'for example ''nightly-report''');
  end if;
  v_spec := swarm._cron_parse(new.cron);
  if tg_op = 'INSERT' or new.timezone is distinct from old.timezone then
    perform swarm._check_timezone(new.timezone);
  end if;
  if new.prompt is null then
    perform swarm._invalid(format('prompt of schedule %L is null', new.name),
                           'give the task an instruction: insert into swarm.schedules (name, cron, prompt) values (...)');
  end if;
  if tg_op = 'INSERT' and new.agent is null then
    select settings.default_agent into new.agent from swarm.settings as settings;
  end if;
  if not exists (select 1 from swarm.agents as a where a.name = new.agent) then
    perform swarm._unknown_agent(new.agent);
  end if;
  v_task.queue := new.queue;
  v_task.args := new.args;
  v_task.priority := new.priority;
  v_task.on_dependency_failure := 'cancel';
  v_task.max_attempts := new.max_attempts;
  v_task.timeout_seconds := new.timeout_seconds;
  perform swarm._check_task_fields(v_task);
  v_task.agent := new.agent;  -- the agent's declared args and prompt size (sql/14_task_args.sql)
  v_task.prompt := new.prompt;
  perform swarm._check_task_args(v_task, a.task_args, a.max_prompt_bytes)
     from swarm.agents as a where a.name = new.agent;
  if jsonb_typeof(new.metadata) is distinct from 'object' then
    perform swarm._invalid(format('metadata must be a JSON object, not %s', coalesce(jsonb_typeof(new.metadata), 'null')),
                           'for example ''{"team": "infra"}''');
  end if;
  if new.catch_up is null or new.catch_up not in ('latest', 'all', 'none') then
    perform swarm._invalid(format('catch_up %L must be ''latest'', ''all'' or ''none''', new.catch_up),
                           'latest: after downtime enqueue the latest missed slot once; all: every missed slot; none: none');
  end if;
  if new.enabled is null then
    perform swarm._invalid('enabled is null', 'true (the default) or false');
  end if;

  if tg_op = 'INSERT' then
    new.created_at := v_now;
  end if;
  new.updated_at := v_now;
  if not new.enabled then
    new.next_fire_at := null;
  elsif tg_op = 'INSERT' or not old.enabled or new.cron is distinct from old.cron
        or new.timezone is distinct from old.timezone then
    new.next_fire_at := swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months,
                                            v_spec.weekdays, v_spec.day_or, v_spec.follows_clock,
                                            new.timezone, v_now);
  end if;
  return new;
end
$$;

create or replace trigger _100_schedules_before_write
  before insert or update of name, cron, timezone, prompt, agent, args, queue, priority, tags, metadata,
                             timeout_seconds, max_attempts, concurrency_key, enabled, catch_up
  on swarm.schedules
  for each row execute function swarm._schedules_before_write();

-- swarm._enqueue_slot: insert the task of one slot of a schedule (its key makes a second insert
-- of the same slot a no-op); the new task's id, or null when the slot's task already exists.
create or replace function swarm._enqueue_slot(schedule swarm.schedules, slot timestamptz, extra jsonb)
returns bigint
language plpgsql volatile
as $$
declare
  v_slot text := swarm._slot_text(_enqueue_slot.slot);
  v_id bigint;
begin
  perform set_config('swarm.api', 'on', true);  -- the task is the schedule owner's (created_by)
  insert into swarm.agent_tasks as task (key, queue, agent, prompt, args, priority, max_attempts, timeout_seconds,
                                         concurrency_key, tags, metadata, created_by)
  values (format('schedule:%s:%s', schedule.name, v_slot), schedule.queue, schedule.agent, schedule.prompt,
          schedule.args, schedule.priority, schedule.max_attempts, schedule.timeout_seconds,
          schedule.concurrency_key, schedule.tags,
          schedule.metadata || jsonb_build_object('schedule', schedule.name, 'slot', v_slot) || extra,
          schedule.created_by)
  on conflict on constraint agent_tasks_key_key do nothing
  returning task.id into v_id;
  perform set_config('swarm.api', '', true);
  return v_id;
end
$$;

-- swarm._cron_latest: the last slot at or before `upto`, given `first`, a slot at or before it.
-- Looks back from `upto` in windows 4 times longer each time until one holds a slot, then walks
-- forward slot by slot: a handful of steps after any downtime, where walking from `first` would
-- take one step per missed slot (43,200 for a month of a minutely schedule).
create or replace function swarm._cron_latest(minutes int[], hours int[], days int[], months int[],
                                              weekdays int[], day_or boolean, follows_clock boolean,
                                              timezone text, first timestamptz, upto timestamptz)
returns timestamptz
language plpgsql stable
as $$
declare
  v_span interval := interval '1 minute';
  v_slot timestamptz := first;
  v_next timestamptz;
begin
  while upto - v_span > first loop
    v_next := swarm._cron_next_at(minutes, hours, days, months, weekdays, day_or, follows_clock, timezone,
                                  upto - v_span);
    if v_next <= upto then
      v_slot := v_next;
      exit;
    end if;
    v_span := v_span * 4;
  end loop;
  loop
    v_next := swarm._cron_next_at(minutes, hours, days, months, weekdays, day_or, follows_clock, timezone, v_slot);
    exit when v_next > upto;
    v_slot := v_next;
  end loop;
  return v_slot;
end
$$;

-- swarm._fire_schedule: enqueue the due slots of one locked schedule by its catch_up policy and
-- move next_fire_at past them; the number of tasks enqueued.
create or replace function swarm._fire_schedule(schedule swarm.schedules, as_of timestamptz)
returns int
language plpgsql volatile
as $$
declare
  v_spec record := swarm._cron_parse(schedule.cron);
  v_slot timestamptz := schedule.next_fire_at;
  v_latest timestamptz;
  v_id bigint;
  v_fired int := 0;
  v_last_slot timestamptz := schedule.last_fired_at;
  v_last_id bigint := schedule.last_task_id;
begin
  if schedule.catch_up = 'all' then
    while v_slot <= _fire_schedule.as_of and v_fired < swarm._schedule_batch() loop
      v_id := swarm._enqueue_slot(schedule, v_slot, '{}');
      if v_id is not null then
        v_fired := v_fired + 1;
        v_last_slot := v_slot;
        v_last_id := v_id;
      end if;
      v_slot := swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                                    v_spec.day_or, v_spec.follows_clock, schedule.timezone, v_slot);
    end loop;
  else
    v_latest := swarm._cron_latest(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                                   v_spec.day_or, v_spec.follows_clock, schedule.timezone, v_slot,
                                   _fire_schedule.as_of);
    if schedule.catch_up = 'latest' or _fire_schedule.as_of - v_latest <= swarm._schedule_grace() then
      v_id := swarm._enqueue_slot(schedule, v_latest,
        case when v_latest > v_slot then jsonb_build_object('missed_since', swarm._slot_text(v_slot)) else '{}' end);
      if v_id is not null then
        v_fired := 1;
        v_last_slot := v_latest;
        v_last_id := v_id;
      end if;
    end if;
    v_slot := swarm._cron_next_at(v_spec.minutes, v_spec.hours, v_spec.days, v_spec.months, v_spec.weekdays,
                                  v_spec.day_or, v_spec.follows_clock, schedule.timezone, v_latest);
  end if;
  update swarm.schedules as s
     set next_fire_at = v_slot, last_fired_at = v_last_slot, last_task_id = v_last_id, last_error = null
   where s.name = schedule.name;
  return v_fired;
end
$$;

-- swarm.fire_schedules: enqueue every due slot of every enabled schedule, by its catch_up policy,
-- and move each schedule's next_fire_at past the slots it handled.
--   locks:      due schedule rows FOR UPDATE SKIP LOCKED, in next_fire_at order: a schedule being
--               fired by another session is left to it (which is safe when every worker calls
--               this at once; a locked row's next_fire_at is re-read once its lock is released).
--   guarantees: each slot enqueued exactly once, in the transaction that moves next_fire_at past
--               it, with the key 'schedule:<name>:<slot>' and metadata {schedule, slot}. A slot
--               whose task cannot be inserted (its template no longer passes the INSERT checks)
--               is skipped with the schedule's other due slots: last_error says why, a WARNING
--               is raised, and the other schedules fire.
--   raises:     nothing for a bad schedule (see above).   notifies: swarm_ready (by the inserts).
create or replace function swarm.fire_schedules() returns integer
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_now timestamptz := swarm.now();
  v_schedule swarm.schedules;
  v_fired int := 0;
  v_error text;
  v_next timestamptz;
begin
  for v_schedule in
    select s.* from swarm.schedules as s
     where s.enabled and s.next_fire_at <= v_now
     order by s.next_fire_at, s.name
       for update skip locked
  loop
    begin
      v_fired := v_fired + swarm._fire_schedule(v_schedule, v_now);
    exception when sqlstate 'SW000' or data_exception or integrity_constraint_violation then
      v_error := sqlerrm;
      begin
        v_next := swarm.cron_next(v_schedule.cron, v_now, v_schedule.timezone);
      exception when sqlstate 'SW000' then
        v_next := null;  -- the cron or time zone itself is bad: it fires again once fixed
      end;
      update swarm.schedules as s
         set next_fire_at = v_next, last_error = format('%s: %s', swarm._slot_text(v_schedule.next_fire_at), v_error)
       where s.name = v_schedule.name;
      raise warning 'schedule %: slot % not enqueued: %', v_schedule.name,
        swarm._slot_text(v_schedule.next_fire_at), v_error;
    end;
  end loop;
  return v_fired;
end
$$;
comment on function swarm.fire_schedules()
  is 'enqueue each due slot of every enabled schedule exactly once and move next_fire_at on; returns tasks enqueued';

-- swarm.next_schedule_at: the earliest next_fire_at of an enabled schedule (null if none): when a
-- worker next calls fire_schedules().
create or replace function swarm.next_schedule_at() returns timestamptz
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select min(s.next_fire_at) from swarm.schedules as s where s.enabled
$$;
comment on function swarm.next_schedule_at() is 'the earliest next_fire_at of the enabled schedules (a worker''s wake-up timer)';

-- swarm.run_schedule: enqueue a schedule's task now, once, outside its slots (next_fire_at stays).
--   runs as the caller, with the caller's INSERT privilege on swarm.agent_tasks.
--   guarantees: the task has metadata {schedule, slot: now, manual: true} and no key.
--   raises:     SW005 unknown schedule; as the INSERT does.   notifies: swarm_ready (by the insert).
create or replace function swarm.run_schedule(name text) returns bigint
language plpgsql volatile
as $$
declare
  v_schedule swarm.schedules;
  v_id bigint;
begin
  select s.* into v_schedule from swarm.schedules as s where s.name = run_schedule.name;
  if not found then
    raise exception using errcode = 'SW005', message = format('unknown schedule %L', run_schedule.name),
      hint = 'list them with: select name, cron, next_fire_at from swarm.schedules order by name';
  end if;
  insert into swarm.agent_tasks as task (queue, agent, prompt, args, priority, max_attempts, timeout_seconds,
                                         concurrency_key, tags, metadata)
  values (v_schedule.queue, v_schedule.agent, v_schedule.prompt, v_schedule.args, v_schedule.priority,
          v_schedule.max_attempts, v_schedule.timeout_seconds, v_schedule.concurrency_key, v_schedule.tags,
          v_schedule.metadata || jsonb_build_object('schedule', v_schedule.name, 'manual', true,
            'slot', to_char(swarm.now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))
  returning task.id into v_id;
  return v_id;
end
$$;
comment on function swarm.run_schedule(text) is 'enqueue a schedule''s task now, once (its next_fire_at stays)';
