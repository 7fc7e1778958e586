#!/usr/bin/env python3
"""A fake `claude -p`: prints what Claude Code prints, chosen by a word in the prompt (`mode:NAME`).

It takes the real argv (`-p --output-format stream-json --verbose ... -- PROMPT`); the prompt is
the element after `--`; FAKE_MODE in the environment wins over the prompt. Modes: success
(stream-json), json-object, json-array, huge-array (a json array bigger than the worker's 256 KiB
tail), is-error-exit0, not-logged-in (what the real CLI prints without a login), limit-epoch,
limit-resets, limit-weekly-date, limit-reset-at, rate-limit-event, overloaded, not-your-limit,
talks-about-limits, limit-as-success, rate-limit-as-success,
rejected-event-empty-result, nul, nul-error, api-retry-overloaded / api-retry-offline (api_retry events,
then a hang), ansi-error, tempfail, crash (no result, a traceback on stderr), echo-args, slow (sleeps
30 s first), limit-then-echo (a usage limit, unless started with --resume: then echo-args),
swarm-tools (uses the server of --mcp-config: tests/agents/mcp_agent.py),
hang-after-result (prints its result, then hangs without exiting: claude #25629), stall (prints
its init event, then nothing: claude #17248), stall-then-echo (stall, unless started with --resume:
then echo-args), prompt-size (how long the prompt is and where it came from).
A `--resume` of a session whose id starts with "gone" fails as Claude Code does for a session it
does not have. With `--resume ID --fork-session` it runs in a new session (the last digit of the id + 1), as
Claude Code does.
"""
import json
import os
import re
import sys
import time

argv = sys.argv[1:]
# No `--`: the prompt comes on stdin (the worker's way for a prompt over 128 KiB), as for `claude -p`.
prompt = argv[argv.index("--") + 1] if "--" in argv else sys.stdin.read()
match = re.search(r"mode:([a-z0-9-]+)", prompt)
mode = os.environ.get("FAKE_MODE") or (match.group(1) if match else "success")
session = "5f1c2d3e-0000-4000-8000-000000000001"
if "--resume" in argv and argv[argv.index("--resume") + 1].startswith("gone"):  # not on this node
    print(f"No conversation found with session ID: {argv[argv.index('--resume') + 1]}", file=sys.stderr)
    print(json.dumps({"type": "result", "subtype": "error_during_execution", "is_error": True, "num_turns": 0,
                      "session_id": "e2c448f9-0000-4000-8000-00000000000e", "total_cost_usd": 0}), flush=True)
    sys.exit(1)
if "--resume" in argv and "--fork-session" in argv:
    resumed = argv[argv.index("--resume") + 1]
    session = resumed[:-1] + str((int(resumed[-1], 16) + 1) % 10)
if mode == "limit-then-echo":
    mode = "echo-args" if "--resume" in argv else "limit-epoch"
if mode == "stall-then-echo":
    mode = "echo-args" if "--resume" in argv else "stall"
usage = {"input_tokens": 1200, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 500, "output_tokens": 420}
model_usage = {"claude-sonnet-4-5": {"inputTokens": 1000, "outputTokens": 400, "cacheReadInputTokens": 500,
                                     "cacheCreationInputTokens": 300, "costUSD": 0.0123},
               "claude-haiku-4-5": {"inputTokens": 200, "outputTokens": 20, "cacheReadInputTokens": 0,
                                    "cacheCreationInputTokens": 0, "costUSD": 0.0004}}


