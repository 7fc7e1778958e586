-- Releases that say more than "give it back": a usage limit pauses the agent cluster-wide and
-- releases the task in one transaction, so no worker can claim the task between the two, and a
-- worker that dies between them cannot leave a task released with its agent unpaused (or paused
-- with its task still running).

-- swarm.release_for_usage_limit: the agent hit its usage limit: pause it until `until` and give
-- the running task back without spending the attempt, in one transaction.
--   locks:      the agent row (the pause), then the task row (the release).
--   fenced by:  (worker, attempt, lease_token) for the release; the pause is a fact about the agent's
--               account and is applied even when the report is stale.
--   guarantees: as swarm.pause_agent (a pause never shortens a longer one; an `until` that the
--               database's clock already sees as past pauses for a minute) and swarm.release_task
--               (count_attempt = false, no delay: claims skip the paused agent anyway); the
--               attempt's usage and session go to its ledger row, so the next attempt resumes it.
--   raises:     SW002 unknown task, SW007 another login's worker (nothing paused).   notifies: swarm_ready (release_task), read only after the pause ends.
create or replace function swarm.release_for_usage_limit(task_id bigint, worker text, attempt int,
                                                         "until" timestamptz, reason text,
                                                         exit_code int default null, log_path text default null,
                                                         cost_usd numeric default null,
                                                         input_tokens bigint default null,
                                                         output_tokens bigint default null,
                                                         session_id text default null,
                                                         lease_token uuid default null)
returns table (accepted boolean, status text, message text, paused_until timestamptz)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_agent text;
  v_paused_until timestamptz;
begin
  if swarm._worker_of_another_login(release_for_usage_limit.worker) then
    perform swarm._check_worker_login(release_for_usage_limit.worker);
  end if;
  select task.agent into v_agent from swarm.agent_tasks as task where task.id = release_for_usage_limit.task_id;
  if not found then
    perform swarm._unknown_task(release_for_usage_limit.task_id);
  end if;
  v_paused_until := swarm.pause_agent(v_agent, greatest(release_for_usage_limit."until",
                                                        swarm.now() + interval '1 minute'),
                                      left(coalesce(release_for_usage_limit.reason, v_agent || ' usage limit'), 1000));
  return query
    select r.accepted, r.status, r.message, v_paused_until
      from swarm.release_task(task_id => release_for_usage_limit.task_id, worker => release_for_usage_limit.worker,
                              attempt => release_for_usage_limit.attempt, delay_seconds => 0,
                              count_attempt => false,
                              reason => coalesce(release_for_usage_limit.reason, 'usage limit'),
                              exit_code => release_for_usage_limit.exit_code,
                              log_path => release_for_usage_limit.log_path,
                              cost_usd => release_for_usage_limit.cost_usd,
                              input_tokens => release_for_usage_limit.input_tokens,
                              output_tokens => release_for_usage_limit.output_tokens,
                              session_id => release_for_usage_limit.session_id,
                              lease_token => release_for_usage_limit.lease_token) as r;
end
$$;
comment on function swarm.release_for_usage_limit(bigint, text, int, timestamptz, text, int, text, numeric, bigint,
                                                  bigint, text, uuid)
  is 'pause the agent for its usage limit and release the task without spending the attempt, in one transaction';
