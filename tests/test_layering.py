"""The layering is the design: sql <- worker <- client <- cli. Task state is decided in SQL only."""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The installer writes its own ledger (swarm.schema_migrations); it is SQL by nature.
SQL_TEXT_MODULES = {REPO / "worker" / "sqlapi.py", REPO / "cli" / "queries.py", REPO / "client" / "_queries.py",
                    REPO / "client" / "migrate.py"}
PACKAGES = ("worker", "client", "cli")
WRITES = re.compile(r"\b(insert\s+into|update|delete\s+from)\s+swarm\.", re.I)


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (REPO / folder).rglob("*.py")]


def test_no_python_outside_the_sql_modules_writes_swarm_tables() -> None:
    offenders = [str(p.relative_to(REPO)) for p in python_files(*PACKAGES)
                 if p not in SQL_TEXT_MODULES and WRITES.search(p.read_text())]
    assert offenders == []


RUNS_SQL = {"execute", "executemany", "fetch", "fetchrow", "fetchval", "copy", "copy_records_to_table"}


def sql_run_in(path: Path) -> list[int]:
    """Lines where the file runs SQL text of its own: a driver call whose query is a literal."""
    return [node.lineno for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL
            and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
            and (not isinstance(node.args[0], ast.Constant) or isinstance(node.args[0].value, str))]


def test_only_the_sql_modules_hold_sql_text() -> None:
    """Faces call the query modules; a query written elsewhere is a rule in two places waiting to happen."""
    offenders = {str(p.relative_to(REPO)): lines for p in python_files(*PACKAGES)
                 if p not in SQL_TEXT_MODULES and (lines := sql_run_in(p))}
    assert offenders == {}


def test_the_sql_text_check_sees_a_literal_query(tmp_path: Path) -> None:
    sample = tmp_path / "face.py"
    sample.write_text('def f(conn):\n    conn.execute("select 1")\n    conn.execute(QUERY)\n'
                      '    return conn.fetchval(f"select {1}")\n')
    assert sql_run_in(sample) == [2, 4]


def imported_modules(path: Path) -> set[str]:
    """The absolute names of what a file of the package imports (relative imports resolved)."""
    package = ["pgswarm", *path.relative_to(REPO).parent.parts]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def importers_of(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(str(path.relative_to(REPO)) for path in python_files(*folders)
                  if any(name == f"pgswarm.{f}" or name.startswith(f"pgswarm.{f}.")
                         for name in imported_modules(path) for f in forbidden))


def test_imports_point_one_way_cli_client_worker() -> None:
    assert importers_of(("worker",), ("client", "cli")) == []
    assert importers_of(("client",), ("cli",)) == []


def test_the_import_check_sees_relative_imports() -> None:
    """It must be able to fail: a relative import of the CLI from the client is one."""
    names = imported_modules(REPO / "cli" / "commands" / "tasks.py")
    assert "pgswarm.client.Client" in names and "pgswarm.cli.queries" in names


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


def engine_map() -> dict[str, str]:
    """The 'Functions by file' entries of sql/00_helpers.sql's map: file stem -> its text."""
    text = (REPO / "sql" / "00_helpers.sql").read_text()
    section = text.split("-- Functions by file:", 1)[1].split("\n--\n", 1)[0]
    entries: dict[str, str] = {}
    current = ""
    for line in section.splitlines():
        match = re.match(r"--\s{3}(\d\d_\w+)\s+(.*)", line)
        if match:
            current = match.group(1)
            entries[current] = match.group(2)
        elif current:
            entries[current] += " " + line.lstrip("- ")
    return entries


def test_the_engine_map_names_every_file_and_public_function() -> None:
    entries = engine_map()
    for path in sorted((REPO / "sql").glob("*.sql")):
        assert path.stem in entries, f"sql/00_helpers.sql's map has no line for {path.name}"
        for name in sorted(set(re.findall(r"create or replace (?:function|procedure) swarm\.([a-z]\w*)\(",
                                          path.read_text()))):
            assert f"swarm.{name}(" in entries[path.stem], f"the map's line for {path.stem} omits swarm.{name}()"
    assert set(entries) <= {p.stem for p in (REPO / "sql").glob("*.sql")}, "the map names a file that is gone"
