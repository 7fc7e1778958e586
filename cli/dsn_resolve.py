"""The one DSN resolution rule (SPEC §2): --dsn > PGSWARM_DSN > DATABASE_URL > embedded default."""
from __future__ import annotations

from ..worker.dsn import dsn_from_environment


def resolve_dsn(flag: str | None) -> str:
    """The DSN to use; with nothing configured, the embedded server (started and migrated on first use)."""
    configured = dsn_from_environment(flag)
    if configured is not None:
        return configured
    from .embedded import EmbeddedServer

    return EmbeddedServer.default().ensure_running()
