-- What a running agent is given (issue 16, defect 3): a NOLOGIN role holding only the
-- per-attempt capability functions (sql/87_agent_capability.sql), each worker's key for the
-- attempts' tokens, and the progress an agent reports.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'swarm_agent') then
    create role swarm_agent nologin;
  end if;
end
$$;

-- One secret per worker name, made by the worker at start and sent once: the token of an attempt
-- is a digest of (key, task, attempt, claim time), computed by the worker without a round trip
-- and checked here. Only the schema owner reads it (the capability functions run as the owner).
create table swarm.agent_keys (
  worker text primary key,
  key bytea not null constraint agent_keys_key_length check (octet_length(key) >= 32),
  login name not null default session_user,
  registered_at timestamptz not null default now()
);
revoke all on swarm.agent_keys from public;

-- What the agent said about its progress, last report wins (SPEC §7: agent_tasks.progress).
alter table swarm.agent_tasks add column if not exists progress jsonb;
alter table swarm.agent_tasks_archive add column if not exists progress jsonb;
