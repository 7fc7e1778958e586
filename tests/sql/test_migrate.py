"""The installer: idempotent, checksummed, safe with eight processes at once."""
from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import psycopg
import pytest

from pgswarm.client import migrate as installer
from pgswarm.worker import schema_files


def test_migrate_is_idempotent(empty_dsn: str) -> None:
    first = installer.migrate(empty_dsn)
    assert first.applied == [f.name for f in schema_files.migrations()]
    second = installer.migrate(empty_dsn)
    assert second.applied == [] and second.schema_version == first.schema_version
    with psycopg.connect(empty_dsn) as conn:
        rows = conn.execute("select version, name, length(checksum) from swarm.schema_migrations").fetchall()
    assert rows[0][:2] == (1, "0001_schema.sql") and rows[0][2] == 64


def _migrate_in_process(dsn: str) -> None:
    installer.migrate(dsn)


def test_eight_processes_migrating_at_once(empty_dsn: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_migrate_in_process, args=(empty_dsn,)) for _ in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("select count(*) from swarm.schema_migrations").fetchone()[0] == len(schema_files.migrations())
        assert conn.execute("select count(*) from swarm.agents").fetchone()[0] == 7


def test_edited_applied_migration_is_refused_by_name(empty_dsn: str, tmp_path: Path, monkeypatch) -> None:
    installer.migrate(empty_dsn)
    edited = tmp_path / "migrations"
    shutil.copytree(schema_files.MIGRATIONS_DIR, edited)
    target = edited / "0001_schema.sql"
    target.write_text(target.read_text() + "\n-- sneaky edit\n")
    monkeypatch.setattr(installer, "migrations", lambda: schema_files.migrations(edited))
    with pytest.raises(installer.MigrationChecksumMismatch) as info:
        installer.migrate(empty_dsn)
    assert "0001_schema.sql was changed after it was applied" in str(info.value)


def test_crlf_checkout_is_not_an_edit(empty_dsn: str, tmp_path: Path, monkeypatch) -> None:
    installer.migrate(empty_dsn)
    crlf = tmp_path / "migrations"
    crlf.mkdir()
    for f in schema_files.migrations():
        (crlf / f.name).write_bytes(f.text.replace("\n", "\r\n").encode())
    monkeypatch.setattr(installer, "migrations", lambda: schema_files.migrations(crlf))
    assert installer.migrate(empty_dsn).applied == []


def test_repeated_migration_number_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("select 1;")
    (tmp_path / "0002_b.sql").write_text("select 1;")
    (tmp_path / "0002_c.sql").write_text("select 1;")
    with pytest.raises(schema_files.MigrationLayoutError) as info:
        schema_files.migrations(tmp_path)
    assert "0002_b.sql and 0002_c.sql share the number 0002" in str(info.value)


def test_a_gap_in_migration_numbers_is_applied_in_order(tmp_path: Path) -> None:
    (tmp_path / "0003_c.sql").write_text("select 3;")
    (tmp_path / "0001_a.sql").write_text("select 1;")
    assert [f.version for f in schema_files.migrations(tmp_path)] == [1, 3]


def test_a_database_older_than_the_caller_is_refused_with_sw006(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        version = conn.execute("select swarm.require_schema(1)").fetchone()[0]
        assert version == schema_files.required_schema_version()
        with pytest.raises(psycopg.Error) as info:
            conn.execute("select swarm.require_schema(%s)", (version + 1,))
    assert info.value.sqlstate == "SW006" and "pgswarm migrate" in (info.value.diag.message_hint or "")


def test_schema_version_matches_the_code(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select swarm.schema_version()").fetchone()[0] == schema_files.required_schema_version()
