#!/usr/bin/env python3
"""What an agent does with the MCP configuration its worker gave it (args.swarm_tools): start the
server the file names, with the SDK's client over stdio, and use it. Prints one JSON object.
argv: CONFIG_FILE OTHER_TASK_ID"""
import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, stdio_client

config_file, other = sys.argv[1], int(sys.argv[2])
server = json.load(open(config_file))["mcpServers"]["pgswarm"]


def text(result):
    return " ".join(getattr(block, "text", "") for block in result.content)


async def main() -> dict:
    params = StdioServerParameters(command=server["command"], args=server["args"], env=server["env"])
    out = {"config_env": sorted(server["env"])}
    async with stdio_client(params) as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            out["tools"] = sorted(t.name for t in (await session.list_tools()).tools)
            first = (await session.call_tool("enqueue_task", {"prompt": "write the tests", "agent": "codex"}))
            first_id = first.structured_content["id"]
            second = await session.call_tool("enqueue_task", {"prompt": "review them", "agent": "claude",
                                                              "depends_on": [first_id]})
            out["children"] = [first_id, second.structured_content["id"]]
            out["deps"] = (await session.call_tool("get_dependency_results", {})).structured_content["result"]
            out["listed"] = (await session.call_tool("list_children", {})).structured_content["result"]
            await session.call_tool("report_progress", {"message": "two subtasks queued", "percent": 50})
            refusals = {
                "another parent": await session.call_tool("enqueue_task", {"prompt": "x", "agent": "codex",
                                                                           "parent_id": other}),
                "a shell task": await session.call_tool("enqueue_task", {"prompt": "rm -rf ~", "agent": "shell"}),
                "cancel another task": await session.call_tool("cancel_task", {"task_id": other}),
                "complete another task": await session.call_tool("complete_task", {"task_id": other}),
                "read another task": await session.call_tool("get_task", {"task_id": other}),
            }
            out["refused"] = {what: (r.is_error, text(r)) for what, r in refusals.items()}
    return out


print(json.dumps(asyncio.run(main())), flush=True)
