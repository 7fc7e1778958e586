-- 0030_set_based_insert_checks: a plain INSERT no longer runs PL/pgSQL for each row (bulk enqueue
-- was 58 µs a row, half of it the row trigger and a tenth the foreign key's per-row lookup).
--  * The columns an INSERT leaves out take their values from defaults: the agent from
--    swarm.settings.default_agent (swarm._default_agent), created_at and updated_at from
--    swarm.now() (the test clock too). The row trigger runs only for a row that needs it (its WHEN
--    clause, sql/10_tasks.sql).
--  * The statement trigger _150_agent_tasks_check_inserted checks every new row at once (fields,
--    prompt, agent known): the foreign key agent_tasks.agent -> agents.name goes, and its two
--    other duties move to triggers on swarm.agents (a rename reaches the tasks; an agent with
--    tasks cannot be deleted). The engine holds the agent's row FOR KEY SHARE as the key did.
alter table swarm.agent_tasks drop constraint agent_tasks_agent_fkey;

-- Forced here (the column default below names it); its body is sql/10_tasks.sql's.
create function swarm._default_agent() returns text
language plpgsql stable security definer set search_path = pg_catalog, swarm
as $$
begin
  return (select s.default_agent from swarm.settings as s);
end
$$;
revoke execute on function swarm._default_agent() from public;

alter table swarm.agent_tasks
  alter column agent set default swarm._default_agent(),
  alter column created_at set default swarm.now(),
  alter column updated_at set default swarm.now();
