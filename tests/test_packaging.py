"""What `pip install .` installs: one top-level package, pgswarm, with the client, the worker, the
CLI and the engine's SQL inside; `from pgswarm import Client` works from the built wheel alone."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the checkout: setuptools' build/ folder in a checkout keeps files
    that were since renamed (an old migration number), and would ship them."""
    source = tmp_path_factory.mktemp("source") / "pgswarm"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tools", "build", "dist", "*.egg-info", "__pycache__", "node_modules", ".pytest_cache"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    [built] = out.glob("pgswarm-*.whl")
    return built


def test_the_wheel_holds_one_package_with_the_sql_inside(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"pgswarm"}
    for needed in ("pgswarm/__init__.py", "pgswarm/client/__init__.py", "pgswarm/client/_queries.py",
                   "pgswarm/worker/supervisor.py", "pgswarm/cli/main.py", "pgswarm/sql/12_enqueue_many.sql",
                   "pgswarm/migrations/0001_schema.sql", "pgswarm/py.typed"):
        assert needed in names, needed
    shipped = {Path(n).name for n in names if n.startswith("pgswarm/migrations/")}
    assert {p.name for p in (REPO / "migrations").glob("*.sql")} <= shipped
    assert {p.name for p in (REPO / "sql").glob("*.sql")} <= {Path(n).name for n in names}


def test_the_wheel_imports_on_its_own(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = ("import pgswarm, pgswarm.client, pgswarm.cli.main, pgswarm.worker.supervisor\n"
            "from pgswarm import Client, AsyncClient, UnknownAgent, WaitTimeout\n"
            "from pgswarm.worker.schema_files import migrations, sql_files\n"
            "print(pgswarm.__file__, pgswarm.client.__file__, len(migrations()), len(sql_files()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    package_file, client_file, migration_count, sql_count = done.stdout.split()
    assert package_file.startswith(str(tmp_path)) and client_file.startswith(str(tmp_path))  # not the checkout
    assert int(migration_count) == len(list((REPO / "migrations").glob("*.sql")))
    assert int(sql_count) == len(list((REPO / "sql").glob("*.sql")))
