#!/usr/bin/env python3
"""A fake agent that prints, as one JSON line, what it was given: argv, cwd, the PGSWARM_* and a
few other environment variables, and the content of PGSWARM_DEPS_FILE."""
import json
import os
import sys

deps_file = os.environ.get("PGSWARM_DEPS_FILE")
report = {
    "argv": sys.argv[1:],
    "cwd": os.getcwd(),
    "env": {k: v for k, v in os.environ.items()
            if k.startswith(("PGSWARM_", "CLAUDE", "FAKE_", "SECRET_")) or k in ("HOME", "PATH")},
    "deps": json.load(open(deps_file)) if deps_file else None,
    "all_env": dict(os.environ),
}
print(json.dumps(report))
