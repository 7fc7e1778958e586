-- Dependencies: release, cancel and revive the tasks that wait for others.
-- Each waiting task keeps unmet_dependencies, the count of its dependencies not yet resolved,
-- so releasing a fan-in of 1,000 is 1,000 decrements, not 1,000 re-counts of 1,000 rows.

-- swarm._release_dependents: count resolved dependencies off their waiting dependents.
--   resolved:   completed tasks, and failed/cancelled ones for dependents under policy 'run'.
--   locks:      the waiting dependents FOR UPDATE in id order (every path locks dependents in id
--               order, so two completions sharing dependents cannot deadlock).
--   guarantees: a dependent whose count reaches 0 becomes pending in this transaction, with
--               run_after no earlier than now, and an 'unblocked' event.
--   notifies:   swarm_ready once per agent with a task claimable now.
create or replace function swarm._release_dependents(resolved bigint[], as_of timestamptz)
returns void
language plpgsql volatile
-- The dependents are found through agent_tasks_waiting_depends_on_idx (a GIN index: bitmap scans
-- only), whatever the statistics say: with 500 ids a custom plan estimated the GIN search above a
-- scan of the whole table and scanned it (measured: 13 ms a batch among 20,000 rows, growing with
-- the table, against 0.2 ms), and a plan made on a nearly empty table walked the primary key
-- for its id order. With sequential and plain index scans off, bitmap scans are what is left.
set enable_seqscan = off
set jit = off
set enable_indexscan = off
set plan_cache_mode = force_generic_plan
as $$
declare
  v_ready_agents text[];
begin
  perform 1 from swarm.agent_tasks as dependent
   where dependent.status = 'waiting' and dependent.depends_on && _release_dependents.resolved
   order by dependent.id
     for update;
  if not found then
    return;  -- the common case: nobody waits for these tasks
  end if;

  with hits as (
    select dependent.id,
           (select count(*) from unnest(dependent.depends_on) as dep
             where dep = any(_release_dependents.resolved))::int as resolved_now
      from swarm.agent_tasks as dependent
     where dependent.status = 'waiting' and dependent.depends_on && _release_dependents.resolved
  ), counted as (
    update swarm.agent_tasks as dependent
       set unmet_dependencies = greatest(dependent.unmet_dependencies - hits.resolved_now, 0),
           status = case when dependent.unmet_dependencies - hits.resolved_now <= 0 then 'pending' else 'waiting' end,
           run_after = case when dependent.unmet_dependencies - hits.resolved_now <= 0
                            then greatest(dependent.run_after, _release_dependents.as_of) else dependent.run_after end,
           updated_at = _release_dependents.as_of
      from hits
     where dependent.id = hits.id
    returning dependent.id, dependent.agent, dependent.run_after, dependent.status
  ), unblocked as (
    select counted.id, counted.agent, counted.run_after from counted where counted.status = 'pending'
  ), logged as (
    insert into swarm.task_events (task_id, at, event, detail)
    select unblocked.id, _release_dependents.as_of, 'unblocked',
           jsonb_build_object('to', 'pending', 'by', _release_dependents.resolved)
      from unblocked
  )
  select array_agg(distinct unblocked.agent) filter (where unblocked.run_after <= _release_dependents.as_of)
    into v_ready_agents
    from unblocked;
  perform swarm._notify_ready(v_ready_agents);
end
$$;

-- swarm._apply_dependency_failure: apply each waiting dependent's on_dependency_failure after
-- its dependency failed or was cancelled for good, transitively.
--   cancel:     the dependent is cancelled (cancelled_by_dependency records which dependency), and
--               its own dependents are handled in the next round.
--   run:        the failed dependency counts as resolved (see _release_dependents).
--   locks:      waiting dependents FOR UPDATE in id order, round by round down the graph.
--   why a loop: a chain of 10,000 cancels would overflow the stack if each level recursed.
create or replace function swarm._apply_dependency_failure(finished bigint[], as_of timestamptz)
returns void
language plpgsql volatile
-- Dependents through the GIN index, as _release_dependents.
set enable_seqscan = off
set jit = off
set enable_indexscan = off
set plan_cache_mode = force_generic_plan
as $$
declare
  v_frontier bigint[] := _apply_dependency_failure.finished;
begin
  while cardinality(v_frontier) > 0 loop
    perform 1 from swarm.agent_tasks as dependent
     where dependent.status = 'waiting' and dependent.depends_on && v_frontier
     order by dependent.id
       for update;

    with cancelled as (
      update swarm.agent_tasks as dependent
         set status = 'cancelled',
             finished_at = _apply_dependency_failure.as_of,
             updated_at = _apply_dependency_failure.as_of,
             cancelled_by_dependency = (select min(dep) from unnest(dependent.depends_on) as dep where dep = any(v_frontier)),
             cancel_reason = format('dependency %s failed or was cancelled',
                                    (select min(dep) from unnest(dependent.depends_on) as dep where dep = any(v_frontier)))
       where dependent.status = 'waiting' and dependent.on_dependency_failure = 'cancel'
         and dependent.depends_on && v_frontier
      returning dependent.id, dependent.cancelled_by_dependency
    ), logged as (
      insert into swarm.task_events (task_id, at, event, detail)
      select cancelled.id, _apply_dependency_failure.as_of, 'cancelled',
             jsonb_build_object('to', 'cancelled', 'dependency', cancelled.cancelled_by_dependency)
        from cancelled
    )
    select coalesce(array_agg(cancelled.id), '{}') into v_frontier from cancelled;

    -- Policy 'run': the dependencies that just failed count as resolved.
    perform swarm._release_dependents(_apply_dependency_failure.finished, _apply_dependency_failure.as_of);
    _apply_dependency_failure.finished := v_frontier;
  end loop;
