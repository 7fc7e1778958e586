"""worker/process.py on real processes, where the event loop's order matters."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pgswarm.worker import process


def test_an_exit_the_loop_has_not_read_yet_is_collected_on_request(tmp_path: Path) -> None:
    # A worker suspended while its agent finished wakes up with the exit and a stop request (or a
    # timeout) due at once; the stop path collects the exit itself, before the loop reads the pidfd.
    async def scenario() -> tuple[bool, int]:
        child = await process.spawn(["/bin/sh", "-c", "echo done"], env={"PATH": "/usr/bin:/bin"}, cwd=None,
                                    log_path=tmp_path / "attempt.log", log_cap=1 << 20, token="t")
        time.sleep(0.5)  # blocks the loop: the process exits unseen, as under SIGSTOP
        collected = process.collect_if_exited(child)
        return collected, await asyncio.wait_for(child.wait(), 10)

    collected, exit_code = asyncio.run(scenario())
    assert collected and exit_code == 0
    assert "done" in (tmp_path / "attempt.log").read_text()
