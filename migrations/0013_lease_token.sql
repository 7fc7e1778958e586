-- 0013_lease_token: the fence binds an attempt to its claim's token and a worker name to its login.
-- agent_tasks.lease_token holds a digest of the running attempt's token (swarm._lease_digest): the
-- token itself is only ever in claim_task's answer, so a login that may read the queue cannot
-- read a token and report for another worker. workers.login is the session_user that registered
-- the name; claims, heartbeats and reports under that name from another login are refused.
alter table swarm.agent_tasks add column lease_token uuid;
comment on column swarm.agent_tasks.lease_token is
  'digest of the running attempt''s lease token (the token itself is returned by claim_task only)';
alter table swarm.workers add column login text;
comment on column swarm.workers.login is 'the login (session_user) that registered this worker name';

-- The heartbeat and the report functions take the token (a new last parameter, defaulted): drop
-- every signature they had; sql/ creates the new ones and sql/95_grants.sql grants them. (On a new
-- database sql/ has not run yet: nothing to drop.)
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure from pg_proc as p
     where p.pronamespace = 'swarm'::regnamespace
       and p.proname in ('heartbeat', 'complete_task', 'complete_tasks', 'fail_task', 'release_task',
                         'release_for_usage_limit', '_fence', '_stale_reason')
  loop
    execute format('drop function %s', v_function);
  end loop;
end
$$;
