"""As root, PostgreSQL runs as a system user created on first use. On a fresh machine several
servers start at once (`pgswarm` commands for different data directories, test processes): each
must find or create the same user, none may fail because another created it first."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating system users needs root (CI runs as root)")

NAME = f"pgswarm_race_{os.getpid()}"
FIND_OR_CREATE = ("import sys; from pgswarm.client.embedded import ensure_system_user; "
                  "print(ensure_system_user(sys.argv[1]).pw_uid)")


@pytest.fixture
def fresh_user_name() -> Iterator[str]:
    yield NAME
    subprocess.run(["userdel", NAME], capture_output=True)


def test_eight_first_uses_at_once_all_get_the_one_user_they_created(fresh_user_name: str) -> None:
    with pytest.raises(KeyError):
        pwd.getpwnam(fresh_user_name)
    starts = [subprocess.Popen([sys.executable, "-c", FIND_OR_CREATE, fresh_user_name], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in starts]
    assert [code for code, _, _ in results] == [0] * 8, results
    uids = {int(out) for _, out, _ in results}
    assert uids == {pwd.getpwnam(fresh_user_name).pw_uid}
