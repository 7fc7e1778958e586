"""The reference docs and the code name the same things: every public function and view of schema
swarm is in docs/sql-api.md and every name there exists; every CLI command is in the README's
command table and every command there exists."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import typer

REPO = Path(__file__).resolve().parents[2]
SQL_API = (REPO / "docs" / "sql-api.md").read_text()
README = (REPO / "README.md").read_text()


def public_sql_names(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute("""
        select p.proname from pg_proc as p where p.pronamespace = 'swarm'::regnamespace
           and p.proname !~ '^_' and p.prokind in ('f', 'p')
           and not exists (select from pg_depend as d where d.objid = p.oid and d.deptype = 'e')
        union
        select c.relname from pg_class as c where c.relnamespace = 'swarm'::regnamespace
           and c.relkind in ('v', 'm') and c.relname !~ '^_'""").fetchall()
    return {name for (name,) in rows}


def documented_sql_names() -> set[str]:
    """`swarm.name(` in the function table and the views line: what the doc says one can call."""
    return set(re.findall(r"`(?:call )?swarm\.([a-z][a-z0-9_]*)\(", SQL_API)) | set(
        re.findall(r"`swarm\.([a-z][a-z0-9_]*_stats)`", SQL_API))


def test_every_public_function_and_view_is_documented_and_every_documented_one_exists(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        in_db = public_sql_names(conn)
    documented = documented_sql_names()
    assert sorted(in_db - documented) == [], "public in schema swarm but missing from docs/sql-api.md"
    assert sorted(documented - in_db) == [], "named in docs/sql-api.md but not in the schema"


def cli_commands() -> set[str]:
    from pgswarm.cli.app import app
    import pgswarm.cli.main  # noqa: F401  (registers every command)

    def walk(group: Any, prefix: str) -> set[str]:
        runs_alone = not hasattr(group, "commands") or getattr(group, "invoke_without_command", False)
        names = {prefix} if prefix and runs_alone else set()
        if hasattr(group, "commands"):  # a group (typer may vendor its own click)
            for name, sub in group.commands.items():
                if not sub.hidden:
                    names |= walk(sub, f"{prefix} {name}".strip())
        return names

    return walk(typer.main.get_command(app), "")


def documented_commands() -> set[str]:
    """The command table's first column: `pgswarm add PROMPT`, `pgswarm web token create|list|revoke`,
    `pgswarm show ID` / `logs ID [-f]`."""
    names: set[str] = set()
    for line in README.splitlines():
        if not line.startswith("| `pgswarm"):
            continue
        first = line.split(" | ")[0]
        for cell in re.findall(r"`(?:pgswarm )?([a-z][^`]*)`", first):
            words = [w for w in cell.split() if re.fullmatch(r"[a-z][a-z\-]*(\\?\|[a-z\-]+)*|\[[a-z][a-z\\|\-]*\]", w)]
            parts: list[list[str]] = []
            for word in words:
                choices = [c for c in re.split(r"\\?\|", word.strip("[]")) if c]
                parts.append(choices)
                if word.startswith("["):
                    names.add(" ".join(p[0] for p in parts[:-1]))
            stack = [""]
            for choices in parts:
                stack = [f"{s} {c}".strip() for s in stack for c in choices]
            names.update(stack)
    return names


def test_every_cli_command_is_in_the_readme_table_and_every_one_there_exists() -> None:
    commands = cli_commands()
    documented = documented_commands()
    assert sorted(commands - documented) == [], "commands missing from the README's command table"
    assert sorted(documented - commands) == [], "README's command table names commands that do not exist"
