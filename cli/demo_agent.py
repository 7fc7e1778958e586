"""The simulated agent behind `pgswarm demo`: a real process that behaves like Claude Code.

Called with the claude profile's argv (`-p --output-format stream-json --verbose [options] -- PROMPT`),
it works for 1-3 seconds and prints stream-json lines the way `claude` does: a `system` init
object, `assistant` messages, and a final `type: "result"` object with `total_cost_usd`, `usage`
and `session_id`. A prompt containing "[flaky]" fails on its first attempt (PGSWARM_ATTEMPT=1)
with an error result and exit code 1, the way a real agent sometimes does, and succeeds when the
queue retries it. `--output-format json` prints only the result object.
Usage: python -m pgswarm.cli.demo_agent [-p] [--output-format stream-json|json] [--verbose] [--] PROMPT
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from typing import Any

FLAKY_MARKER = "[flaky]"
MODEL = "claude-sonnet-4-5 (simulated)"


def parse_args(argv: list[str]) -> tuple[str, str]:
    """(prompt, output format) from a claude-style argv."""
    fmt = "stream-json"
    words = list(argv)
    if "--output-format" in words:
        i = words.index("--output-format")
        fmt = words[i + 1] if i + 1 < len(words) else fmt
    if "--" in words:  # the claude profile's argv: options, then -- PROMPT
        return " ".join(words[words.index("--") + 1:]).strip(), fmt
    if "--output-format" in words:
        i = words.index("--output-format")
        del words[i:i + 2]
    return " ".join(w for w in words if w not in ("-p", "--print", "--verbose")).strip(), fmt


def _emit(event: dict[str, Any], fmt: str) -> None:
    if fmt == "stream-json":
        print(json.dumps(event), flush=True)


def _assistant(session: str, text: str) -> dict[str, Any]:
    return {"type": "assistant", "session_id": session,
            "message": {"role": "assistant", "model": MODEL, "content": [{"type": "text", "text": text}]}}


def main(argv: list[str]) -> int:
    prompt, fmt = parse_args(argv)
    if not prompt:
        print("demo_agent: no prompt given", file=sys.stderr)
        return 2
    attempt = int(os.environ.get("PGSWARM_ATTEMPT", "1") or 1)
    task_id = os.environ.get("PGSWARM_TASK_ID", "?")
    # Deterministic per prompt, so a rerun of the demo looks the same: 1.0 to 3.0 seconds, a few cents.
    seed = int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16)
    seconds = 1.0 + (seed % 2000) / 1000
    cost = round(0.004 + (seed % 900) / 100_000, 4)
    input_tokens, output_tokens = 800 + seed % 4000, 150 + seed % 900
    session = str(uuid.UUID(int=seed << 64 | attempt))

    _emit({"type": "system", "subtype": "init", "session_id": session, "model": MODEL, "cwd": os.getcwd(),
           "tools": ["Read", "Edit", "Bash"], "permissionMode": "default"}, fmt)
    _emit(_assistant(session, f"Task {task_id}, attempt {attempt}: reading the code for: {prompt}"), fmt)
    time.sleep(seconds / 2)
    _emit(_assistant(session, "Planning the change and running the checks."), fmt)
    time.sleep(seconds / 2)
    result: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": int(seconds * 1000),
        "num_turns": 1 + seed % 7,
        "session_id": session,
        "total_cost_usd": cost,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    if FLAKY_MARKER in prompt and attempt == 1:
        result.update(subtype="error_during_execution", is_error=True,
                      result="the test runner crashed (simulated); a retry will pass")
        print(json.dumps(result), flush=True)
        return 1
    result["result"] = f"Done: {prompt.replace(FLAKY_MARKER, '').strip()}"
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
