"""The installer behind `pgswarm migrate`.

One transaction under an advisory lock: pending migrations in order, then every `sql/*.sql`
(CREATE OR REPLACE, re-applied each time), then the ledger rows. All or nothing, so eight
processes migrating at once serialise and the later ones find nothing pending.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from ..worker.errors import MigrationChecksumMismatch
from ..worker.schema_files import SqlFile, migrations, sql_files

# Any constant works as long as every installer uses the same one.
MIGRATE_LOCK_KEY = "swarm.migrate"


@dataclass(frozen=True)
class MigrateResult:
    applied: list[str]
    schema_version: int
    public_names: bool = True  # whether public.agent_tasks (unqualified INSERT INTO agent_tasks) exists
    warnings: tuple[str, ...] = ()  # what the SQL files warned about (e.g. why public.agent_tasks is missing)
    tenants: bool = False  # swarm.settings.tenant_isolation: an enqueue login sees only its own tasks


def _scalar(conn: psycopg.Connection, query: str) -> Any:
    row = conn.execute(query).fetchone()  # type: ignore[arg-type]  # the installer's queries are literals
    return None if row is None else row[0]


def create_database_if_missing(conn: psycopg.Connection, name: str) -> None:
    """The embedded server's first start: its database (conn: autocommit, to another database)."""
    if _scalar(conn, f"select count(*) from pg_database where datname = '{name}'") == 0:  # name: a constant
        conn.execute(f'create database "{name}"')  # type: ignore[arg-type]


def create_agent_login_if_missing(conn: psycopg.Connection, name: str) -> None:
    """The embedded server's login for agents: role swarm_agent only (conn: autocommit, a superuser)."""
    if _scalar(conn, f"select count(*) from pg_roles where rolname = '{name}'") == 0:  # name: a constant
        conn.execute(f'create role "{name}" login in role swarm_agent')  # type: ignore[arg-type]


def ledger_exists(conn: psycopg.Connection) -> bool:
    return bool(_scalar(conn, "select to_regclass('swarm.schema_migrations') is not null"))


def _check_applied(applied: dict[int, tuple[str, str]], files: list[SqlFile]) -> None:
    by_version = {f.version: f for f in files}
    for version, (name, checksum) in sorted(applied.items()):
        file = by_version.get(version)
        if file is None:
            raise MigrationChecksumMismatch(
                f"migration {version:04d} ({name}) is recorded in swarm.schema_migrations but its file is missing; "
                "this pgswarm is older than the database")
        if file.checksum != checksum:
            raise MigrationChecksumMismatch(
                f"migration {file.name} was changed after it was applied (recorded sha256 {checksum[:12]}…, "
                f"file {file.checksum[:12]}…). Restore the file, or add a new migration for the change.")


def plan(conn: psycopg.Connection) -> list[SqlFile]:
    """The migrations not yet applied (checks the applied ones' checksums)."""
    files = migrations()
    applied: dict[int, tuple[str, str]] = {}
    if ledger_exists(conn):
        applied = {v: (n, c) for v, n, c in conn.execute("select version, name, checksum from swarm.schema_migrations")}
    _check_applied(applied, files)
    return [f for f in files if f.version not in applied]


def migrate(dsn: str, connect_timeout: int = 10, *, public_names: bool | None = None,
            tenants: bool | None = None) -> MigrateResult:
    """Apply what is pending and re-apply sql/. public_names True/False turns the unqualified
    public.agent_tasks on or off, tenants True/False the tenant isolation (docs/security.md); both
    are remembered (swarm.settings); None keeps the setting."""
    warnings: list[str] = []
    with psycopg.connect(dsn, connect_timeout=connect_timeout) as conn:

        def keep_warning(diag: psycopg.errors.Diagnostic) -> None:
            if diag.severity_nonlocalized == "WARNING" and diag.message_primary:
                hint = f" (hint: {diag.message_hint})" if diag.message_hint else ""
                warnings.append(diag.message_primary + hint)

        conn.add_notice_handler(keep_warning)
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (MIGRATE_LOCK_KEY,))
            pending = plan(conn)
            for file in pending:
                conn.execute(file.text)
                conn.execute(
                    "insert into swarm.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (file.version, file.name, file.checksum))
            if public_names is not None:
                conn.execute("update swarm.settings set public_names = %s, updated_at = now()", (public_names,))
            if tenants is not None:
                conn.execute("update swarm.settings set tenant_isolation = %s, updated_at = now()", (tenants,))
            for file in sql_files():
                conn.execute(file.text)
            version = _scalar(conn, "select max(version) from swarm.schema_migrations")
            exposed = _scalar(conn, "select coalesce(obj_description(to_regclass('public.agent_tasks'), 'pg_class') "
                                    "like 'pgswarm:%', false)")
            isolated = _scalar(conn, "select tenant_isolation from swarm.settings")
    return MigrateResult([f.name for f in pending], version, bool(exposed), tuple(warnings), bool(isolated))


def print_all() -> str:
    """Every migration and sql/ file concatenated, with a banner per file (`pgswarm migrate --print`)."""
    parts = []
    for file in [*migrations(), *sql_files()]:
        folder = "migrations" if file.version else "sql"
        parts.append(f"-- ===== {folder}/{file.name} =====\n{file.text.rstrip()}\n")
    return "\n".join(parts)
