-- 0019_budget_reservations_and_prices: what an agent's tokens cost, for agents that report no
-- cost (codex, gemini), so that their daily_budget_usd holds too.
--
-- The operator edits the rows (prices change, plans differ): a reported cost_usd always wins; a
-- report with tokens and no cost is priced with the row of the task's args.model, else the
-- agent's row with model ''. Defaults: list prices per million tokens, December 2026.
create table swarm.agent_prices (
  agent text not null references swarm.agents (name) on update cascade on delete cascade,
  model text not null default '',
  input_usd_per_mtok numeric not null
    constraint agent_prices_input_not_negative check (input_usd_per_mtok >= 0),
  output_usd_per_mtok numeric not null
    constraint agent_prices_output_not_negative check (output_usd_per_mtok >= 0),
  updated_at timestamptz not null default now(),
  primary key (agent, model)
);
comment on table swarm.agent_prices is
  'USD per million input/output tokens, per agent and model ('''' = the agent''s default): prices reports without a cost';

insert into swarm.agent_prices (agent, model, input_usd_per_mtok, output_usd_per_mtok) values
  ('codex', '', 1.25, 10.00),
  ('codex', 'gpt-5-codex', 1.25, 10.00),
  ('codex', 'gpt-5', 1.25, 10.00),
  ('codex', 'gpt-5-mini', 0.25, 2.00),
  ('gemini', '', 1.25, 10.00),
  ('gemini', 'gemini-2.5-pro', 1.25, 10.00),
  ('gemini', 'gemini-2.5-flash', 0.30, 2.50),
  ('gemini', 'gemini-2.5-flash-lite', 0.10, 0.40);
