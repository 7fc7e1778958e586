"""Another database on the same server enqueues through postgres_fdw and wakes a listener."""
from __future__ import annotations

import psycopg

from tests.pgserver import PgServer


def test_enqueue_from_another_database_through_postgres_fdw(pg_server: PgServer, dsn: str, conn) -> None:
    other_db = conn.info.dbname + "_app"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        admin.execute(f"create database {other_db}")
    try:
        with psycopg.connect(dsn, autocommit=True) as listener, \
             psycopg.connect(pg_server.dsn(other_db), autocommit=True) as app:
            listener.execute("listen swarm_ready")
            app.execute("create extension postgres_fdw")
            app.execute(f"create server swarm_queue foreign data wrapper postgres_fdw "
                        f"options (host '127.0.0.1', port '{pg_server.port}', dbname '{conn.info.dbname}')")
            app.execute("create user mapping for current_user server swarm_queue options (user 'postgres')")
            app.execute("create foreign table agent_tasks (prompt text, agent text, priority int, key text) "
                        "server swarm_queue options (schema_name 'swarm', table_name 'agent_tasks')")
            with app.transaction():
                app.execute("insert into agent_tasks (prompt, agent, priority, key) values ('from app', 'claude', 7, 'k1')")
            payloads = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
            assert payloads == ["claude"]
            row = conn.execute("select prompt, agent, priority, status from swarm.agent_tasks where key = 'k1'").fetchone()
            assert row == ("from app", "claude", 7, "pending")
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
            admin.execute(f"drop database if exists {other_db} with (force)")
