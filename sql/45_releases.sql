-- Releases that say more than "give it back": a usage limit pauses the agent cluster-wide and
-- releases the task in one transaction, so no worker can claim the task between the two, and a
-- worker that dies between them cannot leave a task released with its agent unpaused (or paused
-- with its task still running).

-- swarm.release_for_usage_limit: the agent hit its usage limit: pause it until `until` and give
-- the running task back without spending the attempt, in one transaction.
--   locks:      the agent row (the pause), then the task row (the release).
--   fenced by:  (worker, attempt) for the release; the pause is a fact about the agent's
--               account and is applied even when the report is stale.
--   guarantees: as swarm.pause_agent (a pause never shortens a longer one; an `until` that the
--               database's clock already sees as past pauses for a minute) and swarm.release_task
--               (count_attempt = false, no delay: claims skip the paused agent anyway).
--   raises:     SW002 unknown task.   notifies: swarm_ready (release_task), read only after the pause ends.
create or replace function swarm.release_for_usage_limit(task_id bigint, worker text, attempt int,
                                                         "until" timestamptz, reason text)
returns table (accepted boolean, status text, message text, paused_until timestamptz)
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_agent text;
  v_paused_until timestamptz;
begin
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
                              reason => coalesce(release_for_usage_limit.reason, 'usage limit')) as r;
end
$$;
comment on function swarm.release_for_usage_limit(bigint, text, int, timestamptz, text)
  is 'pause the agent for its usage limit and release the task without spending the attempt, in one transaction';
