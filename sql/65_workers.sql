-- Workers: the registry behind swarm.worker_stats.

-- swarm.register_worker: a worker announces itself at start (upsert by name).
--   guarantees: heartbeat_at = now, stopped_at cleared; the name belongs to the registering login
--               (session_user) from then on: claims, heartbeats and reports under it from any
--               other login are refused (sql/30_lease.sql).
--   raises:     SW005 empty name or concurrency < 1, SW007 the name is registered by another login.
create or replace function swarm.register_worker(name text, hostname text, pid int, agents text[], queues text[],
                                                 concurrency int, version text default null)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
declare
  v_now timestamptz := swarm.now();
begin
  if register_worker.name is null or register_worker.name = '' then
    perform swarm._invalid('worker name must not be empty');
  end if;
  if register_worker.concurrency is null or register_worker.concurrency < 1 then
    perform swarm._invalid(format('concurrency %s must be at least 1', register_worker.concurrency));
  end if;
  if swarm._worker_of_another_login(register_worker.name) then
    perform swarm._check_worker_login(register_worker.name);
  end if;
  insert into swarm.workers as w (name, hostname, pid, agents, queues, concurrency, version, started_at, heartbeat_at,
                                  login)
  values (register_worker.name, register_worker.hostname, register_worker.pid, register_worker.agents,
          register_worker.queues, register_worker.concurrency, register_worker.version, v_now, v_now, session_user)
  on conflict on constraint workers_pkey do update
     set hostname = excluded.hostname, pid = excluded.pid, agents = excluded.agents, queues = excluded.queues,
         concurrency = excluded.concurrency, version = excluded.version, started_at = excluded.started_at,
         heartbeat_at = excluded.heartbeat_at, stopped_at = null, login = excluded.login
   -- Taken in the same statement: another login cannot slip in between the check and the upsert.
   where w.login is null or w.login = excluded.login;
  if not found then  -- another login took the name meanwhile
    perform swarm._check_worker_login(register_worker.name);
  end if;
end
$$;
comment on function swarm.register_worker(text, text, int, text[], text[], int, text) is 'register (or re-register) a worker';

-- swarm.stop_worker: a worker says goodbye on a clean shutdown (and is woken no more).
--   raises: SW007 the name belongs to another login (which could otherwise take a live worker
--           out of the wake-ups).
create or replace function swarm.stop_worker(name text)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
begin
  perform swarm._check_worker_login(stop_worker.name);
  delete from swarm.idle_workers as i where i.worker = stop_worker.name;
  update swarm.workers as w set stopped_at = swarm.now(), heartbeat_at = swarm.now()
   where w.name = stop_worker.name;
end
$$;
comment on function swarm.stop_worker(text) is 'mark a worker as stopped';

-- swarm.set_worker_quarantine: a worker says which agents it stopped claiming because this node
-- cannot run them (node-local faults: executable missing, not logged in, offline); {} when none.
--   locks:      the worker's row.   guarantees: nothing else changes (no task, no agent pause).
--   raises:     SW005 not a JSON object, SW007 the name belongs to another login.   notifies: nothing.
create or replace function swarm.set_worker_quarantine(name text, quarantined jsonb)
returns void
language plpgsql volatile security definer set search_path = pg_catalog, swarm
as $$
begin
  if jsonb_typeof(coalesce(set_worker_quarantine.quarantined, '{}')) <> 'object' then
    perform swarm._invalid(format('quarantined must be a JSON object of agent names (got %s)',
                                  left(set_worker_quarantine.quarantined::text, 100)));
  end if;
  perform swarm._check_worker_login(set_worker_quarantine.name);
  update swarm.workers as w set quarantined = coalesce(set_worker_quarantine.quarantined, '{}')
   where w.name = set_worker_quarantine.name;
end
$$;
comment on function swarm.set_worker_quarantine(text, jsonb)
  is 'record the agents a worker stopped claiming because its node cannot run them';
