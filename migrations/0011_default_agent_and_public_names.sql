-- 0011_default_agent_and_public_names: the seeds' own SQL, `INSERT INTO agent_tasks (prompt)
-- VALUES (...)`, as written.
--
-- The agent of a task inserted without one is the owner's choice, swarm.settings.default_agent:
-- the column loses its constant default, and the insert trigger (sql/10_tasks.sql) fills a null
-- agent from the setting (NOT NULL is checked after BEFORE triggers, so an INSERT that leaves
-- agent out, or gives null, gets the default agent; postgres_fdw sends null for a column it was
-- not given).
--
-- swarm.settings.public_names: whether migrate keeps public.agent_tasks, a view of
-- swarm.agent_tasks that makes the unqualified name work for every login with the default
-- search_path (sql/97_public_names.sql). On by default; `pgswarm migrate --no-public-names`
-- turns it off and the setting remembers it.
alter table swarm.agent_tasks alter column agent drop default;
alter table swarm.settings add column public_names boolean not null default true;
comment on column swarm.settings.default_agent is 'the agent of a task inserted without one';
comment on column swarm.settings.public_names is
  'whether migrate keeps the view public.agent_tasks (INSERT INTO agent_tasks unqualified)';
comment on table swarm.agent_tasks is
  'The queue: INSERT INTO swarm.agent_tasks (prompt) VALUES (...) enqueues a task for swarm.settings.default_agent.';
