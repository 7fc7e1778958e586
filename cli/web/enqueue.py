"""Enqueueing from the web API: one function, so that it can call the Python client once that
lands (`Client.enqueue_many` takes dependencies by key in one round trip)."""
from __future__ import annotations

import psycopg

from .. import queries
from ...worker.errors import InvalidDependency


def enqueue_batch(conn: psycopg.Connection, tasks: list[tuple[queries.NewTask, list[int | str]]]) -> list[int]:
    """Insert the tasks in one transaction, in order; a dependency given as a string is the key
    of an earlier task of the same batch. Returns the ids (an idempotency key that exists
    already returns that task's id and inserts nothing). All or nothing."""
    ids_by_key: dict[str, int] = {}
    ids: list[int] = []
    with conn.transaction():
        for position, (task, depends) in enumerate(tasks):
            resolved: list[int] = []
            for dep in depends:
                if isinstance(dep, str):
                    if dep not in ids_by_key:
                        raise InvalidDependency(
                            f"task {position}: depends on key {dep!r}, which no earlier task of this request has",
                            hint="list a task before the tasks that depend on it, and give it that key")
                    resolved.append(ids_by_key[dep])
                else:
                    resolved.append(dep)
            task_id = queries.enqueue(conn, queries.NewTask(**{**task.__dict__, "depends_on": tuple(resolved)}))
            if task.key is not None:
                ids_by_key[task.key] = task_id
            ids.append(task_id)
    return ids
