-- pgswarm engine map
--
-- Tables (migrations/): swarm.agent_tasks (the queue), swarm.agents (profiles, caps, pauses),
-- swarm.task_events (append-only history), swarm.workers, swarm.idle_workers (whom an insert
-- wakes), swarm.agent_starts (rate window),
-- swarm.agent_tasks_archive + swarm.task_events_archive, swarm.schema_migrations,
-- swarm.task_output (live output of running attempts),
-- swarm.settings (the owner's: default agent, public names, test clock, tenants), swarm.agent_keys (each
-- worker's key for its attempts' task tokens),
-- swarm.web_tokens (pgswarm web's bearer tokens, hashed), swarm.schedules (cron rows, each
-- enqueuing a task per slot), swarm.task_attempts (+ _archive: one row per attempt),
-- swarm.agent_daily_spend (cost per agent and UTC day, for daily_budget_usd).
--
-- Functions by file:
--   00_helpers       swarm.now(), swarm.schema_version(), swarm.require_schema(), error and api-scope helpers
--   10_tasks         field and insert validation, status guard, 'created' events, swarm.enqueue()
--   12_enqueue_many  swarm.priority(), swarm.enqueue_many() (batches, dependencies by name)
--   14_task_args     args checked against swarm.agents.task_args, the arg policy: swarm.task_arg_needs(),
--                    swarm.declare_task_args(), swarm.set_worker_allowed_args()
--   15_cron          cron parsing and next fire times (DST rule in its header), swarm.cron_next()
--   20_claim         the claim's rules (_task_due, _agent_paused, ...), swarm.claim_task()
--   22_claim_floor   the claim floor (its invariant in the header), _claim_rank, _advance_claim_floor, triggers
--   24_why_pending   swarm.why_pending() (those rules read back as sentences)
--   30_lease         swarm.heartbeat(), swarm.reap_expired(), swarm.next_run_after()
--   40_outcome       swarm.complete_task(), swarm.complete_tasks(), swarm.fail_task(), swarm.release_task(),
--                    swarm._backoff()
--   42_attempts      the attempt ledger: rows closed by the reports, spend, sessions to resume,
--                    swarm.record_session()
--   45_releases      swarm.release_for_usage_limit() (pause and release in one transaction)
--   46_live_output   swarm.ship_output() (running attempts' output and progress, NOTIFY swarm_output)
--   50_dependencies  swarm._release_dependents(), swarm._apply_dependency_failure(), swarm._revive_dependents(),
--                    swarm.dependency_results()
--   60_agents        swarm.pause_agent(), swarm.resume_agent(), breaker bookkeeping
--   65_workers       swarm.register_worker(), swarm.stop_worker(), swarm.set_worker_quarantine()
--   66_wake          swarm.claim_or_wait(), swarm.idle_check(), swarm.wake_channel(), swarm._wake()
--   70_cancel        swarm.cancel_task(), swarm.retry_task(), swarm.cancel_tasks(), swarm.retry_tasks()
--   72_priority      swarm.set_priority()
--   75_schedules     schedule checks and next_fire_at, swarm.fire_schedules(), swarm.run_schedule(),
--                    swarm.next_schedule_at()
--   80_notify        swarm_ready on insert (statement trigger), swarm._notify_ready()
--   82_wait          swarm.watch_task(), swarm_finished when a watched task finishes
--   85_archive       swarm.archive(), swarm.archive_in_batches() (a procedure: COMMIT per batch)
--   87_agent_capability  what a running agent may do with its attempt's task token (role
--                    swarm_agent): swarm.agent_enqueue(), swarm.agent_dependency_results(),
--                    swarm.agent_children(), swarm.agent_report_progress(); swarm.register_agent_key()
--   88_web_tokens    swarm.create_web_token(), swarm.revoke_web_token(), swarm.web_token_scope()
--   90_stats         swarm.queue_stats, swarm.agent_stats, swarm.worker_stats, swarm.stats()
--   95_grants        swarm_enqueue, swarm_worker, swarm_monitor
--   96_tenants       swarm.settings.tenant_isolation: an enqueue login sees only its own tasks
--   97_public_names  public.agent_tasks (unqualified INSERT INTO agent_tasks), per swarm.settings
--
-- The path of a task:
--   INSERT -> waiting (unmet dependencies) | pending -> claim_task -> running
--   running -> complete_task -> completed (dependents released in the same transaction)
--   running -> fail_task -> pending (backoff) | failed (final; dependents cancelled or run)
--   running -> release_task / reap_expired -> pending (or failed when out of attempts)
--   waiting | pending -> cancel_task -> cancelled;  running -> cancel requested -> cancelled
--   failed | cancelled -> retry_task -> pending | waiting
--   a schedule's slot comes due -> fire_schedules -> INSERT (key schedule:<name>:<slot>)
--
-- Error codes (SQLSTATE class SW, mirrored in pgswarm/worker/errors.py):
--   SW001 unknown agent          SW002 unknown task          SW003 illegal status change
--   SW004 invalid dependency     SW005 invalid argument      SW006 schema older than required
--   SW007 worker name belongs to another login
--
-- Fake time for tests: `set swarm.now = '2030-01-01 00:00+00'` moves swarm.now() only in a
-- database whose owner enabled it (`update swarm.settings set test_clock = true`); anywhere else
-- any login could set it and expire leases, claim early or forge created_at. Every function
-- reads swarm.now() once into v_now.

