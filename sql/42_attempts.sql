-- The attempt ledger (swarm.task_attempts): claim_task opens a row per attempt, the report that
-- ends the attempt closes it in the same transaction (complete_task and complete_tasks in their
-- own statement; fail_task, release_task and reap_expired through _settle_attempt).
-- agent_tasks.cost_usd and its token columns are the sums over the attempts; each reported cost
-- is also added to swarm.agent_daily_spend, which the daily budget reads.

-- swarm._attempt_usage: record what an ending attempt reported (exit code, usage, session, log)
-- on its open ledger row, and add its cost to the agent's spend of the day. The row is closed
-- afterwards by _end_attempt (the outcome is decided by _settle_attempt).
--   locks: the attempt's ledger row, the agent's spend row of the day (when there is a cost).
create or replace function swarm._attempt_usage(task swarm.agent_tasks, as_of timestamptz, exit_code int,
                                                cost_usd numeric, input_tokens bigint, output_tokens bigint,
                                                session_id text, log_path text)
returns void
language plpgsql volatile
as $$
begin
  update swarm.task_attempts as ta
     set exit_code = coalesce(_attempt_usage.exit_code, ta.exit_code),
         cost_usd = coalesce(_attempt_usage.cost_usd, ta.cost_usd),
         input_tokens = coalesce(_attempt_usage.input_tokens, ta.input_tokens),
         output_tokens = coalesce(_attempt_usage.output_tokens, ta.output_tokens),
         session_id = coalesce(_attempt_usage.session_id, ta.session_id),
         log_path = coalesce(_attempt_usage.log_path, ta.log_path)
   where ta.task_id = task.id and ta.attempt = task.attempts and ta.finished_at is null;
  perform swarm._add_spend(task.agent, _attempt_usage.cost_usd, _attempt_usage.as_of);
end
$$;

-- swarm._add_spend: add a reported cost to the agent's spend of the UTC day (nothing for null or 0).
create or replace function swarm._add_spend(agent text, cost_usd numeric, as_of timestamptz) returns void
language plpgsql volatile
as $$
begin
  if coalesce(_add_spend.cost_usd, 0) <> 0 then
    insert into swarm.agent_daily_spend as spend (agent, day, cost_usd)
    values (_add_spend.agent, (_add_spend.as_of at time zone 'UTC')::date, _add_spend.cost_usd)
    on conflict on constraint agent_daily_spend_pkey do update set cost_usd = spend.cost_usd + excluded.cost_usd;
  end if;
end
$$;

-- swarm._end_attempt: close the open ledger row of the task's current attempt.
--   outcome: completed | failed | released | lease_expired | cancelled.
create or replace function swarm._end_attempt(task swarm.agent_tasks, outcome text, error text, as_of timestamptz)
returns void
language sql volatile
as $$
  update swarm.task_attempts as ta
     set finished_at = $4, outcome = $2, error = coalesce($3, ta.error)
   where ta.task_id = ($1).id and ta.attempt = ($1).attempts and ta.finished_at is null
$$;

-- swarm._resume_session: the agent session a new attempt of this task continues, per
-- args.resume_on_retry: 'auto' (the default) continues the last session when every attempt since
-- it was given back without an outcome (released: usage limit, exit 75, shutdown, node-local
-- fault; or its lease expired); 'always' continues the last session whatever became of it;
-- 'never' starts afresh. An agent keeps its sessions in files on the node that ran it
-- (~/.claude, ~/.codex, ~/.gemini), so only a claim from that host resumes one. Null when there
-- is no such session.
create or replace function swarm._resume_session(task_id bigint, mode text, hostname text) returns text
language sql stable
as $$
  select ta.session_id
    from swarm.task_attempts as ta
   where ta.task_id = $1 and ta.session_id is not null and ta.finished_at is not null
     and coalesce($2, 'auto') <> 'never'
     and ($3 is null or ta.hostname is null or ta.hostname = $3)
     and (coalesce($2, 'auto') = 'always'
          or not exists (select 1 from swarm.task_attempts as since
                          where since.task_id = $1 and since.id >= ta.id
                            and since.outcome not in ('released', 'lease_expired')))
   order by ta.id desc
   limit 1
$$;

-- swarm._plus: a running total plus a reported amount; null when nothing was ever reported.
create or replace function swarm._plus(total numeric, amount numeric) returns numeric
language sql immutable
as $$ select case when $2 is null then $1 else coalesce($1, 0) + $2 end $$;

create or replace function swarm._plus(total bigint, amount bigint) returns bigint
language sql immutable
as $$ select case when $2 is null then $1 else coalesce($1, 0) + $2 end $$;

-- swarm._priced_cost: what an attempt cost by its tokens at the agent's prices (swarm.agent_prices:
-- the row of the task's model, else the agent's default row ''); null without tokens or a price.
create or replace function swarm._priced_cost(agent text, model text, input_tokens bigint, output_tokens bigint)
returns numeric
language sql stable
as $$
  select round((coalesce($3, 0) * price.input_usd_per_mtok + coalesce($4, 0) * price.output_usd_per_mtok)
               / 1000000, 6)
    from swarm.agent_prices as price
   where price.agent = $1 and price.model in (coalesce($2, ''), '') and coalesce($3, $4) is not null
   order by price.model = '' limit 1
$$;

-- Budgets. daily_budget_usd holds what an agent may spend per UTC day: the spend reported so far
-- (swarm.agent_daily_spend) plus a reservation for every attempt still running, so that a burst
-- of claims cannot start more work than the budget has left. A claim reserves, per attempt, the
-- task's args.max_budget_usd, else the agent's typical cost (the median of its last 20 costs),
-- else, with no history yet, all that is left (one attempt at a time until a cost is known). The
-- report settles it: the reservation ends with the attempt and its real cost is spent.

-- swarm.record_session: the worker saw the agent session a running attempt runs in (agents print it
-- first), and records it at once, so that a later attempt resumes it even when this one never
-- reports (its worker died and its lease expired).
--   locks:      the attempt's ledger row.
--   fenced by:  (worker, attempt) of the running task, and the worker name's login (sql/30_lease.sql);
--               a stale call or another login's changes nothing.
--   guarantees: only the open row of the task's current attempt changes.
--   returns:    whether it was recorded.
--   raises:     nothing.   notifies: nothing.
create or replace function swarm.record_session(task_id bigint, worker text, attempt int, session_id text)
returns boolean
language sql volatile security definer set search_path = pg_catalog, swarm
as $$
  with recorded as (
    update swarm.task_attempts as ta set session_id = left($4, 200)
      from swarm.agent_tasks as task
     where task.id = $1 and task.status = 'running' and task.worker = $2 and task.attempts = $3
       and not swarm._worker_of_another_login($2)
       and ta.task_id = $1 and ta.attempt = $3 and ta.finished_at is null
    returning 1
  )
  select exists (select 1 from recorded)
$$;
comment on function swarm.record_session(bigint, text, int, text)
  is 'record the agent session a running attempt runs in (fenced by worker and attempt), for a later resume';
