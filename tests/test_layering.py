"""The layering is the design: sql <- worker <- cli. Task state is decided in SQL only."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The installer writes its own ledger (swarm.schema_migrations); it is SQL by nature.
SQL_TEXT_MODULES = {REPO / "worker" / "sqlapi.py", REPO / "cli" / "queries.py", REPO / "cli" / "migrate.py"}
WRITES = re.compile(r"\b(insert\s+into|update|delete\s+from)\s+swarm\.", re.I)


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (REPO / folder).rglob("*.py")]


def test_no_python_outside_the_sql_modules_writes_swarm_tables() -> None:
    offenders = [str(p.relative_to(REPO)) for p in python_files("worker", "cli")
                 if p not in SQL_TEXT_MODULES and WRITES.search(p.read_text())]
    assert offenders == []


def test_the_worker_never_imports_the_cli() -> None:
    offenders = []
    for path in python_files("worker"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "pgswarm.cli" or n.startswith("pgswarm.cli.") for n in names):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_sql_files_create_no_state() -> None:
    """sql/ is re-applied on every migrate: tables and seed rows belong in migrations/."""
    for path in (REPO / "sql").glob("*.sql"):
        text = re.sub(r"--.*", "", path.read_text()).lower()
        text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)  # function bodies act at run time
        assert not re.search(r"\bcreate\s+table\b", text), path.name
        assert not re.search(r"^\s*insert\s+into\s+swarm\.(agents|agent_tasks)\b", text, re.M), path.name


def test_every_public_function_has_a_header_and_a_comment() -> None:
    for path in (REPO / "sql").glob("*.sql"):
        text = path.read_text()
        for name in re.findall(r"create or replace function swarm\.([a-z]\w*)\(", text):
            assert re.search(rf"-- swarm\.{name}:", text), f"{path.name}: swarm.{name} has no header comment"
            assert re.search(rf"comment on function swarm\.{name}\(", text), f"{path.name}: swarm.{name} has no COMMENT"
