"""`pgswarm demo` as a newcomer runs it: no DSN anywhere, the embedded server, a real worker."""
from __future__ import annotations

import re
import time

from tests.cli.conftest import Cli


def test_demo_runs_the_pipeline_in_parallel_with_a_retry(home_cli: Cli) -> None:
    started = time.monotonic()
    result = home_cli("demo", timeout=180).ok()
    assert time.monotonic() - started < 60
    out = result.stdout
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


def test_demo_against_a_configured_database(cli: Cli) -> None:
    result = cli("demo", timeout=180).ok()
    assert "6 of 6 tasks completed" in result.stdout
    assert "db url" not in result.stdout, "with a DSN configured, the summary names it, not the embedded server"
