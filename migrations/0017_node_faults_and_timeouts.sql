-- Node-local faults and the timeout's precedence (issue 15).
--
-- swarm.workers.quarantined: the agents this worker stopped claiming because this node cannot
-- run them (executable missing, not logged in, offline, a fixed set-up error), as
-- {"agent": {"reason": ..., "kind": ..., "since": ..., "retry_at": ..., "faults": n}}; written by
-- swarm.set_worker_quarantine, read by `pgswarm doctor` and `top`. Cluster-wide pauses stay in
-- swarm.agents.
alter table swarm.workers add column quarantined jsonb not null default '{}'
  constraint workers_quarantined_is_object check (jsonb_typeof(quarantined) = 'object');

-- A task's timeout: its own timeout_seconds, else its agent's profile's, else 30 minutes. The
-- column's NOT NULL default of 1800 made every task carry a timeout of its own, so a profile's
-- timeout_seconds never applied. Null now means "not set by the task"; the claiming worker
-- resolves it (task > profile > 1800 s).
alter table swarm.agent_tasks alter column timeout_seconds drop default,
                              alter column timeout_seconds drop not null;
alter table swarm.agent_tasks_archive alter column timeout_seconds drop default,
                                      alter column timeout_seconds drop not null;
alter table swarm.schedules alter column timeout_seconds drop default,
                            alter column timeout_seconds drop not null;

-- swarm.fail_task gains `fault` (whose fault the failure is: only 'service' failures count
-- towards the circuit breaker); swarm.enqueue's timeout_seconds default becomes null. Both are
-- recreated by sql/ right after the migrations.
do $$
declare
  v_function regprocedure;
begin
  for v_function in
    select p.oid::regprocedure from pg_proc as p
     where p.pronamespace = 'swarm'::regnamespace and p.proname in ('fail_task', 'enqueue')
  loop
    execute format('drop function %s', v_function);
  end loop;
end
$$;
