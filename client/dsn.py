"""The one DSN resolution rule (SPEC §2): --dsn > PGSWARM_DSN > DATABASE_URL > embedded default.

Shared by the client, the CLI and `pgswarm worker`; the worker package itself knows only the
first three steps (`pgswarm.worker.dsn`), since the embedded server is started from here.
"""
from __future__ import annotations

from ..worker.dsn import dsn_from_environment


def resolve_dsn(dsn: str | None = None) -> str:
    """The DSN to use; with nothing configured, the embedded server (started and migrated on first use)."""
    configured = dsn_from_environment(dsn)
    if configured is not None:
        return configured
    from .embedded import EmbeddedServer

    return EmbeddedServer.default().ensure_running()
