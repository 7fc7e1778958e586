"""`pgswarm demo` as a newcomer runs it: no DSN anywhere, the embedded server, a real worker."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import Cli, assert_user_error


def test_demo_runs_the_pipeline_in_parallel_with_a_retry(home_cli: Cli, embedded_home: Path) -> None:
    started = time.monotonic()
    result = home_cli("demo", timeout=180).ok()
    assert time.monotonic() - started < 60
    out = result.stdout
    # Not a terminal (as in CI): plain progress lines, no live table's cursor codes.
    assert re.search(r"^\s*[\d.]+s\s+implement-api\s+pending\s+attempt 1\s+\(retry scheduled", out, re.M), out
    assert "\x1b[" not in out
    assert "6 of 6 tasks completed" in out, out
    parallel = int(re.search(r"parallelism: up to (\d+) agents at once", out).group(1))
    assert parallel >= 2, out
    assert int(re.search(r"retries:\s+(\d+)", out).group(1)) >= 1
    cost = float(re.search(r"cost:\s+\$([\d.]+)", out).group(1))
    assert cost > 0
    # What the summary points at works: the tasks are there, the flaky step took two attempts.
    listing = home_cli("ls", "--tag", "demo", "--json").ok()
    assert '"attempts": 2' in listing.stdout
    shown = home_cli("show", re.search(r"pgswarm show (\d+)", out).group(1)).ok()
    assert "retry_scheduled" in shown.stdout and "[flaky]" in shown.stdout
    if shutil.which("psql"):  # the psql lines of the summary, run as printed
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG") or k == "PGSWARM_TEST_PGBIN"}
        env.update(PGSWARM_HOME=str(embedded_home), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
        for line in [line.strip() for line in out.splitlines() if line.strip().startswith("psql ")]:
            done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env, timeout=60)
            assert done.returncode == 0 and "ERROR" not in done.stderr, (line, done.stderr)
            assert "(1 row)" in done.stdout or "rows)" in done.stdout, (line, done.stdout)


def test_demo_refuses_a_bad_timeout_before_touching_anything(home_cli: Cli) -> None:
    assert_user_error(home_cli("demo", "--timeout", "-1"), "--timeout")


def test_demo_against_a_configured_database(cli: Cli) -> None:
    result = cli("demo", timeout=180).ok()
    assert "6 of 6 tasks completed" in result.stdout
    assert "db url" not in result.stdout, "with a DSN configured, the summary names it, not the embedded server"
    # It ends by saying how to open the dashboard.
    assert re.search(r"^\s+pgswarm web --local-reads\s+# then open http://127\.0\.0\.1:8765/$",
                     result.stdout, re.M), result.stdout
