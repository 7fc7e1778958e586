#!/usr/bin/env python3
"""A fake agent that writes MEGABYTES of output as fast as it can, then a last line: END-OF-OUTPUT."""
import sys

megabytes = int(sys.argv[1])
line = b"x" * 1023 + b"\n"
out = sys.stdout.buffer
for _ in range(megabytes * 1024):
    out.write(line)
out.write(b"END-OF-OUTPUT\n")
out.flush()
