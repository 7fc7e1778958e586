#!/usr/bin/env python3
"""A fake `gemini --output-format json --prompt=...`: `mode:NAME` in the prompt (or FAKE_MODE)
picks success, exit-41/42/44/52/53/54/55 (fatal errors: gemini 0.61 prints its pretty JSON error
document on stderr and exits with the code), quota, quota-daily, echo-args."""
import json
import os
import re
import sys

prompt = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--prompt=")), "")
match = re.search(r"mode:([a-z0-9-]+)", prompt)
mode = os.environ.get("FAKE_MODE") or (match.group(1) if match else "success")
session = "e3347beb-5a6c-4bb9-bb7e-ce3dbfeba26d"
stats = {"models": {"gemini-2.5-pro": {"tokens": {"prompt": 900, "candidates": 120, "total": 1020}}}}
errors = {41: ("FatalAuthenticationError", "Please set an Auth method in your settings.json or specify GEMINI_API_KEY"),
          42: ("FatalInputError", "No input provided via stdin."),
          44: ("FatalSandboxError", "Sandbox image not found"),
          52: ("FatalConfigError", "Invalid configuration in settings.json"),
          53: ("FatalTurnLimitedError", "Reached max session turns for this session."),
          54: ("FatalToolExecutionError", "Tool run_shell_command failed: command not found"),
          55: ("FatalUntrustedWorkspaceError", "Gemini CLI is not running in a trusted directory.")}
if mode == "success":
    print("Loaded cached credentials.", file=sys.stderr)
    print(json.dumps({"session_id": session, "response": "Refactored the parser.", "stats": stats}, indent=2))
elif mode == "echo-args":
    print(json.dumps({"session_id": session, "response": json.dumps(sys.argv[1:]), "stats": stats}, indent=2))
elif mode.startswith("exit-"):
    code = int(mode[5:])
    kind, message = errors[code]
    print("Warning: 256-color support not detected.", file=sys.stderr)
    print(json.dumps({"session_id": session, "error": {"type": kind, "message": message, "code": code}}, indent=2),
          file=sys.stderr)
    sys.exit(code)
elif mode == "quota-daily":
    print(json.dumps({"session_id": session, "error": {"type": "TerminalQuotaError", "code": 1,
                      "message": "You have exhausted your daily quota on this model."}}, indent=2), file=sys.stderr)
    sys.exit(1)
elif mode == "quota":
    print("Quota exceeded for quota metric 'Gemini 2.5 Pro Requests' and limit 'per day'", file=sys.stderr)
    print(json.dumps({"error": {"type": "Error", "message": "[429] RESOURCE_EXHAUSTED: Quota exceeded", "code": 1}}))
    sys.exit(1)
