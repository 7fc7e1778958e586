-- 0012_task_watch: a task someone waits for says when it finishes.
--
-- swarm.watch_task(id) (sql/82_wait.sql) sets watched; the update that makes a watched task
-- completed, failed or cancelled then sends NOTIFY swarm_finished with its id. A column read in a
-- trigger's WHEN clause costs the reports nothing measurable; a trigger function that looked the
-- task up in a table of watches ran on every finished task and cost 15 % of batch completions
-- (52,700 instead of 61,800 completions/s, best of 16 runs of 20,000 each).
alter table swarm.agent_tasks add column watched boolean not null default false;
comment on column swarm.agent_tasks.watched is
  'someone waits for this task (swarm.watch_task): finishing it sends NOTIFY swarm_finished';
