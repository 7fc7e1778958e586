-- 0028_parameter_names: parameters are named as what they are, locals v_ (docs/design.md). The
-- internal functions that took the caller's clock reading as `v_now` take it as `as_of`; create
-- or replace cannot rename a parameter, so drop each old signature here and sql/ makes the new
-- one (no grants to restore: these are the engine's own, executable by no role). On a new
-- database sql/ has not run yet: nothing to drop.
drop function if exists swarm._add_spend(text, numeric, timestamptz);
drop function if exists swarm._agent_failed(text, timestamptz);
drop function if exists swarm._apply_dependency_failure(bigint[], timestamptz);
drop function if exists swarm._attempt_usage(swarm.agent_tasks, timestamptz, int, numeric, bigint, bigint, text, text);
drop function if exists swarm._claim_limited(text, text[], text[], text[], int, int, timestamptz, text, int, bigint);
drop function if exists swarm._end_attempt(swarm.agent_tasks, text, text, timestamptz);
drop function if exists swarm._fence(bigint, text, int, uuid, text, timestamptz);
drop function if exists swarm._fire_schedule(swarm.schedules, timestamptz);
drop function if exists swarm._release_dependents(bigint[], timestamptz);
drop function if exists swarm._revive_dependents(bigint[], timestamptz);
drop function if exists swarm._settle_attempt(swarm.agent_tasks, text, text, boolean, interval, timestamptz, boolean);
drop function if exists swarm._unresolve_for_dependents(bigint[], timestamptz);
