"""The SQL examples in docs/sql-api.md run as written, in order, through psql."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.pgserver import PgServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "sql-api.md"


def test_every_sql_example_in_the_docs_runs(pg_server: PgServer, dsn: str) -> None:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    psql = pg_server.bindir / "psql"
    for block in blocks:
        out = subprocess.run([str(psql), "-X", "-v", "ON_ERROR_STOP=1", "-d", dsn], input=block,
                             capture_output=True, text=True)
        assert out.returncode == 0, f"example failed:\n{block}\n{out.stderr}"
    check = subprocess.run([str(psql), "-X", "-At", "-d", dsn, "-c",
                            "select count(*) filter (where status = 'waiting'), count(*) from swarm.agent_tasks"],
                           capture_output=True, text=True)
    waiting, total = map(int, check.stdout.strip().split("|"))
    assert total == 6 and waiting == 3
