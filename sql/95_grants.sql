-- Grants. New functions are executable by PUBLIC by default; take that back schema-wide, then
-- grant each role exactly its job. API functions that write are SECURITY DEFINER, so the roles
-- need no table privileges beyond the ones below.
--   swarm_enqueue: insert tasks (plain INSERT, swarm.enqueue, swarm.enqueue_many), cancel and
--                  retry them, read them (the archive too), wait for them (swarm.watch_task).
--   swarm_worker:  the worker's functions, read, insert follow-up tasks.
--   swarm_monitor: read everything (tasks, events, archive, agents, workers, the stats views).
-- docs/security.md has the whole matrix (tests/security/test_role_matrix.py tries every cell);
-- with swarm.settings.tenant_isolation on, row-level security confines swarm_enqueue to its own
-- tasks (sql/96_tenants.sql).

revoke all on all functions in schema swarm from public;
revoke all on all tables in schema swarm from swarm_enqueue, swarm_worker, swarm_monitor;
grant usage on schema swarm to swarm_enqueue, swarm_worker, swarm_monitor;
-- The claim index's expression is computed with the privileges of whoever inserts or updates a
-- task, so every role that may write tasks needs it; it is a pure function of two columns.
grant execute on function swarm._claim_rank(int, timestamptz) to public;
-- swarm.now() is inlined into the caller's statements (column defaults, the roles' own queries),
-- so whoever may call it calls the test-clock check too; it only says what time swarm.now() is.
grant execute on function swarm._test_clock() to public;
-- A new task's column default runs with the inserter's privileges (sql/10_tasks.sql).
grant execute on function swarm._default_agent() to swarm_enqueue, swarm_worker;

grant select on swarm.agent_tasks, swarm.task_events, swarm.agents, swarm.agent_tasks_archive,
  swarm.task_events_archive to swarm_enqueue, swarm_worker, swarm_monitor;
-- The attempt ledger and the day's spend: read by whoever may read tasks, and by monitoring;
-- written only by the API functions (security definer).
grant select on swarm.task_attempts, swarm.task_attempts_archive, swarm.agent_daily_spend, swarm.agent_prices
  to swarm_enqueue, swarm_worker, swarm_monitor;
grant insert (key, queue, agent, prompt, args, priority, depends_on, on_dependency_failure, parent_id,
              concurrency_key, run_after, max_attempts, timeout_seconds, tags, metadata)
  on swarm.agent_tasks to swarm_enqueue, swarm_worker;
grant execute on function swarm.now(), swarm.schema_version(), swarm.require_schema(int),
  swarm.enqueue(text, text, text, jsonb, int, bigint[], text, timestamptz, int, int, text, bigint, text, text[], jsonb)
  to swarm_enqueue, swarm_worker, swarm_monitor;
revoke execute on function
  swarm.enqueue(text, text, text, jsonb, int, bigint[], text, timestamptz, int, int, text, bigint, text, text[], jsonb)
  from swarm_monitor;
grant execute on function swarm.cancel_task(bigint, text), swarm.cancel_tasks(bigint[], text),
  swarm.retry_task(bigint), swarm.retry_tasks(bigint[]) to swarm_enqueue;
-- The tenant rule is read inside the row-level policies, with the reader's rights.
grant execute on function swarm._sees_all_tasks() to public;
-- The client's calls: a batch runs with the caller's rights (the INSERT grants above), a watch
-- sets one flag of a task the caller may read.
grant execute on function swarm.enqueue_many(jsonb), swarm.watch_task(bigint) to swarm_enqueue, swarm_worker;
grant execute on function swarm.priority(text) to swarm_enqueue, swarm_worker, swarm_monitor;
grant execute on function swarm._batch_task_columns(jsonb, jsonb), swarm._batch_field_kinds()
  to swarm_enqueue, swarm_worker;

grant execute on function
  swarm.claim_task(text, text[], text[], int, int, text, int, boolean),
  swarm.claim_or_wait(text, text[], text[], int, int, text, int, boolean),
  swarm.idle_check(text[], text[]),
  swarm.wake_channel(text),
  swarm.heartbeat(text, bigint[], int, uuid[]),
  swarm.complete_task(bigint, text, int, jsonb, int, text, text, numeric, bigint, bigint, text, uuid),
  swarm.fail_task(bigint, text, int, text, int, text, text, jsonb, numeric, bigint, bigint, int, boolean, text, text,
                  uuid),
  swarm.release_task(bigint, text, int, int, boolean, text, int, text, numeric, bigint, bigint, text, uuid),
  swarm.release_for_usage_limit(bigint, text, int, timestamptz, text, int, text, numeric, bigint, bigint, text,
                                uuid),
  swarm.record_session(bigint, text, int, text),
  swarm.reap_expired(),
  swarm.next_run_after(text[], text[]),
  swarm.pause_agent(text, timestamptz, text),
  swarm.register_worker(text, text, int, text[], text[], int, text),
  swarm.set_worker_quarantine(text, jsonb),
  swarm.stop_worker(text),
  swarm.complete_tasks(text, bigint[], int[], jsonb[], uuid[]),
  swarm.dependency_results(bigint)
  to swarm_worker;
grant select on swarm.workers to swarm_worker, swarm_monitor;
grant execute on function swarm.set_worker_allowed_args(text, text[]), swarm.declare_task_args(text, jsonb, text)
  to swarm_worker;

-- Live output (sql/46_live_output.sql): workers ship it; whoever may read tasks may read it.
grant execute on function swarm.ship_output(text, jsonb) to swarm_worker;
grant select on swarm.task_output to swarm_enqueue, swarm_worker, swarm_monitor;

-- Schedules: an enqueue login creates them (a schedule only creates tasks, which it may create
-- anyway), changes and drops its own (the owner-only trigger of sql/75_schedules.sql), and runs
-- any of them now; the database keeps next_fire_at, last_* and created_by. Workers fire them.
grant select, delete on swarm.schedules to swarm_enqueue;
grant insert (name, cron, timezone, prompt, agent, args, queue, priority, tags, metadata, timeout_seconds,
              max_attempts, concurrency_key, enabled, catch_up),
      update (name, cron, timezone, prompt, agent, args, queue, priority, tags, metadata, timeout_seconds,
              max_attempts, concurrency_key, enabled, catch_up)
  on swarm.schedules to swarm_enqueue;
grant execute on function swarm.run_schedule(text) to swarm_enqueue;
grant execute on function swarm.fire_schedules(), swarm.next_schedule_at() to swarm_worker;
grant execute on function swarm.cron_next(text, timestamptz, text) to swarm_enqueue, swarm_worker, swarm_monitor;

grant select on swarm.queue_stats, swarm.agent_stats, swarm.worker_stats to swarm_monitor;
grant execute on function swarm.stats(interval) to swarm_monitor;
-- Functions called inside views run with the caller's EXECUTE privilege.
grant execute on function swarm._spent_today(text, timestamptz), swarm._reserved_now(text),
  swarm._typical_cost(text) to swarm_monitor;
grant execute on function swarm._worker_alive(timestamptz, timestamptz, timestamptz) to swarm_monitor;
-- Why a task is pending: whoever may read tasks may read their reasons.
grant execute on function swarm.why_pending(bigint) to swarm_enqueue, swarm_worker, swarm_monitor;

-- pgswarm web: a server running as a non-owner login checks bearer tokens with this (it reveals
-- nothing but whether a given token works). Making and revoking tokens, and set_priority, stay
-- with the schema owner.
grant execute on function swarm.web_token_scope(text) to swarm_monitor, swarm_enqueue;
