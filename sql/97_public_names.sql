-- Unqualified names: `INSERT INTO agent_tasks (prompt) VALUES (...)`, as the seeds wrote it.
--
-- public.agent_tasks is a view of swarm.agent_tasks: automatically updatable, so an INSERT
-- through it is an INSERT into the table, with its defaults, triggers (checks, the default agent,
-- the 'created' event, NOTIFY swarm_ready) and ON CONFLICT (key) DO NOTHING. On PostgreSQL 15
-- and later it runs with the caller's rights (security_invoker), so a login may do through it
-- exactly what it may do to swarm.agent_tasks; on 14 it runs with its owner's, and grants the
-- same columns to the same roles. public is on every login's default search_path.
--
-- Kept while swarm.settings.public_names is on (`pgswarm migrate --no-public-names` turns it
-- off and drops the view). It is recreated on every migrate, so it follows the table's columns.
-- A public.agent_tasks that is not pgswarm's is never touched: migrate warns and leaves it.
-- A migration that drops or retypes a column of swarm.agent_tasks drops this view first. Grant
-- logins the roles (swarm_enqueue, ...), not privileges on the view: those go with it.
do $$
declare
  v_wanted boolean := (select s.public_names from swarm.settings as s);
  v_existing record;
  v_ours boolean := false;
  v_options text := case when current_setting('server_version_num')::int >= 150000
                         then ' with (security_invoker = true)' else '' end;
begin
  select c.relkind, pg_get_userbyid(c.relowner) as owner, obj_description(c.oid, 'pg_class') as note
    into v_existing
    from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relname = 'agent_tasks';
  if found then
    v_ours := v_existing.relkind = 'v' and coalesce(v_existing.note, '') like 'pgswarm:%';
    if not v_ours then
      if v_wanted then
        raise warning using
          message = 'public.agent_tasks exists and is not pgswarm''s view: INSERT INTO agent_tasks stays that table',
          hint = 'write swarm.agent_tasks, or rename yours and migrate again; '
                 'pgswarm migrate --no-public-names silences this';
      end if;
      return;
    end if;
    if not pg_has_role(v_existing.owner, 'member') then
      raise warning using
        message = format('public.agent_tasks belongs to %s: migrate as that login to change it', v_existing.owner);
      return;
    end if;
  end if;
  if not v_wanted then
    if v_ours then
      drop view public.agent_tasks;
    end if;
    return;
  end if;
  if not v_ours and (to_regnamespace('public') is null or not has_schema_privilege('public', 'CREATE')) then
    raise warning using
      message = format('%s may not create objects in schema public: '
                       'INSERT INTO agent_tasks (unqualified) is not available',
                       current_user),
      hint = 'migrate as the database owner, or grant create on schema public to this login; '
             'or turn it off: pgswarm migrate --no-public-names';
    return;
  end if;
  if v_ours then
    drop view public.agent_tasks;  -- recreated below with the table's current columns
  end if;
  -- On 14 the view reads with its owner's rights, past row-level security: it applies the tenant
  -- rule itself (sql/96_tenants.sql).
  execute 'create view public.agent_tasks' || v_options || ' as select * from swarm.agent_tasks'
    || case when v_options = '' then ' as task where (select swarm._sees_all_tasks()) or task.created_by = session_user'
            else '' end;
  comment on view public.agent_tasks is
    'pgswarm: swarm.agent_tasks under its unqualified name '
    '(swarm.settings.public_names; pgswarm migrate --no-public-names)';
  revoke all on public.agent_tasks from public;
  grant select on public.agent_tasks to swarm_enqueue, swarm_worker;
  grant insert (key, queue, agent, prompt, args, priority, depends_on, on_dependency_failure, parent_id,
                concurrency_key, run_after, max_attempts, timeout_seconds, tags, metadata)
    on public.agent_tasks to swarm_enqueue, swarm_worker;
end
$$;