end
$$;

-- swarm._revive_dependents: undo the cancellations that a task's failure caused, transitively
-- (retry_task of that task). A dependent that another failed dependency still blocks stays
-- cancelled and now names that one.
--   locks:  the cancelled dependents FOR UPDATE in id order; their dependencies FOR SHARE.
create or replace function swarm._revive_dependents(revived bigint[], as_of timestamptz)
returns void
language plpgsql volatile
as $$
declare
  v_frontier bigint[] := _revive_dependents.revived;
  v_next bigint[];
  v_dependent record;
  v_state record;
begin
  while cardinality(v_frontier) > 0 loop
    v_next := '{}';
    for v_dependent in
      select dependent.id, dependent.depends_on, dependent.on_dependency_failure
        from swarm.agent_tasks as dependent
       where dependent.status = 'cancelled' and dependent.cancelled_by_dependency = any(v_frontier)
       order by dependent.id
         for update
    loop
      v_state := swarm._dependency_state(v_dependent.depends_on, v_dependent.on_dependency_failure);
      if v_state.blocking is not null then
        update swarm.agent_tasks as dependent
           set cancelled_by_dependency = v_state.blocking, updated_at = _revive_dependents.as_of
         where dependent.id = v_dependent.id;
        continue;
      end if;
      update swarm.agent_tasks as dependent
         set status = case when v_state.unmet > 0 then 'waiting' else 'pending' end,
             unmet_dependencies = v_state.unmet,
             cancelled_by_dependency = null,
             cancel_reason = null,
             finished_at = null,
             run_after = greatest(dependent.run_after, _revive_dependents.as_of),
             updated_at = _revive_dependents.as_of
       where dependent.id = v_dependent.id;
      perform swarm._log(v_dependent.id, 'retry_scheduled', null, null,
        jsonb_build_object('to', case when v_state.unmet > 0 then 'waiting' else 'pending' end,
                           'revived_by', v_frontier), _revive_dependents.as_of);
      v_next := v_next || v_dependent.id;
    end loop;
    perform swarm._unresolve_for_dependents(v_next, _revive_dependents.as_of);
    v_frontier := v_next;
  end loop;
end
$$;

-- swarm._unresolve_for_dependents: failed or cancelled tasks that come back (retry_task, revival)
-- are unresolved again for their waiting dependents under policy 'run', which had counted the
-- failure as resolution; count them back in. (Dependents already released stay released.)
--   locks: those dependents FOR UPDATE in id order.
create or replace function swarm._unresolve_for_dependents(returned bigint[], as_of timestamptz)
returns void
language plpgsql volatile
-- Dependents through the GIN index, as _release_dependents.
set enable_seqscan = off
set jit = off
set enable_indexscan = off
set plan_cache_mode = force_generic_plan
as $$
begin
  perform 1 from swarm.agent_tasks as dependent
   where dependent.status = 'waiting' and dependent.on_dependency_failure = 'run'
     and dependent.depends_on && _unresolve_for_dependents.returned
   order by dependent.id
     for update;
  update swarm.agent_tasks as dependent
     set unmet_dependencies = dependent.unmet_dependencies
           + (select count(*) from unnest(dependent.depends_on) as dep
               where dep = any(_unresolve_for_dependents.returned))::int,
         updated_at = _unresolve_for_dependents.as_of
   where dependent.status = 'waiting' and dependent.on_dependency_failure = 'run'
     and dependent.depends_on && _unresolve_for_dependents.returned;
end
$$;

-- swarm.dependency_results: what a task's dependencies produced, for the worker to hand to the
-- agent (PGSWARM_DEPS_FILE).
--   locks:      nothing (a read).
--   guarantees: one object per dependency, in depends_on order: id, key, agent, status, result,
--               error; an empty array for a task without dependencies.
--   raises:     SW002 unknown task.
create or replace function swarm.dependency_results(task_id bigint)
returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, swarm
set enable_seqscan = off  -- plans made on an empty queue (docs/design.md#planner-pins)
set jit = off
as $$
declare
  v_depends_on bigint[];
begin
  select task.depends_on into v_depends_on from swarm.agent_tasks as task where task.id = dependency_results.task_id;
  if not found then
    perform swarm._unknown_task(dependency_results.task_id);
  end if;
  return coalesce((
    select jsonb_agg(jsonb_build_object('id', dep.id, 'key', dep.key, 'agent', dep.agent, 'status', dep.status,
                                        'result', dep.result, 'error', dep.error) order by ord.n)
      from unnest(v_depends_on) with ordinality as ord (id, n)
      join swarm.agent_tasks as dep on dep.id = ord.id), '[]'::jsonb);
end
$$;
comment on function swarm.dependency_results(bigint) is 'the results of a task''s dependencies, in depends_on order';
