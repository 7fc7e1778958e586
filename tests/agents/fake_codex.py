#!/usr/bin/env python3
"""A fake `codex exec --json`: JSON lines as codex 0.1xx prints them, by `mode:NAME` in the prompt
or FAKE_MODE: success, reconnect-then-success (transient error events, then a completed turn),
error, usage-limit (try again in ...), usage-limit-at (try again at 12:16 PM), usage-limit-429 (the
429 body with resets_in_seconds), usage-limit-429-exit0 (rate_limits windows only), turn-failed,
offline (what codex prints without network, then exit 0 as if it had stopped), echo-args,
swarm-tools (uses the server its -c mcp_servers.pgswarm.* overrides name: tests/agents/mcp_agent.py)."""
import json
import os
import re
import sys

argv = sys.argv[1:]
prompt = argv[argv.index("--") + 1] if "--" in argv else (argv[-1] if argv else "")
match = re.search(r"mode:([a-z0-9-]+)", prompt)
mode = os.environ.get("FAKE_MODE") or (match.group(1) if match else "success")
print("Reading additional input from stdin...", file=sys.stderr, flush=True)


def emit(obj):
    print(json.dumps(obj), flush=True)


emit({"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"})
emit({"type": "turn.started"})
if mode == "success":
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "Looking at the tests"}})
    emit({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "Added the test."}})
    emit({"type": "turn.completed", "usage": {"input_tokens": 2400, "cached_input_tokens": 1000, "output_tokens": 310}})
elif mode == "reconnect-then-success":
    for n in (1, 2):
        emit({"type": "error", "message": f"Reconnecting... {n}/5 (stream disconnected before completion)"})
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": "Done despite the network."}})
    emit({"type": "turn.completed", "usage": {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10}})
elif mode == "echo-args":
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": json.dumps(argv)}})
    emit({"type": "turn.completed", "usage": {"input_tokens": 1, "cached_input_tokens": 0, "output_tokens": 1}})
elif mode == "offline":
    for n in range(2, 6):
        emit({"type": "error", "message": f"Reconnecting... {n}/5 (stream disconnected before completion: "
                                          "failed to lookup address information: Name does not resolve)"})
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "error", "message": "Falling back from "
          "WebSockets to HTTPS transport. stream disconnected before completion"}})
    emit({"type": "error", "message": "Reconnecting... waiting for network (Connection failed: error sending request)"})
elif mode == "usage-limit-at":
    text = ("You've hit your usage limit. To get more access now, send a request to your admin "
            "or try again at 12:16 PM.")
    emit({"type": "error", "message": text})
    emit({"type": "turn.failed", "error": {"message": text}})
    sys.exit(1)
elif mode == "error":
    emit({"type": "error", "message": "stream disconnected before completion: error sending request"})
    emit({"type": "turn.failed", "error": {"message": "stream disconnected before completion"}})
    sys.exit(1)
elif mode == "usage-limit":
    emit({"type": "error", "message": "You've hit your usage limit. Upgrade to Pro or try again in 2 days 3 hours 4 minutes."})
    emit({"type": "turn.failed", "error": {"message": "You've hit your usage limit."}})
    sys.exit(1)
elif mode == "usage-limit-429":  # the HTTP 429 body codex relays, with the structured windows before it
    emit({"type": "token_count", "rate_limits": {"primary": {"used_percent": 100.0, "window_minutes": 300,
                                                             "resets_at": 4102444800},
                                                 "secondary": {"used_percent": 40.0, "window_minutes": 10080}}})
    body = json.dumps({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached",
                                 "plan_type": "plus", "resets_in_seconds": 7200}})
    emit({"type": "error", "message": f"unexpected status 429 Too Many Requests: {body}"})
    emit({"type": "turn.failed", "error": {"message": f"unexpected status 429 Too Many Requests: {body}"}})
    sys.exit(1)
elif mode == "usage-limit-429-exit0":  # the same without a reset in the body and exit 0: the windows say when
    emit({"type": "token_count", "rate_limits": {"primary": {"used_percent": 100.0, "window_minutes": 300,
                                                             "resets_at": 4102444800}}})
    body = json.dumps({"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached"}})
    emit({"type": "error", "message": f"unexpected status 429 Too Many Requests: {body}"})
elif mode == "untrusted":  # codex outside a git repository without --skip-git-repo-check
    print("Not inside a trusted directory and --skip-git-repo-check was not specified.", file=sys.stderr)
    sys.exit(1)
elif mode == "turn-failed":
    emit({"type": "turn.failed", "error": {"message": "model refused the request"}})
    sys.exit(1)
elif mode == "swarm-tools":  # args.swarm_tools: the server of the -c mcp_servers.pgswarm.* overrides, as codex
    import subprocess        # starts it (env_vars forwarded from its own environment, PATH and HOME by default)
    import tempfile

    overrides = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "-c")
    server = {k.removeprefix("mcp_servers.pgswarm."): json.loads(v) for k, v in overrides.items()
              if k.startswith("mcp_servers.pgswarm.")}
    env = {name: os.environ[name] for name in [*server["env_vars"], "PATH", "HOME"] if name in os.environ}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as config:
        json.dump({"mcpServers": {"pgswarm": {"command": server["command"], "args": server["args"], "env": env}}},
                  config)
    used = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "mcp_agent.py"), config.name,
                           re.search(r"other:([0-9]+)", prompt).group(1)], capture_output=True, text=True)
    os.unlink(config.name)
    print(used.stderr[-2000:], file=sys.stderr)
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": used.stdout.strip()}})
    emit({"type": "turn.completed", "usage": {"input_tokens": 1, "cached_input_tokens": 0, "output_tokens": 1}})
    sys.exit(used.returncode)
