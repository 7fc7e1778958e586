-- 0024_idle_workers: the database wakes only as many idle workers as there are tasks.
--
-- Before, every idle worker LISTENed on swarm_ready and claimed on every notification: with N
-- idle workers one enqueued task cost N claim calls, N-1 of them finding nothing (measured with
-- bench/fleet.py: claims per task = N + 1). Now a worker's claim (swarm.claim_or_wait,
-- sql/66_wake.sql) that leaves slots free puts the worker in swarm.idle_workers, and an insert
-- wakes the idle workers it needs, each on a channel of its own, in ticket order (round robin).
-- A hint, not a promise: swarm_ready still goes out when the idle workers known here cannot take
-- every new task, and workers still poll, so a lost or misdirected wake-up delays a task by at
-- most the poll interval and loses nothing.
create table swarm.idle_workers (
  worker text primary key,
  channel text not null,
  agents text[] not null,
  queues text[],
  free_slots int not null,
  ticket bigint not null
);
comment on table swarm.idle_workers is
  'workers whose last claim left slots free, by ticket: the insert trigger wakes them in this order';
create index idle_workers_ticket_idx on swarm.idle_workers (ticket);

-- Tickets order the idle workers; the cursor is the last ticket woken. Sequences: no row
-- versions, no locks between enqueuers, and setval survives a rollback (a hint need not).
create sequence swarm.idle_ticket;
create sequence swarm.wake_cursor minvalue 0 start 0;

-- A few rows rewritten on every idle claim: vacuum it often, whatever its size.
alter table swarm.idle_workers set (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
                                    autovacuum_vacuum_threshold = 200, autovacuum_vacuum_cost_delay = 0);
