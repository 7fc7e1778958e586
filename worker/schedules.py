"""The worker's schedule duty: enqueue the due slots of the cron schedules (swarm.schedules).

The engine decides everything (sql/75_schedules.sql): which slots are due, the catch-up policy,
and that each slot is enqueued once however many workers call at the same moment. A worker only
calls swarm.fire_schedules() on a short timer (the poll interval) and when the earliest
next_fire_at comes, so slots are enqueued on time while any worker runs.

A refused call (a worker login without EXECUTE on fire_schedules, an engine error) is logged
and tried again a minute later, and the worker goes on running tasks: firing is a job any
worker, or pg_cron, can do, unlike this worker's own heartbeat.
"""
from __future__ import annotations

import asyncio
import logging

import asyncpg

from .errors import DatabaseDown
from .sqlapi import Database

log = logging.getLogger("pgswarm.worker")

# Due, yet not fired by this call: another worker holds the schedule and is enqueueing it now.
BUSY_RETRY_SECONDS = 0.1
# Refused (a worker login without EXECUTE on fire_schedules, say): try again this much later.
REFUSED_RETRY_SECONDS = 60.0


async def fire_schedules_forever(db: Database, interval: float) -> None:
    """Call swarm.fire_schedules() every `interval` seconds, and as soon as a slot comes due."""
    refused = False
    while True:
        delay = interval
        try:
            fired, seconds = await db.fire_schedules()
        except DatabaseDown:
            pass
        except asyncpg.PostgresError as exc:
            if not refused:
                log.error("cannot fire cron schedules (will retry every %.0fs): %s", REFUSED_RETRY_SECONDS, exc)
            refused = True
            delay = max(interval, REFUSED_RETRY_SECONDS)
        else:
            refused = False
            if fired:
                log.info("enqueued %d scheduled task(s)", fired)
            if seconds is not None:
                delay = min(interval, seconds + 0.001) if seconds > 0 else BUSY_RETRY_SECONDS
        await asyncio.sleep(delay)
