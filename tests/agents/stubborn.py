#!/usr/bin/env python3
"""A fake agent that does not go quietly: it ignores SIGTERM and SIGINT, starts a child that also
ignores them, and a grandchild that leaves the process group with setsid (as claude's Bash tool
does). Every process carries MARKER in its argv so a test can look for survivors.
Usage: stubborn.py MARKER
"""
import os
import signal
import sys
import time

marker = sys.argv[1]
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, signal.SIG_IGN)

if os.fork() == 0:  # the escaper: a new session, so killpg of the agent's group misses it
    os.setsid()
    os.execvp(sys.executable, [sys.executable, "-c", "import time\nwhile True: time.sleep(1)", marker, "escaper"])
if os.fork() == 0:  # a child that ignores SIGTERM (inherited SIG_IGN survives exec)
    os.execvp(sys.executable, [sys.executable, "-c", "import time\nwhile True: time.sleep(1)", marker, "ignorer"])
print(f"stubborn agent {marker} running", flush=True)
while True:
    time.sleep(1)
