-- 0031_ledger_closes_in_place: closing an attempt's ledger row is a HOT update (a new version on
-- the same page, no index entry written). Before, finished_at was in the predicate of
-- task_attempts_open_idx, so every close wrote entries in the table's indexes: closing 1,000
-- rows took 9.8 ms of a batch completion's 41 ms (bench/results/drain-explain.txt).
--  * The open attempts an agent's budget holds are read through its running tasks
--    (agent_tasks_running_idx; an attempt is open exactly while its task runs it:
--    swarm._reserved_now, sql/20_claim.sql), so no index needs finished_at.
--  * Pages are filled to 40 %, leaving room for each row's closing version, which is larger than
--    the open one (measured on batches of 1,000: every close HOT at 40, 78 % at 50, none at the
--    default 100); pruning and vacuum free the old versions, a closed page stays about half full.
drop index swarm.task_attempts_open_idx;
alter table swarm.task_attempts set (fillfactor = 40);
