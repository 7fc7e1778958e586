#!/usr/bin/env python3
"""A fake `gemini --output-format json --prompt=...`: `mode:NAME` in the prompt picks success,
exit-41/42/44/52/53 (fatal errors with gemini's JSON error document) or quota."""
import json
import re
import sys

prompt = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--prompt=")), "")
mode = (re.search(r"mode:([a-z0-9-]+)", prompt) or re.search("(success)", "success")).group(1)
stats = {"models": {"gemini-2.5-pro": {"tokens": {"prompt": 900, "candidates": 120, "total": 1020}}}}
errors = {41: ("FatalAuthenticationError", "Please set an Auth method in your settings.json or specify GEMINI_API_KEY"),
          42: ("FatalInputError", "No input provided via stdin."),
          44: ("FatalSandboxError", "Sandbox image not found"),
          52: ("FatalConfigError", "Invalid configuration in settings.json"),
          53: ("FatalTurnLimitedError", "Reached max session turns for this session.")}
if mode == "success":
    print(json.dumps({"response": "Refactored the parser.", "stats": stats}, indent=2))
elif mode.startswith("exit-"):
    code = int(mode[5:])
    kind, message = errors[code]
    print(json.dumps({"error": {"type": kind, "message": message, "code": code}}, indent=2))
    sys.exit(code)
elif mode == "quota":
    print("Quota exceeded for quota metric 'Gemini 2.5 Pro Requests' and limit 'per day'", file=sys.stderr)
    print(json.dumps({"error": {"type": "Error", "message": "[429] RESOURCE_EXHAUSTED: Quota exceeded", "code": 1}}))
    sys.exit(1)
