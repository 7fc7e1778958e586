-- 0005_claim_floor: claims start their index walk at a floor kept outside MVCC.
--
-- While any session holds an old snapshot, the claim index keeps an entry for every task claimed
-- since, and no claim can mark it dead; an ordered claim walked them all, so throughput fell with
-- the snapshot's age (30 % of normal over 3 minutes, bench/scale.py). The claim index is now
-- ordered by one bigint, the claim rank, and swarm.claim_floor (a sequence: not rolled back, no
-- row versions) holds a rank at or below every pending task's, so a claim starts past the entries
-- of the tasks already claimed. sql/22_claim_floor.sql keeps the floor right.

-- swarm.claim_rank: a pending task's place in the claim order, priority desc then run_after, as
-- one bigint: (1000 - priority) * 2^52 + microseconds of run_after since 2000-01-01 UTC (run_after
-- clamped to 2000..2142, 2^52 microseconds; priority is checked to lie in -1000..1000). Equal
-- ranks are ordered by run_after, then id, so the order is exactly priority desc, run_after, id.
create function swarm.claim_rank(priority int, run_after timestamptz) returns bigint
language sql immutable parallel safe
return (1000 - priority)::bigint * 4503599627370496
       + (extract(epoch from greatest(least(run_after, timestamptz '2142-01-01 00:00:00+00'),
                                      timestamptz '2000-01-01 00:00:00+00')
                             - timestamptz '2000-01-01 00:00:00+00') * 1000000)::bigint;

create sequence swarm.claim_floor as bigint minvalue 0 start with 0;
comment on sequence swarm.claim_floor is
  'a claim rank at or below that of every pending task: claims walk the claim index from here (sql/22_claim_floor.sql)';

drop index swarm.agent_tasks_claim_idx;
create index agent_tasks_claim_idx on swarm.agent_tasks (swarm.claim_rank(priority, run_after), run_after, id)
  where status = 'pending';

-- _claim_limited takes the floor as an argument now.
drop function if exists swarm._claim_limited(text, text[], text[], int, int, timestamptz, text, int);
