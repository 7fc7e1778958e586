--
-- 0009_waiting_index: waiting tasks by agent, so that the live counts (swarm.agent_stats, the
-- dashboard, /metrics) read each active status from its own partial index (pending:
-- agent_tasks_claim_idx, running: agent_tasks_running_idx, waiting: this one) instead of
-- scanning the whole history: with 1,000,000 finished tasks one scan took ~0.6 s a refresh.
-- Only a task that starts waiting (or is revived waiting) adds an entry; claims and reports never do.
--
create index agent_tasks_waiting_idx on swarm.agent_tasks (agent) where status = 'waiting';
