#!/usr/bin/env python3
"""A fake agent that reads stdin to the end before working (as some CLIs do when stdin is not a
TTY): with an open pipe on stdin it would hang forever; with /dev/null it sees EOF at once."""
import sys

data = sys.stdin.read()
print(f"stdin closed after {len(data)} bytes")
