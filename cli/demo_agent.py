"""The simulated agent behind `pgswarm demo`: a real process that behaves like `claude -p ... --output-format json`.

It works for 1-3 seconds, then prints one Claude-style JSON result with a cost and token counts.
A prompt containing "[flaky]" fails on its first attempt (PGSWARM_ATTEMPT=1) with an error
result, the way a real agent sometimes does, and succeeds when the queue retries it.
Usage: python -m pgswarm.cli.demo_agent [-p] [--output-format json] [--verbose] [--] PROMPT
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid

FLAKY_MARKER = "[flaky]"


def _prompt(argv: list[str]) -> str:
    if "--" in argv:  # the claude profile's argv: options, then -- PROMPT
        return " ".join(argv[argv.index("--") + 1:]).strip()
    words = [a for a in argv if a not in ("-p", "--print")]
    if "--output-format" in words:
        i = words.index("--output-format")
        del words[i:i + 2]
    return " ".join(words).strip()


def main(argv: list[str]) -> int:
    prompt = _prompt(argv)
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

    print(f"[demo agent] task {task_id}, attempt {attempt}: {prompt}", file=sys.stderr, flush=True)
    time.sleep(seconds / 2)
    print("[demo agent] reading the code, planning the change", file=sys.stderr, flush=True)
    time.sleep(seconds / 2)
    result = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": int(seconds * 1000),
        "num_turns": 1 + seed % 7,
        "session_id": str(uuid.UUID(int=seed << 64 | attempt)),
        "total_cost_usd": cost,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    if FLAKY_MARKER in prompt and attempt == 1:
        result.update(subtype="error_during_execution", is_error=True,
                      result="the test runner crashed (simulated); a retry will pass")
        print(json.dumps(result))
        return 1
    result["result"] = f"Done: {prompt.replace(FLAKY_MARKER, '').strip()}"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
