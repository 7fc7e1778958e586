-- 0026_drop_agent_succeeded: swarm._agent_succeeded was never called (complete_task and
-- complete_tasks reset the breaker's count inline, in the statement that settles the attempt).
drop function if exists swarm._agent_succeeded(text);
