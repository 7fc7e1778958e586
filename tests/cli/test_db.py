"""The embedded default: no --dsn, PGSWARM_DSN or DATABASE_URL; `pgswarm db status|start|stop|url`."""
from __future__ import annotations

import json
import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import REPO, assert_user_error, run_pgswarm, server_user_folder, stop_embedded


@pytest.fixture
def xdg_env() -> Iterator[dict[str, str]]:
    """No PGSWARM_HOME: the platform's data directory, pointed at a temporary XDG_DATA_HOME."""
    with server_user_folder("pgswarm-xdg-") as folder:
        env = {"XDG_DATA_HOME": str(folder / "data"), "XDG_STATE_HOME": str(folder / "state")}
        yield env
        stop_embedded(env, folder / "data" / "pgswarm" / "postgres")


def postmasters(data_dir: Path) -> list[str]:
    """Live postgres processes serving this data directory."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"postgres") and str(data_dir).encode() in cmdline:
            found.append(entry.name)
    return found


def test_concurrent_first_uses_start_one_server_then_db_commands_manage_it(xdg_env: dict[str, str]) -> None:
    data_dir = Path(xdg_env["XDG_DATA_HOME"]) / "pgswarm" / "postgres"
    before = run_pgswarm("db", "status", env=xdg_env)
    assert before.returncode == 3 and "stopped" in before.stdout and "not created yet" in before.stdout

    # Four commands at once on a machine where nothing exists yet: one initdb, one server.
    base = {k: v for k, v in os.environ.items()
            if k not in ("PGSWARM_DSN", "DATABASE_URL", "PGSWARM_HOME") and not k.startswith("PG")}
    adds = [subprocess.Popen([sys.executable, "-m", "pgswarm.cli.main", "add", f"echo {i}"], cwd=REPO,
                             env={**base, **xdg_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             stdin=subprocess.DEVNULL) for i in range(4)]
    outputs = [p.communicate(timeout=180) for p in adds]
    assert [p.returncode for p in adds] == [0, 0, 0, 0], outputs
    assert sorted(int(out) for out, _ in outputs) == [1, 2, 3, 4]
    assert sum(err.count("starting the embedded PostgreSQL") for _, err in outputs) == 1, outputs
    assert len(postmasters(data_dir)) == 1
    if os.geteuid() == 0:  # postgres refuses root: the server runs as its own system user
        assert pwd.getpwuid(data_dir.stat().st_uid).pw_name == "embedded_postgres"

    state = json.loads(run_pgswarm("db", "status", "--json", env=xdg_env).ok().stdout)
    assert state["running"] is True and state["data_dir"] == str(data_dir)
    url = run_pgswarm("db", "url", env=xdg_env).ok().stdout.strip()
    assert url == state["dsn"] and "host=" in url  # a unix socket, no TCP port
    with psycopg.connect(url) as conn:
        prompts = [r[0] for r in conn.execute("select prompt from swarm.agent_tasks order by id")]
        assert sorted(prompts) == ["echo 0", "echo 1", "echo 2", "echo 3"]
        assert conn.execute("show listen_addresses").fetchone()[0] == ""
    assert "already running" in run_pgswarm("db", "start", env=xdg_env).ok().stdout

    assert "stopped" in run_pgswarm("db", "stop", env=xdg_env).ok().stdout
    assert postmasters(data_dir) == []
    assert "was not running" in run_pgswarm("db", "stop", env=xdg_env).ok().stdout
    assert run_pgswarm("db", "status", env=xdg_env).returncode == 3

    # Started again: the same data, no second initdb; any command starts it too.
    assert "started" in run_pgswarm("db", "start", env=xdg_env).ok().stdout
    listed = json.loads(run_pgswarm("ls", "--json", env=xdg_env).ok().stdout)
    assert len(listed) == 4


def test_db_status_names_a_configured_dsn_that_takes_precedence(tmp_path: Path) -> None:
    env = {"PGSWARM_HOME": str(tmp_path / "home"), "PGSWARM_DSN": "postgresql://app:s3cret@db.example/app"}
    result = run_pgswarm("db", "status", env=env)
    assert result.returncode == 3  # never started: status only looks
    assert "postgresql://app:***@db.example/app" in result.stderr and "s3cret" not in result.stderr
    assert not (tmp_path / "home" / "postgres").exists()


def test_db_refuses_unknown_subcommands(tmp_path: Path) -> None:
    assert_user_error(run_pgswarm("db", "restart", env={"PGSWARM_HOME": str(tmp_path)}), "No such command")
    help_only = run_pgswarm("db", env={"PGSWARM_HOME": str(tmp_path)})
    assert help_only.returncode == 2 and help_only.stdout.count("Usage: pgswarm db") == 1