-- swarm._test_clock: the session's swarm.now if swarm.settings.test_clock is on, now() otherwise.
-- SECURITY DEFINER: no role may read swarm.settings. Executable by every login (sql/95_grants.sql),
-- as swarm.now() is: it says nothing but the time swarm.now() would.
create or replace function swarm._test_clock() returns timestamptz
language sql stable parallel safe security definer set search_path = pg_catalog, swarm
as $$
  select case when (select s.test_clock from swarm.settings as s)
              then current_setting('swarm.now')::timestamptz else now() end
$$;

-- swarm.now: the current time, or the session's swarm.now when the owner enabled the test clock.
--   cost:       with swarm.now unset (production) a plain now(): the function is inlined and
--               swarm.settings is not read; only a session that set swarm.now pays for the
--               SECURITY DEFINER read of the setting.
create or replace function swarm.now() returns timestamptz
language sql stable parallel safe
as $$
  select case when coalesce(current_setting('swarm.now', true), '') = '' then now() else swarm._test_clock() end
$$;
comment on function swarm.now() is 'now(), or the swarm.now setting where the owner enabled swarm.settings.test_clock';

-- swarm.schema_version: the highest applied migration (workers refuse to run below theirs).
create or replace function swarm.schema_version() returns integer
language sql stable security definer set search_path = pg_catalog, swarm
as $$
  select coalesce(max(version), 0) from swarm.schema_migrations
$$;
comment on function swarm.schema_version() is 'highest applied migration number';

-- swarm.require_schema: the schema version, when it is at least the caller's (a worker, pgswarm web).
--   locks:      nothing.
--   guarantees: one rule for every face: a caller built for a newer schema is refused before it
--               calls functions this database does not have yet.
--   raises:     SW006 schema older than required (HINT: run pgswarm migrate).   notifies: nothing.
create or replace function swarm.require_schema(version int) returns integer
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
declare
  v_applied int := swarm.schema_version();
begin
  if v_applied < require_schema.version then
    raise exception 'the database schema is version %, this pgswarm needs %: run `pgswarm migrate`', v_applied, require_schema.version
      using errcode = 'SW006', detail = 'a worker or pgswarm web refuses to run on an older schema',
            hint = 'run `pgswarm migrate` with this pgswarm';
  end if;
  return v_applied;
end;
$$;
comment on function swarm.require_schema(int) is 'the schema version, or SW006 when older than the caller needs';

-- Inside the SQL API: each function that changes a status first runs
--   perform set_config('swarm.api', 'on', true)   and at its end   set_config('swarm.api', '', true)
-- (inlined rather than wrapped in a function: it runs twice per claim and per report). The status
-- guard lets a change through only while it is 'on'; hand-written UPDATEs of status are refused.
create or replace function swarm._in_api() returns boolean
language sql stable
as $$ select coalesce(current_setting('swarm.api', true), '') = 'on' $$;

-- swarm._invalid: raise SW005 with a message naming the argument and the rule.
create or replace function swarm._invalid(message text, hint text default null) returns void
language plpgsql
as $$
begin
  raise exception using errcode = 'SW005', message = message, hint = coalesce(hint, '');
end
$$;

-- swarm._unknown_task: raise SW002 for a task id that does not exist.
create or replace function swarm._unknown_task(task_id bigint) returns void
language plpgsql
as $$
begin
  raise exception using errcode = 'SW002', message = format('unknown task %s', task_id),
    hint = 'list tasks with: select id, status from swarm.agent_tasks order by id desc limit 20';
end
$$;

-- swarm._unknown_agent: raise SW001, with the way to register the agent in the hint.
create or replace function swarm._unknown_agent(agent text) returns void
language plpgsql
as $$
declare
  v_known text;
begin
  select string_agg(a.name, ', ' order by a.name) into v_known from swarm.agents as a;
  raise exception using errcode = 'SW001', message = format('unknown agent %L', agent),
    detail = format('known agents: %s', v_known),
    hint = format('register it: insert into swarm.agents (name) values (%L)', agent);
end
$$;

-- swarm._log: append one event to the history.
create or replace function swarm._log(task_id bigint, event text, worker text, attempt int, detail jsonb,
                                      at timestamptz)
returns void
language sql volatile
as $$
  insert into swarm.task_events (task_id, at, event, worker, attempt, detail)
  values ($1, $6, $2, $3, $4, coalesce($5, '{}'))
$$;