def dumps(obj, **kw):
    """JSON as Claude Code writes it: compact, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), **kw)


def emit(obj):
    print(dumps(obj), flush=True)


def result(text, is_error=False, subtype="success", with_model_usage=True):
    out = {"type": "result", "subtype": subtype, "is_error": is_error, "duration_ms": 2345, "duration_api_ms": 2100,
           "num_turns": 3, "result": text, "session_id": session, "total_cost_usd": 0.0127, "usage": usage}
    if with_model_usage:
        out["modelUsage"] = model_usage
    return out


# Modes whose error result is a usage-limit message, as Claude Code words them.
LIMIT_RESULTS = {
    "limit-resets": "You've hit your session limit · resets 3:45pm (Europe/Berlin)",
    "limit-weekly-date": "You've hit your weekly limit · resets Nov 25, 3pm (Europe/Berlin)",
    "limit-reset-at": "Claude usage limit reached. Your limit will reset at 3pm (America/New_York).",
}
init = {"type": "system", "subtype": "init", "session_id": session, "model": "claude-sonnet-4-5", "tools": ["Bash"]}
assistant = {"type": "assistant", "session_id": session,
             "message": {"role": "assistant", "content": [{"type": "text", "text": "Working on it."}]}}

if mode == "slow":
    time.sleep(30)
if mode == "tempfail":
    print("temporary trouble, try later", file=sys.stderr)
    sys.exit(75)
if mode == "hang-after-result":
    for obj in (init, assistant, result("Done; then the process hung.")):
        emit(obj)
    time.sleep(300)
if mode == "stall":
    emit(init)
    time.sleep(300)
if mode in ("success", "slow"):
    for obj in (init, assistant, result("Fixed the flaky test: the retry loop now waits for the socket.")):
        emit(obj)
elif mode == "echo-args":
    emit(init)
    emit(result(json.dumps(argv), with_model_usage=False))
elif mode == "prompt-size":
    emit(result(f"{len(prompt)} characters, {'argv' if '--' in argv else 'stdin'}", with_model_usage=False))
elif mode == "json-object":
    print(json.dumps(result("Done as a single object.", with_model_usage=False), indent=2))
elif mode == "json-array":
    print(dumps([init, assistant, result("Done as an array.")]))
elif mode == "is-error-exit0":
    emit(init)
    emit(result("Execution error: the tool call failed", is_error=True, subtype="error_during_execution"))
elif mode == "huge-array":
    filler = [{"type": "assistant", "session_id": session, "message": {"role": "assistant", "content": [
        {"type": "text", "text": "x" * 1000}]}} for _ in range(400)]
    print(dumps([init, *filler, result("Done after a long conversation.")]))
elif mode == "not-logged-in":  # Claude Code 2.1 with no login, byte for byte but ids
    emit(init | {"apiKeySource": "none"})
    emit({"type": "assistant", "message": {"model": "<synthetic>", "role": "assistant", "stop_reason": "stop_sequence",
                                           "usage": {"input_tokens": 0, "output_tokens": 0},
                                           "content": [{"type": "text", "text": "Not logged in · Please run /login"}]},
          "parent_tool_use_id": None, "session_id": session, "error": "authentication_failed"})
    emit(result("Not logged in · Please run /login", is_error=True, with_model_usage=False)
         | {"total_cost_usd": 0, "modelUsage": {}, "usage": {k: 0 for k in usage}})
    sys.exit(1)
elif mode == "crash":
    emit(init)
    print("Traceback (most recent call last):\n  File \"cli.js\", line 1\nError: ENOSPC: no space left on device",
          file=sys.stderr)
    sys.exit(1)
elif mode == "limit-epoch":
    emit(init)
    emit(result("Claude AI usage limit reached|4102444800", is_error=True))
    sys.exit(1)
elif mode in LIMIT_RESULTS:
    emit(result(LIMIT_RESULTS[mode], is_error=True))
    sys.exit(1)
elif mode == "rate-limit-event":
    emit(init)
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning", "resetsAt": 4102444800}})
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": 4102444800,
                                                          "rateLimitType": "five_hour"}})
    emit(result("Request rejected", is_error=True))
    sys.exit(1)
elif mode == "overloaded":
    emit(result('API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
                is_error=True))
    sys.exit(1)
elif mode == "not-your-limit":
    emit(result("API Error: Server is temporarily limiting requests (not your usage limit) · Rate limited",
                is_error=True))
    sys.exit(1)
elif mode == "talks-about-limits":
    emit(init)
    emit(result("I documented how the client handles 'Claude AI usage limit reached|1700000000' messages.\n"
                "You've hit your limit · resets 3pm (Europe/Berlin) is the other form; 529 overloaded is a throttle."))
elif mode == "limit-as-success":  # claude #79500: the limit reported as a success, exit 0
    emit(init)
    emit(result("Claude AI usage limit reached|4102444800"))
elif mode == "rate-limit-as-success":  # exit 0, is_error false, the reset only in the structured event
    emit(init)
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning", "resetsAt": 4102444800,
                                                          "rateLimitType": "five_hour"}})
    emit(result("API Error: Rate limit reached"))
elif mode == "rejected-event-empty-result":
    emit(init)
    emit({"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": 4102444800,
                                                          "rateLimitType": "seven_day"}})
    emit(result(""))
elif mode == "nul":  # a NUL in the result (JSON escape) and a raw 0x00 byte in the output
    emit(init)
    sys.stdout.flush()
    sys.stdout.buffer.write(b"progress \x00 raw byte\n")
    sys.stdout.buffer.flush()
    # ASCII-escaped, as JSON may be: \u0000 and a lone \ud800 escape are valid JSON that jsonb refuses.
    print(json.dumps(result("bytes: a\u0000b, a lone \ud800 surrogate") | {"extra\u0000key": "v\u0000"}), flush=True)
elif mode == "nul-error":  # the same bytes in a failed run's result and stderr
    emit(init)
    sys.stderr.buffer.write(b"fatal: \x00 in stderr\n")
    sys.stderr.buffer.flush()
    emit(result("failed at \u0000", is_error=True, subtype="error_during_execution"))
    sys.exit(1)
elif mode == "swarm-tools":  # args.swarm_tools: use the MCP server --mcp-config names (tests/agents/mcp_agent.py)
    import subprocess

    other = re.search(r"other:([0-9]+)", prompt).group(1)
    used = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "mcp_agent.py"),
                           argv[argv.index("--mcp-config") + 1], other], capture_output=True, text=True)
    print(used.stderr[-2000:], file=sys.stderr)
    emit(init)
    emit(result(used.stdout.strip() or "no output", is_error=used.returncode != 0, with_model_usage=False))
    sys.exit(used.returncode)
elif mode in ("api-retry-overloaded", "api-retry-offline"):  # retries until the worker's timeout stops it
    emit(init)
    for attempt in (1, 2, 3):
        if mode == "api-retry-overloaded":
            emit({"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 10,
                  "retry_delay_ms": 500, "error_status": 529, "error": "overloaded", "session_id": session})
        else:  # no response at all: the network is down
            emit({"type": "system", "subtype": "api_retry", "attempt": attempt, "max_retries": 10,
                  "retry_delay_ms": 500, "error_status": None, "error": "unknown", "session_id": session})
    time.sleep(60)
elif mode == "ansi-error":
    print("\x1b[31mError:\x1b[0m \x1b[1mconfig file is broken\x1b[22m", file=sys.stderr, flush=True)
    sys.exit(1)
else:
    print(f"fake_claude: unknown mode {mode}", file=sys.stderr)
    sys.exit(2)
