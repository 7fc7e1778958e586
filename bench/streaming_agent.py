#!/usr/bin/env python3
"""A claude-like agent for bench/worker_streams.py: prints stream-json lines at a steady rate.

The prompt (after `--`) says `lines:N rate:R`; it prints an init event, N assistant events of
about 200 bytes, R per second (on a schedule, so a slow write does not stretch the run), then a
result event, and writes how many bytes it printed to $BENCH_COUNTS/<pid>.bytes.
"""
import json
import os
import re
import sys
import time

argv = sys.argv[1:]
prompt = argv[argv.index("--") + 1] if "--" in argv else ""
lines = int(re.search(r"lines:(\d+)", prompt).group(1))
rate = float(re.search(r"rate:([\d.]+)", prompt).group(1))
session = "5f1c2d3e-0000-4000-8000-00000000bench"
out = sys.stdout.buffer
printed = 0


def emit(obj: dict) -> None:
    global printed
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    out.write(data)
    out.flush()
    printed += len(data)


emit({"type": "system", "subtype": "init", "session_id": session, "model": "bench"})
start = time.monotonic()
for n in range(lines):
    delay = start + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    emit({"type": "assistant", "session_id": session, "message": {"role": "assistant", "content": [
        {"type": "text", "text": f"line {n:06d} " + "x" * 120}]}})
emit({"type": "result", "subtype": "success", "is_error": False, "result": f"printed {lines} lines",
      "session_id": session, "total_cost_usd": 0.0, "usage": {"input_tokens": 1, "output_tokens": 1}})
with open(os.path.join(os.environ["BENCH_COUNTS"], f"{os.getpid()}.bytes"), "w") as handle:
    handle.write(str(printed))
