#!/usr/bin/env python3
"""A fake `cursor-agent -p --output-format json [options] PROMPT`: one JSON result object as the
real CLI prints it, chosen by `mode:NAME` in the prompt (the last element; or FAKE_MODE):
success, is-error, not-logged-in (stderr and exit 1), limit, echo-args."""
import json
import os
import re
import sys

argv = sys.argv[1:]
prompt = argv[-1] if argv else ""
match = re.search(r"mode:([a-z0-9-]+)", prompt)
mode = os.environ.get("FAKE_MODE") or (match.group(1) if match else "success")
session = "c6b62c6f-7ead-4fd6-9922-e952131177ff"


def result(text, is_error=False):
    return {"type": "result", "subtype": "success" if not is_error else "error", "is_error": is_error,
            "duration_ms": 1234, "duration_api_ms": 1234, "result": text, "session_id": session,
            "request_id": "10e11780-df2f-45dc-a1ff-4540af32e9c0"}


if mode == "success":
    print(json.dumps(result("Renamed the helper and updated its callers.")))
elif mode == "echo-args":
    print(json.dumps(result(json.dumps(argv))))
elif mode == "is-error":
    print(json.dumps(result("The edit could not be applied", is_error=True)))
    sys.exit(1)
elif mode == "not-logged-in":
    print("Error: Authentication required. Please run 'cursor-agent login' first, or set CURSOR_API_KEY.",
          file=sys.stderr)
    sys.exit(1)
elif mode == "limit":
    print("Error: You've hit your usage limit · resets Nov 25, 3pm (Europe/Berlin)", file=sys.stderr)
    sys.exit(1)
else:
    print(f"fake_cursor: unknown mode {mode}", file=sys.stderr)
    sys.exit(2)
