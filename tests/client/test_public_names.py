"""`pgswarm` lists the client's public names itself (so that importing it loads no driver)."""
from __future__ import annotations

import pgswarm
import pgswarm.client


def test_every_public_name_of_the_client_imports_from_pgswarm() -> None:
    assert sorted(pgswarm.__all__) == sorted(pgswarm.client.__all__)
    assert all(getattr(pgswarm, name) is getattr(pgswarm.client, name) for name in pgswarm.__all__)
