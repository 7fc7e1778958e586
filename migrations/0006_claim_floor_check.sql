-- 0006_claim_floor_check: claims look below the claim floor at most once every few seconds.
--
-- A claim that found nothing above the floor looked below it every time, in case the floor were
-- ever wrong. While an old snapshot is held, that walk visits an entry per task claimed since
-- (11 ms after 100,000 tasks), and every idle poll and every claim that lost the race for a
-- woken task paid it. This sequence (not rolled back, no row versions) holds when the last such
-- look began, in milliseconds since the epoch (sql/22_claim_floor.sql).
create sequence swarm.claim_floor_checked_at as bigint minvalue 0 start with 0;
comment on sequence swarm.claim_floor_checked_at is
  'when a claim last looked below the claim floor, in ms since the epoch (sql/22_claim_floor.sql)';
