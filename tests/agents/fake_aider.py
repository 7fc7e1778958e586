#!/usr/bin/env python3
"""A fake aider: `mode:success` edits and reports tokens and cost; `mode:hidden-failure` prints a
fatal model error and still exits 0, as aider can; `mode:echo-args` prints its argv as JSON.
FAKE_MODE in the environment wins over the prompt."""
import json
import os
import re
import sys

message = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--message=")), "")
match = re.search(r"mode:([a-z-]+)", message)
mode = os.environ.get("FAKE_MODE") or (match.group(1) if match else "success")
if mode == "echo-args":
    print(json.dumps(sys.argv[1:]))
    sys.exit(0)
print("Aider v0.86.1\nMain model: sonnet with diff edit format\nRepo-map: using 1024 tokens")
if mode == "success":
    print("Applied edit to app.py\nTokens: 3.1k sent, 210 received. Cost: $0.01 message, $0.01 session.")
    print("Applied edit to test_app.py\nTokens: 4.2k sent, 1.5k cache hit, 95 received. Cost: $0.02 message, $0.03 session.")
else:
    print("litellm.AuthenticationError: AnthropicException - invalid x-api-key")
    print("The API provider is not able to authenticate you. Check your API key.")
