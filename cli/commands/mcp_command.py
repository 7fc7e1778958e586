"""`pgswarm mcp`: the MCP server for assistants, over stdio (cli/mcp_server.py)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..common import DsnOption, Settings, dsn_for, open_connection
from ...client import TaskCapability
from ...worker.dsn import dsn_from_environment
from ...worker.errors import UsageError, describe


def register(app: typer.Typer) -> None:
    @app.command()
    def mcp(
        tools: Annotated[Optional[str], typer.Option("--tools", help="offer only these tools, comma-separated "
                                                     "(default: all)")] = None,
        parent: Annotated[Optional[int], typer.Option("--parent", help="every task enqueued here becomes a child of "
                                                      "this task")] = None,
        agent_scope: Annotated[bool, typer.Option("--agent-scope", help="inside an agent (args.swarm_tools): act as "
                                                  "its running task with PGSWARM_TASK_TOKEN; enqueue children, read "
                                                  "dependency results and children, report progress, nothing "
                                                  "else")] = False,
        dsn: DsnOption = None,
    ) -> None:
        """Serve pgswarm to an assistant over stdio (MCP): enqueue_task, get_task, list_tasks,
        wait_for_task, cancel_task, queue_stats, and task transcripts."""
        try:
            import mcp.server.mcpserver  # noqa: F401  (the SDK's major version 2)
        except ImportError as exc:
            raise UsageError(f"pgswarm mcp needs the MCP SDK (version 2): pip install 'pgswarm[mcp]' "
                             f"({describe(exc)})") from exc
        from ..mcp_server import AGENT_TOOLS, TOOLS, Scope, run

        names = [t.strip() for t in (tools or "").split(",") if t.strip()]
        if tools is not None and not names:
            raise UsageError("--tools: name at least one tool, or leave the option out")
        if agent_scope:
            capability = TaskCapability.from_environment()
            if capability is None:
                raise UsageError("--agent-scope runs inside an agent: PGSWARM_TASK_TOKEN and PGSWARM_TASK_ID are "
                                 "not set")
            if dsn_from_environment(dsn or Settings.dsn) is None:
                raise UsageError("--agent-scope needs the agents' login in PGSWARM_DSN: start the worker with "
                                 "--agent-dsn (README: What agents are given)")
            scope = Scope(frozenset(names or AGENT_TOOLS), parent if parent is not None else capability.task_id,
                          capability)
        else:
            scope = Scope(frozenset(names or TOOLS), parent)
        target = dsn_for(dsn)
        open_connection(target).close()  # unreachable: one clear line now, not a broken server later
        run(scope, target)
