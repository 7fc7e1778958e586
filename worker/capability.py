"""The per-attempt capability an agent is given instead of the worker's login (issue 16, defect 3).

The worker makes a random key at start and registers it once (swarm.register_agent_key). Each
attempt's token is sha256(key || "task:attempt:claim time in microseconds"), computed here with
no round trip and recomputed by the engine (sql/87_agent_capability.sql), which accepts it only
while that attempt runs. An agent gets the token and its task id (PGSWARM_TASK_TOKEN,
PGSWARM_TASK_ID), and a login of its own (the worker's --agent-dsn) holding role swarm_agent.
"""
from __future__ import annotations

import hashlib
import secrets
import sys
from datetime import datetime, timedelta, timezone

KEY_BYTES = 32
TOKEN_VAR = "PGSWARM_TASK_TOKEN"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def new_agent_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def mcp_config(env: dict[str, str]) -> dict[str, object]:
    """args.swarm_tools: an MCP configuration (claude --mcp-config) starting `pgswarm mcp
    --agent-scope` with this attempt's capability and the agents' login, nothing else."""
    passed = {name: env[name] for name in ("PGSWARM_DSN", "PGSWARM_TASK_ID", TOKEN_VAR, "PATH", "HOME")
              if name in env}
    return {"mcpServers": {"pgswarm": {"type": "stdio", "command": sys.executable,
                                       "args": ["-m", "pgswarm.cli.main", "mcp", "--agent-scope"], "env": passed}}}


def task_token(key: bytes, task_id: int, attempt: int, claimed_at: datetime) -> str:
    """The token of one attempt, as swarm._agent_token computes it."""
    micros = (claimed_at - _EPOCH) // timedelta(microseconds=1)
    return hashlib.sha256(key + f"{task_id}:{attempt}:{micros}".encode()).hexdigest()
