"""The SQL examples in docs/sql-api.md and README.md run as written, in order, through psql."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg

from tests.pgserver import PgServer

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "sql-api.md"
README = REPO / "README.md"
# A block that starts with this runs in another database (postgres_fdw); tests/sql/test_fdw.py covers it.
OTHER_DATABASE = "-- in the other service's database"


def run_blocks(psql: Path, dsn: str, text: str) -> int:
    blocks = [b for b in re.findall(r"```sql\n(.*?)```", text, flags=re.S) if not b.startswith(OTHER_DATABASE)]
    for block in blocks:
        out = subprocess.run([str(psql), "-X", "-v", "ON_ERROR_STOP=1", "-d", dsn], input=block,
                             capture_output=True, text=True)
        assert out.returncode == 0, f"example failed:\n{block}\n{out.stderr}"
    return len(blocks)


def test_every_sql_example_in_the_docs_runs(pg_server: PgServer, dsn: str, conn: psycopg.Connection) -> None:
    assert run_blocks(pg_server.bindir / "psql", dsn, DOC.read_text()) >= 6
    # the batch's two tasks; the cancel example cancels the plan, and its dependent with it
    assert finished(conn) == (2, 2)


def test_every_sql_example_in_the_readme_runs(pg_server: PgServer, dsn: str, conn: psycopg.Connection) -> None:
    assert run_blocks(pg_server.bindir / "psql", dsn, README.read_text()) >= 4
    assert finished(conn) == (7, 1)


def finished(conn: psycopg.Connection) -> tuple[int, int]:
    """(tasks, cancelled ones) after the examples ran."""
    return conn.execute("select count(*), count(*) filter (where status = 'cancelled') from swarm.agent_tasks").fetchone()
