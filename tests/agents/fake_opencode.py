#!/usr/bin/env python3
"""A fake `opencode run --format json [options] -- PROMPT`: JSON lines as opencode prints them
(step_start, text, tool_use, step_finish, error), chosen by `mode:NAME` in the prompt (or
FAKE_MODE): success (two steps), error (an API error event, exit 1), limit (a usage-limit
error), echo-args, stdin (the prompt read from stdin when none is given)."""
import json
import os
import re
import sys

argv = sys.argv[1:]
prompt = argv[argv.index("--") + 1] if "--" in argv and argv.index("--") + 1 < len(argv) else ""
if not prompt and not sys.stdin.isatty():
    prompt = sys.stdin.read()
match = re.search(r"mode:([a-z0-9-]+)", prompt)
mode = os.environ.get("FAKE_MODE") or (match.group(1) if match else "success")
session = "ses_494719016ffe85dkDMj0FPRbHK"
at = 1767036059338


def emit(kind, **fields):
    print(json.dumps({"type": kind, "timestamp": at, "sessionID": session, **fields}), flush=True)


def step(text, cost, reason="stop"):
    emit("step_start", part={"type": "step-start", "sessionID": session})
    if text:
        emit("text", part={"type": "text", "text": text, "sessionID": session})
    emit("step_finish", part={"type": "step-finish", "reason": reason, "cost": cost,
                              "tokens": {"input": 1000, "output": 200, "reasoning": 50,
                                         "cache": {"read": 300, "write": 0}}})


if mode == "success":
    step("Looking at the tests.", 0.001, reason="tool-calls")
    emit("tool_use", part={"tool": "bash", "state": {"status": "completed", "metadata": {"exit": 0}}})
    step("Fixed the flaky test.", 0.002)
elif mode == "echo-args":
    step(json.dumps(argv), 0.0)
elif mode == "stdin":
    step(f"read {len(prompt)} characters", 0.0)
elif mode == "error":
    emit("step_start", part={"type": "step-start"})
    emit("error", error={"name": "APIError", "data": {"message": "Invalid API key", "statusCode": 401}})
    sys.exit(1)
elif mode == "limit":
    emit("error", error={"name": "APIError", "data": {"message": "Claude AI usage limit reached|4102444800"}})
    sys.exit(1)
else:
    print(f"fake_opencode: unknown mode {mode}", file=sys.stderr)
    sys.exit(2)
