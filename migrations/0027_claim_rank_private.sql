-- 0027_claim_rank_private: swarm.claim_rank is the engine's own (the claim index's order, the claim
-- floor), not an API: it takes the leading underscore of internal objects. The index
-- agent_tasks_claim_idx refers to the function itself, not its name, and is unchanged.
alter function swarm.claim_rank(int, timestamptz) rename to _claim_rank;
