"""Where the SQL that ships with pgswarm lives, and what schema version this code needs.

`sql/` and `migrations/` sit beside `worker/` both in the source tree and in the installed
package (`pgswarm/sql`, `pgswarm/migrations`), so one relative path serves both.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import MigrationLayoutError

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PACKAGE_ROOT / "sql"
MIGRATIONS_DIR = PACKAGE_ROOT / "migrations"

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class SqlFile:
    path: Path
    version: int | None  # migrations only
    text: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checksum(self) -> str:
        """sha256 of the file with CRLF folded to LF, so git's autocrlf cannot raise a false alarm."""
        return hashlib.sha256(self.text.replace("\r\n", "\n").encode()).hexdigest()


def migrations(directory: Path = MIGRATIONS_DIR) -> list[SqlFile]:
    files = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationLayoutError(f"migration file {path.name} is not named NNNN_snake_name.sql")
        files.append(SqlFile(path, int(match.group(1)), path.read_text()))
    # Numbers only rise: a repeat is refused. A gap is allowed, so that work developed in parallel can
    # hold its numbers from the start; files are applied in number order whatever order they landed in.
    for earlier, file in zip(files, files[1:]):
        if file.version == earlier.version:
            raise MigrationLayoutError(f"migrations {earlier.name} and {file.name} share the number "
                                       f"{file.version:04d}: renumber the newer one")
    return files


def sql_files(directory: Path = SQL_DIR) -> list[SqlFile]:
    return [SqlFile(path, None, path.read_text()) for path in sorted(directory.glob("*.sql"))]


def required_schema_version() -> int:
    """The highest migration this code ships: a database below it must be migrated first."""
    return migrations()[-1].version or 0
