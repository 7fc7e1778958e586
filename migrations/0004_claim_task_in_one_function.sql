-- 0004_claim_task_in_one_function: swarm.claim_task holds the claim itself again (sql/20_claim.sql);
-- the body it called, swarm._claim_tasks, goes.
drop function if exists swarm._claim_tasks(text, text[], text[], int, int, text, int);
