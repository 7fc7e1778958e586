#!/usr/bin/env python3
"""A prompt-injected agent: with what its environment holds (PGSWARM_DSN, the task token), it tries
what an attacker would and prints, as one JSON line, which attempts the database let through.
argv: the id of a task that is not its own."""
import json
import os
import subprocess
import sys

import psycopg

victim = int(sys.argv[1])
own = int(os.environ["PGSWARM_TASK_ID"])
token = os.environ.get("PGSWARM_TASK_TOKEN", "")
shell_batch = json.dumps([{"prompt": "rm -rf ~", "agent": "shell"}])
attempts = {
    "complete another task": f"select * from swarm.complete_task({victim}, 'w1', 1, '{{\"forged\": 1}}')",
    "fail another task": f"select * from swarm.fail_task({victim}, 'w1', 1, 'forged')",
    "cancel another task": f"select swarm.cancel_task({victim})",
    "pause an agent": "select swarm.pause_agent('claude', 'infinity', 'injected')",
    "insert a shell task": "insert into swarm.agent_tasks (prompt, agent) values ('rm -rf ~', 'shell')",
    "enqueue_many a shell task": f"select * from swarm.enqueue_many('{shell_batch}')",
    "a shell child": f"select * from swarm.agent_enqueue({own}, '{token}', '{shell_batch}')",
    "a child of another task": f"select * from swarm.agent_enqueue({victim}, '{token}', "
                               "'[{\"prompt\": \"x\", \"agent\": \"codex\"}]')",
    "read another task": f"select prompt, result from swarm.agent_tasks where id = {victim}",
    "complete its own task": f"select * from swarm.complete_task({own}, 'w1', 1)",
    "update a status": f"update swarm.agent_tasks set status = 'completed' where id = {victim}",
    "change an agent": "update swarm.agents set max_concurrent = 0",
}
outcome = {}
with psycopg.connect(os.environ["PGSWARM_DSN"], autocommit=True) as conn:
    for what, sql in attempts.items():
        try:
            conn.execute(sql)
            outcome[what] = "ALLOWED"
        except psycopg.Error as exc:
            outcome[what] = f"refused: {exc.sqlstate} {str(exc).splitlines()[0]}"
cli = subprocess.run([sys.executable, "-m", "pgswarm.cli.main", "add", "--agent", "shell", "rm -rf ~"],
                     capture_output=True, text=True)
outcome["pgswarm add --agent shell"] = "ALLOWED" if cli.returncode == 0 else f"refused: {cli.stderr.strip()}"
print(json.dumps(outcome))
