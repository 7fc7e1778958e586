-- 0007_settings: database-wide settings that only the schema owner (the login that runs
-- `pgswarm migrate`) may change. One row; each setting is a typed column with its default, so a
-- setting is documented and checked where it is declared. No role is granted anything on it:
-- the engine reads it from SECURITY DEFINER functions.
create table swarm.settings (
  singleton boolean primary key default true
    constraint settings_one_row check (singleton),
  -- The agent of a task inserted without one (a bare INSERT INTO agent_tasks (prompt) ...).
  default_agent text not null default 'shell' references swarm.agents (name) on update cascade,
  -- Whether `SET swarm.now = '...'` may move the engine's clock in this database (tests only).
  test_clock boolean not null default false,
  updated_at timestamptz not null default now()
);
insert into swarm.settings default values;
revoke all on swarm.settings from public;
comment on table swarm.settings is
  'database-wide settings (one row), changed only by the schema owner: update swarm.settings set ...';
