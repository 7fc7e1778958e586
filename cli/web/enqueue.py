"""Enqueue, cancel and retry from the web: through the Python client (one implementation of each)."""
from __future__ import annotations

import psycopg

from ...client import Client, TaskSpec


def enqueue_batch(conn: psycopg.Connection, tasks: list[TaskSpec]) -> list[int]:
    """The tasks in one call (swarm.enqueue_many), in order, all or nothing; a dependency given as
    a string is the key of an earlier task of the batch, or of an existing task. Returns the ids
    (an idempotency key that exists already returns that task's id and inserts nothing)."""
    return [done.id for done in Client(conn=conn).enqueue_many(tasks)]


def cancel(conn: psycopg.Connection, task_id: int, reason: str | None) -> str:
    """swarm.cancel_task through the client: the task's status after the call."""
    return Client(conn=conn).cancel(task_id, reason)


def retry(conn: psycopg.Connection, task_id: int) -> str:
    """swarm.retry_task through the client: the task's new status."""
    return Client(conn=conn).retry(task_id)
