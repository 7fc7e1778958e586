-- 0022_live_output: what running attempts print, in the database as it comes (issue 17 §2).
--
-- The worker ships each attempt's output every 250 ms through swarm.ship_output
-- (sql/46_live_output.sql), so `pgswarm logs -f`, the web page and the API follow a task from any
-- machine. Bounded: each attempt keeps its last 1 MiB here (older chunks are dropped as new ones
-- come) and chunks older than a day are dropped. No foreign key: one would take a row lock on the
-- task per write, slow every archive and refuse a TRUNCATE of agent_tasks; a chunk outliving its
-- task goes within the day. The whole log stays in the worker's log file; the final tail in
-- agent_tasks.output_tail.
create table swarm.task_output (
  task_id bigint not null,
  attempt int not null,
  seq int not null,                 -- 1, 2, ... within the attempt: readers' cursor
  at timestamptz not null,
  offset_bytes bigint not null,     -- where the chunk starts in the attempt's whole output
  chunk text not null,
  primary key (task_id, attempt, seq)
);
create index task_output_offset_idx on swarm.task_output (task_id, attempt, offset_bytes);
create index task_output_at_idx on swarm.task_output (at);
comment on table swarm.task_output is
  'live output of running attempts (last 1 MiB per attempt, a day at most), shipped by workers';

-- Parsed progress of the running attempt (turns, tokens, cost so far, current tool, last message).
-- (Migration 0014 may have made the column already: the agent's own report is its key 'agent'.)
alter table swarm.agent_tasks add column if not exists progress jsonb;
alter table swarm.agent_tasks_archive add column if not exists progress jsonb;
comment on column swarm.agent_tasks.progress is
  'the latest attempt''s progress parsed from its event stream by the worker (attempt, turns, input_tokens, '
  'output_tokens, cost_usd, tool, message, at); under the key agent, what the agent reported itself';
