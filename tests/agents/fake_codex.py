#!/usr/bin/env python3
"""A fake `codex exec --json`: JSON lines as codex prints them, by `mode:NAME` in the prompt
(success, error, usage-limit, turn-failed)."""
import json
import re
import sys

argv = sys.argv[1:]
prompt = argv[argv.index("--") + 1] if "--" in argv else argv[-1]
mode = (re.search(r"mode:([a-z-]+)", prompt) or re.search("(success)", "success")).group(1)


def emit(obj):
    print(json.dumps(obj), flush=True)


emit({"type": "thread.started", "thread_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"})
emit({"type": "turn.started"})
if mode == "success":
    emit({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "Looking at the tests"}})
    emit({"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "Added the test."}})
    emit({"type": "turn.completed", "usage": {"input_tokens": 2400, "cached_input_tokens": 1000, "output_tokens": 310}})
elif mode == "error":
    emit({"type": "error", "message": "stream disconnected before completion: error sending request"})
    emit({"type": "turn.failed", "error": {"message": "stream disconnected before completion"}})
    sys.exit(1)
elif mode == "usage-limit":
    emit({"type": "error", "message": "You've hit your usage limit. Upgrade to Pro or try again in 2 days 3 hours 4 minutes."})
    emit({"type": "turn.failed", "error": {"message": "You've hit your usage limit."}})
    sys.exit(1)
elif mode == "turn-failed":
    emit({"type": "turn.failed", "error": {"message": "model refused the request"}})
    sys.exit(1)
