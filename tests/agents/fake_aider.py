#!/usr/bin/env python3
"""A fake aider: `mode:success` edits and reports; `mode:hidden-failure` prints a fatal model
error and still exits 0, as aider can."""
import re
import sys

message = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--message=")), "")
mode = (re.search(r"mode:([a-z-]+)", message) or re.search("(success)", "success")).group(1)
print("Aider v0.86.1\nMain model: sonnet with diff edit format\nRepo-map: using 1024 tokens")
if mode == "success":
    print("Applied edit to app.py\nTokens: 3.1k sent, 210 received. Cost: $0.01 message, $0.01 session.")
else:
    print("litellm.AuthenticationError: AnthropicException - invalid x-api-key")
    print("The API provider is not able to authenticate you. Check your API key.")
