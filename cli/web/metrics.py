"""`/metrics` of `pgswarm web`: the cluster's view, read from the database (the worker's own
`--metrics-port` counts what that one worker did). Prometheus text format 0.0.4, HELP and TYPE
for every family."""
from __future__ import annotations

from typing import Any

from ...worker.metrics import escape_label


def _labels(**labels: Any) -> str:
    return ",".join(f'{k}="{escape_label(str(v))}"' for k, v in labels.items())


def _num(value: Any) -> str:
    if value is None:
        return "NaN"
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(float(value)) if not isinstance(value, int) else str(value)


class Families:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: list[tuple[str, Any]]) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{{{labels}}} {_num(value)}" if labels else f"{name} {_num(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def render(snapshot: dict[str, Any]) -> str:
    out = Families()
    queues = snapshot["queues"]
    out.family("pgswarm_tasks", "gauge", "Waiting, pending and running tasks by queue, agent and status.",
               [(_labels(queue=q["queue"], agent=q["agent"], status=q["status"]), q["tasks"]) for q in queues])
    depth: dict[tuple[str, str], int] = {}
    oldest: dict[tuple[str, str], float] = {}
    for q in queues:
        if q["status"] == "pending":
            depth[(q["queue"], q["agent"])] = q["claimable"]
            if q["oldest_pending_seconds"] is not None:
                oldest[(q["queue"], q["agent"])] = q["oldest_pending_seconds"]
    out.family("pgswarm_queue_depth", "gauge", "Pending tasks claimable now, by queue and agent.",
               [(_labels(queue=k[0], agent=k[1]), v) for k, v in sorted(depth.items())])
    out.family("pgswarm_oldest_pending_age_seconds", "gauge",
               "How long the oldest claimable task has waited, by queue and agent.",
               [(_labels(queue=k[0], agent=k[1]), v) for k, v in sorted(oldest.items())])
    agents = snapshot["agents"]
    out.family("pgswarm_agent_running", "gauge", "Running tasks by agent.",
               [(_labels(agent=a["agent"]), a["running"]) for a in agents])
    out.family("pgswarm_agent_max_concurrent", "gauge", "Cluster-wide cap on running tasks by agent (absent: no cap).",
               [(_labels(agent=a["agent"]), a["max_concurrent"]) for a in agents if a["max_concurrent"] is not None])
    out.family("pgswarm_agent_paused", "gauge", "1 while the agent is paused (operator, usage limit or breaker).",
               [(_labels(agent=a["agent"]), bool(a["paused"])) for a in agents])
    out.family("pgswarm_agent_consecutive_failures", "gauge", "The circuit breaker's count of failures in a row.",
               [(_labels(agent=a["agent"]), a["consecutive_failures"]) for a in agents])
    out.family("pgswarm_agent_cost_today_usd", "gauge", "Agent spend since midnight UTC, in US dollars.",
               [(_labels(agent=a["agent"]), a["cost_usd_today"]) for a in agents])
    out.family("pgswarm_agent_daily_budget_usd", "gauge", "Daily budget by agent (absent: none).",
               [(_labels(agent=a["agent"]), a["daily_budget_usd"]) for a in agents
                if a["daily_budget_usd"] is not None])
    out.family("pgswarm_tasks_finished_last_hour", "gauge",
               "Tasks that reached a final status in the last hour, by agent and outcome.",
               [(_labels(agent=f["agent"], outcome=f["status"]), f["tasks"]) for f in snapshot["finished"]])
    window = snapshot["window"] or {}
    for name, prefix, help_text in (
            ("pgswarm_attempt_duration_seconds", "run", "Attempt run time over the last hour (from the event history)."),
            ("pgswarm_wait_seconds", "wait", "Time from claimable to claimed over the last hour.")):
        out.family(name, "summary", help_text,
                   [(_labels(quantile=q), window.get(f"{prefix}_p{int(float(q) * 100)}"))
                    for q in ("0.5", "0.95", "0.99")])
    workers = snapshot["workers"]
    out.family("pgswarm_workers_alive", "gauge", "Registered workers that sent a heartbeat in the last 2 minutes.",
               [("", sum(1 for w in workers if w["alive"]))])
    out.family("pgswarm_worker_running", "gauge", "Running tasks by worker.",
               [(_labels(worker=w["worker"]), w["running"]) for w in workers])
    return out.text()
