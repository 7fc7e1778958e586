-- 0003_claim_task_durable: swarm.claim_task gains a defaulted `durable` parameter (sql/20_claim.sql).
-- CREATE OR REPLACE with one more parameter makes a second function beside the old one, and a call
-- by the old parameters would then be ambiguous; so the old signature goes here, before sql/ is
-- applied in the same transaction.
drop function if exists swarm.claim_task(text, text[], text[], int, int, text, int);
