"""The schema a fresh `pgswarm migrate` makes, as text in tests/schema.sql, so that every change of a
table, index, function or grant shows up in review (as graphile-worker keeps its schema dump).

After an intended change, write the snapshot anew with
    WRITE_SCHEMA_SNAPSHOT=1 .venv/bin/python -m pytest tests/sql/test_schema_snapshot.py
(on the embedded PostgreSQL: pg_dump's text differs between major versions; on another version
the test is skipped)."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.pgserver import PgServer

SNAPSHOT = Path(__file__).resolve().parents[1] / "schema.sql"
HEADER = "-- pgswarm schema after `pgswarm migrate` (pg_dump --schema-only, normalised), PostgreSQL {major}\n"


def dump(server: PgServer, dsn: str) -> str:
    done = subprocess.run([str(server.bindir / "pg_dump"), "--schema-only", "--no-owner", "--schema=swarm",
                           "--schema=public", "-d", dsn], capture_output=True, text=True, check=True)
    keep = []
    for line in done.stdout.splitlines():
        # comments, session settings and pg_dump's per-run \restrict key are not the schema
        if line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")):
            continue
        keep.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(keep)).strip() + "\n"


def test_the_schema_matches_the_committed_snapshot(pg_server: PgServer, dsn: str) -> None:
    major = pg_server.version() // 10000
    current = HEADER.format(major=major) + dump(pg_server, dsn)
    if os.environ.get("WRITE_SCHEMA_SNAPSHOT") == "1":
        SNAPSHOT.write_text(current)
    committed = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if not committed.startswith(HEADER.format(major=major)):
        pytest.skip(f"tests/schema.sql was dumped by another PostgreSQL major version than {major}")
    assert current == committed, ("the schema differs from tests/schema.sql: if the change is intended, write it "
                                  "anew (WRITE_SCHEMA_SNAPSHOT=1, see this file's docstring) and review the diff")
