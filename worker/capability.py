"""The per-attempt capability an agent is given instead of the worker's login (issue 16, defect 3).

The worker makes a random key at start and registers it once (swarm.register_agent_key). Each
attempt's token is sha256(key || "task:attempt:claim time in microseconds"), computed here with
no round trip and recomputed by the engine (sql/87_agent_capability.sql), which accepts it only
while that attempt runs. An agent gets the token and its task id (PGSWARM_TASK_TOKEN,
PGSWARM_TASK_ID), and a login of its own (the worker's --agent-dsn) holding role swarm_agent.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import sys
from datetime import datetime, timedelta, timezone

KEY_BYTES = 32
TOKEN_VAR = "PGSWARM_TASK_TOKEN"
# args.swarm_tools: the server an agent starts, and what it needs from the agent's environment.
MCP_SERVER_ARGS = ("-m", "pgswarm.cli.main", "mcp", "--agent-scope")
MCP_ENV_VARS = ("PGSWARM_DSN", "PGSWARM_TASK_ID", TOKEN_VAR)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def new_agent_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def mcp_config(env: dict[str, str]) -> dict[str, object]:
    """args.swarm_tools: an MCP configuration (claude --mcp-config) starting `pgswarm mcp
    --agent-scope` with this attempt's capability and the agents' login, nothing else."""
    passed = {name: env[name] for name in (*MCP_ENV_VARS, "PATH", "HOME") if name in env}
    return {"mcpServers": {"pgswarm": {"type": "stdio", "command": sys.executable, "args": list(MCP_SERVER_ARGS),
                                       "env": passed}}}


def codex_mcp_overrides() -> list[str]:
    """args.swarm_tools for codex, which takes no configuration file: `-c` overrides naming the
    server, and the variables codex forwards to it from the agent's environment (env_vars), so
    no token is on a command line."""
    return ["-c", f"mcp_servers.pgswarm.command={json.dumps(sys.executable)}",
            "-c", f"mcp_servers.pgswarm.args={json.dumps(list(MCP_SERVER_ARGS))}",
            "-c", f"mcp_servers.pgswarm.env_vars={json.dumps(list(MCP_ENV_VARS))}"]


def task_token(key: bytes, task_id: int, attempt: int, claimed_at: datetime) -> str:
    """The token of one attempt, as swarm._agent_token computes it."""
    micros = (claimed_at - _EPOCH) // timedelta(microseconds=1)
    return hashlib.sha256(key + f"{task_id}:{attempt}:{micros}".encode()).hexdigest()
