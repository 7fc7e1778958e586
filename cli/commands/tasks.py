"""Task commands: add, ls, show, logs, cancel, retry, export, archive."""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Optional

import psycopg
import typer
from rich.text import Text
from rich.tree import Tree

from .. import pipeline as pipeline_file
from .. import queries
from ..common import (DsnOption, JsonOption, Settings, connect, db_errors, did_you_mean, parse_duration, parse_ids,
                                parse_task_id,
                                parse_key_values, parse_when)
from ..output import cell, console, print_json, print_table, printable, shorten, status_text
from ...client import Changed, Client, Enqueued, TaskCapability, TaskSpec
from ...worker.dsn import dsn_from_environment
from ...worker.errors import TaskError, UnknownAgent, UnknownTask, UsageError

STATUSES = ("waiting", "pending", "running", "completed", "failed", "cancelled")
TERMINAL = ("completed", "failed", "cancelled")


def _with_agent_hint(conn: psycopg.Connection, exc: UnknownAgent, agents: list[str | None],
                     prefix: str = "") -> UnknownAgent:
    """The engine's refusal with the CLI's did-you-mean for the agent that is unknown."""
    known = queries.agent_names(conn)
    unknown = next((a for a in agents if a is not None and a not in known), None)
    suggestion = did_you_mean(unknown, known) if unknown else ""
    return UnknownAgent(f"{prefix}{exc}{suggestion}; known agents: {', '.join(known)}", hint=exc.hint,
                        sqlstate=exc.sqlstate)


def _check_ids_exist(conn: psycopg.Connection, ids: list[int], what: str) -> None:
    missing = sorted(set(ids) - queries.existing_task_ids(conn, ids))
    if missing:
        raise UnknownTask(f"{what}: task {', '.join(map(str, missing))} not found")


def _agent_capability(dsn: str | None) -> TaskCapability | None:
    """Inside an agent (PGSWARM_TASK_TOKEN set): its attempt's capability, with which it enqueues
    children of its own task. The worker never gives an agent its own login: the agent's is the
    worker's --agent-dsn (PGSWARM_DSN), which must be there."""
    capability = TaskCapability.from_environment()
    if capability is not None and dsn_from_environment(dsn or Settings.dsn) is None:
        raise UsageError("inside an agent (PGSWARM_TASK_TOKEN is set) but with no database login for agents: "
                         "start its worker with --agent-dsn (README: What agents are given)")
    return capability


def _enqueue(conn: psycopg.Connection, specs: list[TaskSpec], prefix: str = "",
             capability: TaskCapability | None = None) -> list[Enqueued]:
    """Through the client (the one implementation of enqueueing), in one transaction; inside an
    agent, through its capability."""
    try:
        return Client(conn=conn, capability=capability).enqueue_many(specs)
    except UnknownAgent as exc:
        if capability is not None:  # an agent's login reads no table: the engine's words only
            raise
        raise _with_agent_hint(conn, exc, [s.agent for s in specs], prefix) from exc
    except TaskError as exc:
        if not prefix:
            raise
        raise type(exc)(f"{prefix}{exc}", hint=exc.hint, detail=exc.detail, sqlstate=exc.sqlstate) from exc


def add(
    prompt: Annotated[Optional[str], typer.Argument(help="the instruction for the agent (shell: the command "
                                                    "line)")] = None,
    agent: Annotated[Optional[str], typer.Option("--agent", "-a", help="agent profile, a row of swarm.agents (default: "
                                                 "the database's default agent, swarm.settings)")] = None,
    after: Annotated[list[str], typer.Option("--after",
                                             help="run after these task ids (repeat or comma-separate)")] = [],
    priority: Annotated[Optional[str], typer.Option("--priority", "-p", help="critical, high, medium, low or a number "
                                                    "-1000..1000; higher first")] = None,
    key: Annotated[Optional[str], typer.Option("--key", "--name",
                                               help="idempotency key: an existing key returns its task id")] = None,
    delay: Annotated[Optional[str], typer.Option("--delay", help="not before this long from now (30s, 5m, 2h)")] = None,
    at: Annotated[Optional[str], typer.Option("--at", help="not before this time (ISO 8601)")] = None,
    timeout: Annotated[Optional[str], typer.Option("--timeout", help="wall-clock limit per attempt (default: the agent "
                                                   "profile's, else 30m)")] = None,
    max_attempts: Annotated[Optional[int], typer.Option("--max-attempts",
                                                        help="attempts before the task fails (3)")] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", "-q", help="queue (default: default)")] = None,
    concurrency_key: Annotated[Optional[str], typer.Option("--concurrency-key",
                                                           help="at most one running task per key")] = None,
    parent: Annotated[Optional[int], typer.Option("--parent", help="the task that created this one (default: "
                                                  "$PGSWARM_TASK_ID inside an agent)")] = None,
    tag: Annotated[list[str], typer.Option("--tag", "-t", help="tag (repeatable)")] = [],
    arg: Annotated[list[str], typer.Option("--arg",
                                           help="profile parameter KEY=VALUE (model=sonnet, max_turns=20)")] = [],
    on_dependency_failure: Annotated[Optional[str], typer.Option("--on-dependency-failure", help="cancel this task "
                                                                 "when a dependency fails (default), or run it "
                                                                 "anyway")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="a YAML or TOML pipeline of named steps")] = None,
    prompt_file: Annotated[Optional[str], typer.Option("--prompt-file", help="read the prompt from FILE ('-': stdin); "
                                                       "for prompts of any size")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="pipeline variable NAME=VALUE, for {NAME} in the file "
                                            "(repeatable)")] = [],
    as_json: JsonOption = False,
    dsn: DsnOption = None,
) -> None:
    """Enqueue a task and print its id (or a whole pipeline with --file). The task's fields are checked
    by the engine (one rule, SW005 naming the column), not here."""
    import os

    if prompt_file is not None:
        if prompt is not None or file is not None:
            raise UsageError("--prompt-file gives the prompt: leave out PROMPT and --file")
        prompt = _read_prompt_file(prompt_file)
    if (prompt is None) == (file is None):
        raise UsageError("give either a PROMPT or --file PIPELINE (or the prompt in --prompt-file FILE)")
    if delay and at:
        raise UsageError("--delay and --at exclude each other")
    if set_ and file is None:
        raise UsageError("--set fills the {variables} of a pipeline: give --file too")
    if parent is None and os.environ.get("PGSWARM_TASK_ID", "").isdigit():
        parent = int(os.environ["PGSWARM_TASK_ID"])
    capability = _agent_capability(dsn)
    timeout_span = parse_duration(timeout, "--timeout") if timeout else None
    base = TaskSpec(
        prompt=prompt or "", agent=agent, queue=queue, args=parse_key_values(arg, "--arg") or None,
        priority=_priority(priority), depends_on=tuple(parse_ids(after, "--after")), key=key,
        delay=parse_duration(delay, "--delay") if delay else None, run_after=parse_when(at, "--at") if at else None,
        max_attempts=max_attempts, timeout=timeout_span, concurrency_key=concurrency_key, parent=parent,
        on_dependency_failure=on_dependency_failure, tags=tuple(tag))
    if file is not None:
        _add_pipeline(file, base, parse_variables(set_), as_json, dsn, capability)
        return
    with connect(dsn) as conn:
        if capability is None:  # an agent's login reads no table: the engine checks its ids
            if base.depends_on:
                _check_ids_exist(conn, [int(i) for i in base.depends_on], "--after")
            if parent is not None:
                _check_ids_exist(conn, [parent], "--parent")
        done = _enqueue(conn, [base], capability=capability)[0]
    if as_json:
        print_json({"id": done.id, "agent": done.agent, "status": done.status, "created": done.created})
    else:
        print(done.id)
    existing = "" if done.created else f" (key {done.key!r} was taken: its task)"
    default = " (the database's default agent; --agent chooses)" if agent is None else ""
    print(f"pgswarm: task {done.id}{existing}: agent {done.agent}{default}, {done.status}", file=sys.stderr)


def _read_prompt_file(name: str) -> str:
    """The prompt in a file ('-': stdin), which must be UTF-8 text and not empty."""
    where = "stdin" if name == "-" else name
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"--prompt-file: cannot read {where}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--prompt-file: {where} is not UTF-8 text "
                         f"(byte {exc.start} is {data[exc.start]:#04x})") from None
    if not text.strip():
        raise UsageError(f"--prompt-file: {where} is empty")
    if "\x00" in text:
        raise UsageError(f"--prompt-file: {where} holds a NUL byte (offset {text.index(chr(0))}); a prompt is text")
    return text


def _priority(value: str | None) -> int | str | None:
    """A number stays a number; a name goes to the engine (swarm.priority decides)."""
    if value is None:
        return None
    text = value.strip()
    return int(text) if text.lstrip("+-").isdigit() else text


def parse_variables(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UsageError(f"--set {pair!r}: expected NAME=VALUE (NAME a letter or _, then letters, digits, _)")
        values[name.strip()] = value
    return values


def _add_pipeline(file: Path, base: TaskSpec, variables: dict[str, str], as_json: bool, dsn: str | None,
                  capability: TaskCapability | None = None) -> None:
    if base.key is not None:
        raise UsageError("--key with --file: put `key:` in the pipeline file (each task gets '<key>/<step>')")
    if base.depends_on:
        raise UsageError("--after with --file: give `after: [ID]` to the steps that wait for existing tasks")
    planned = pipeline_file.plan(pipeline_file.load(file), file.name, base=replace(base, prompt=""),
                                 variables=variables)
    with connect(dsn) as conn:
        outside = sorted({i for p in planned for i in p.task.depends_on if isinstance(i, int)})
        if outside and capability is None:
            _check_ids_exist(conn, outside, file.name)
        if base.parent is not None and capability is None:
            _check_ids_exist(conn, [base.parent], "--parent")
        done = _enqueue(conn, [p.task for p in planned], prefix=f"{file.name}: ",  # all steps or none
                        capability=capability)
    ids = {str(p.task.ref): d.id for p, d in zip(planned, done)}
    created = [{"step": p.step, "item": p.item, "id": d.id, "agent": d.agent, "status": d.status,
                "created": d.created, "after": [i if isinstance(i, int) else ids[i] for i in p.task.depends_on]}
               for p, d in zip(planned, done)]
    if as_json:
        print_json(created)
    else:
        print_table(created, ["id", "step", "item", "agent", "status", "after"])


def ls(
    status: Annotated[list[str], typer.Option("--status", "-s", help="waiting, pending, running, completed, failed, "
                                              "cancelled (repeat or comma-separate)")] = [],
    agent: Annotated[Optional[str], typer.Option("--agent", "-a")] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", "-q")] = None,
    tag: Annotated[Optional[str], typer.Option("--tag", "-t")] = None,
    parent: Annotated[Optional[int], typer.Option("--parent")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="created within this long (1h, 7d)")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    everything: Annotated[bool, typer.Option("--all", help="all tasks, not only active and last 24 h")] = False,
    priority: Annotated[Optional[str], typer.Option("--priority", "-p", help="tasks of this priority: critical, high, "
                                                    "medium, low or a number")] = None,
    worker: Annotated[Optional[str], typer.Option("--worker", "-w", help="tasks this worker runs or ran last")] = None,
    as_json: JsonOption = False,
    dsn: DsnOption = None,
) -> None:
    """List tasks (default: active ones and those finished in the last 24 hours)."""
    statuses = _statuses(status)
    if limit < 1:
        raise UsageError(f"--limit {limit} must be at least 1")
    window = parse_duration(since, "--since") if since else None
    with connect(dsn) as conn:
        with db_errors():
            rows = queries.list_tasks(conn, queries.TaskFilter(statuses, agent, queue, tag, parent, window, limit,
                                                               everything, priority, worker))
    if as_json:
        print_json(rows)
        return
    view = [{**r, "attempts": f"{r['attempts']}/{r['max_attempts']}", "age": _age(r),
             "after": ",".join(map(str, r["depends_on"])), "prompt": shorten(r["prompt"], 50),
             "cost": f"${r['cost_usd']:.4f}" if r["cost_usd"] is not None else "",
             "waiting for": shorten(r["waiting_for"] or "", 30)} for r in rows]
    columns = ["id", "status", "agent", "queue", "priority", "attempts", "age", "after", "cost", "prompt"]
    if any(r["waiting_for"] for r in rows):
        columns.insert(-1, "waiting for")
    if worker is not None:
        columns.insert(4, "worker")
    print_table(view, columns, empty="no tasks (pgswarm ls --all shows older ones)")


def _age(row: dict[str, Any]) -> str:
    from ..output import duration

    end = row["finished_at"]
    start = row["started_at"] or row["created_at"]
    if end is not None and row["started_at"] is not None:
        return "ran " + duration(end - row["started_at"])
    from datetime import datetime

    return duration(datetime.now(start.tzinfo) - start)


def _existing_task(conn: psycopg.Connection, task_id: int) -> dict:
    task = queries.get_task(conn, task_id)
    if task is None:
        raise UnknownTask(f"task {task_id} not found")
    return task


def _related(task: dict) -> Text:
    return Text(f"#{task['id']} {task['status']} {task['agent']} {shorten(task['prompt'], 50)}")


def show(
    task_ref: Annotated[str, typer.Argument(metavar="ID", help="task id")],
    lines: Annotated[int, typer.Option("--lines", "-n", help="log tail lines")] = 20,
    as_json: JsonOption = False,
    dsn: DsnOption = None,
) -> None:
    """A task's fields, dependency tree, attempts, event timeline and log tail."""
    task_id = parse_task_id(task_ref)
    with connect(dsn) as conn:
        task = _existing_task(conn, task_id)
        deps = queries.dependencies(conn, task_id)
        dependents = queries.dependents(conn, task_id)
        kids = queries.children(conn, task_id)
        events = queries.task_events(conn, task_id)
        attempts = queries.task_attempts(conn, task_id)
        why = queries.why_pending(conn, task_id) if task["status"] in ("waiting", "pending") else []
    if as_json:
        print_json({"task": task, "why_pending": why, "dependencies": deps, "dependents": dependents,
                    "children": kids, "attempts": attempts, "events": events})
        return
    fields = ["id", "status", "agent", "queue", "priority", "attempts", "max_attempts", "timeout_seconds", "key",
              "parent_id", "concurrency_key", "depends_on", "on_dependency_failure", "tags", "args", "metadata",
              "created_at", "run_after", "started_at", "finished_at", "worker", "hostname", "pid",
              "lease_expires_at", "exit_code", "cost_usd", "input_tokens", "output_tokens", "error",
              "cancel_reason", "log_path", "created_by", "archived"]
    console.print(f"[bold]task {task_id}[/bold] ", status_text(task["status"]))
    for name in fields:
        value = task.get(name)
        if value in (None, [], {}, "") or (name == "archived" and not value):
            continue
        console.print(f"  {name:<22} {cell(value)}", markup=False, highlight=False)
    console.print(f"  {'prompt':<22} {shorten(task['prompt'], 400)}", markup=False, highlight=False)
    progress = task.get("progress")
    if isinstance(progress, dict) and progress:
        console.print(f"[bold]progress[/bold] (attempt {progress.get('attempt')})")
        cost = progress.get("cost_usd")
        tokens = (f"{progress.get('input_tokens') or 0} in / {progress.get('output_tokens') or 0} out"
                  if "input_tokens" in progress else None)
        for name, value in (("turns", progress.get("turns")), ("tokens", tokens),
                            ("cost so far", f"${float(cost):.4f}" if cost is not None else None),
                            ("tool", progress.get("tool")), ("last message", shorten(progress.get("message"), 200)),
                            ("the agent says", cell(progress["agent"]) if progress.get("agent") else None)):
            if value not in (None, ""):
                console.print(f"  {name:<22} {value}", markup=False, highlight=False)
    if task["status"] in ("waiting", "pending"):
        console.print("[bold]why it is not running[/bold]")
        for row in why or [{"reason": "nothing holds it back: a live worker should claim it soon"}]:
            console.print(f"  {row['reason']}", markup=False, highlight=False)
    if task.get("result") is not None:
        console.print(f"  {'result':<22} {shorten(cell(task['result']), 400)}", markup=False, highlight=False)
    tree = Tree(f"[bold]dependencies[/bold]")
    if deps or dependents or kids:
        up = tree.add("waits for") if deps else None
        for d in deps:
            assert up is not None
            up.add(Text(f"{'  ' * (d['depth'] - 1)}#{d['id']} {d['status'] or 'archived'} {d['agent'] or ''} "
                        f"{shorten(d['prompt'], 50)}"))
        if dependents:
            down = tree.add("needed by")
            for d in dependents:
                down.add(_related(d))
        if kids:
            branch = tree.add("children (--parent)")
            for d in kids:
                branch.add(_related(d))
        console.print(tree)
    if attempts:
        print_table([{**a, "tokens": _tokens(a), "session": _session(a), "error": shorten(a["error"] or "", 60)}
                     for a in attempts],
                    ["attempt", "worker", "hostname", "started_at", "run_seconds", "outcome", "cost_usd", "tokens",
                     "session", "error"], title="attempts")
    print_table([{**e, "detail": shorten(cell(e["detail"]) if e["detail"] else "", 70)} for e in events],
                ["at", "event", "worker", "attempt", "detail"], title="events")
    tail = (task.get("output_tail") or "").splitlines()[-lines:]
    if tail:
        console.print("[bold]log tail[/bold]")
        for line in tail:
            console.print(printable(line), markup=False, highlight=False)


def _tokens(attempt: dict) -> str:
    """'in/out' tokens of an attempt, or nothing when the agent reported none."""
    if attempt["input_tokens"] is None and attempt["output_tokens"] is None:
        return ""
    return f"{attempt['input_tokens'] or 0}/{attempt['output_tokens'] or 0}"


def _session(attempt: dict) -> str:
    """The session an attempt ran in, and the one it resumed (shortened ids)."""
    ran, resumed = attempt["session_id"] or "", attempt["resumed_session_id"]
    return f"{ran[:13]} (resumed {resumed[:13]})" if resumed else ran[:13]


def logs(
    task_ref: Annotated[str, typer.Argument(metavar="ID", help="task id")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="follow a running attempt until it ends (from any "
                                         "machine that reaches the database)")] = False,
    raw: Annotated[bool, typer.Option("--raw",
                                      help="the bytes the agent printed, not a transcript of its events")] = False,
    dsn: DsnOption = None,
) -> None:
    """Print a task's output as a transcript (the worker's log file when on this machine, else
    what the database holds); -f follows a running attempt live."""
    from .. import logfiles

    task_id = parse_task_id(task_ref)

    with connect(dsn) as conn:
        task = _existing_task(conn, task_id)
        if not follow or task["status"] in TERMINAL:
            logfiles.print_log(conn, task, raw)
            return
        logfiles.follow(conn, task_id, raw)


@dataclass(frozen=True)
class Selection:
    """What a cancel or retry acts on: task ids given, or a filter (checked before connecting)."""

    ids: tuple[int, ...]
    statuses: tuple[str, ...]
    agent: str | None
    queue: str | None

    @property
    def by_filter(self) -> bool:
        return not self.ids

    def describe(self) -> str:
        return ", ".join([f"status {'/'.join(self.statuses)}", *([f"agent {self.agent}"] if self.agent else []),
                          *([f"queue {self.queue}"] if self.queue else [])])


def _selection(ids: list[str], status: list[str], agent: str | None, queue: str | None, allowed: tuple[str, ...],
               verb: str) -> Selection:
    statuses = _statuses(status)
    if ids and (statuses or agent or queue):
        raise UsageError(f"{verb}: give task ids or a filter (--status --agent --queue), not both")
    if ids:
        return Selection(tuple(parse_ids(ids, "task id")), (), None, None)
    if not (statuses or agent or queue):
        raise UsageError(f"{verb}: give task ids, or a filter: --status, --agent, --queue")
    for s in statuses:
        if s not in allowed:
            raise UsageError(f"{verb} --status {s}: only {' or '.join(allowed)} tasks can be "
                             f"{'retried' if verb == 'retry' else 'cancelled'}")
    return Selection((), statuses or allowed, agent, queue)


def _targets(conn: psycopg.Connection, selection: Selection, verb: str) -> list[int]:
    """The given ids (all must exist), or the ids the filter matches now: what a confirmation shows
    is exactly what is acted on (tasks that changed meanwhile are skipped by the engine)."""
    if selection.ids:
        _check_ids_exist(conn, list(selection.ids), verb)
        return list(selection.ids)
    return queries.matching_task_ids(conn, selection.statuses, selection.agent, selection.queue)


def _act(dsn: str | None, selection: Selection, verb: str, yes: bool,
         many: Callable[[Client, list[int]], list[Changed]],
         one: Callable[[Client, int], str]) -> tuple[list[int], list[tuple[int, str]]] | None:
    """Cancel or retry what a selection names: the ids given, each in one transaction (all or none);
    a filter's tasks, once confirmed, in one statement (those that changed meanwhile are skipped).
    Returns (the ids targeted, [(task id, its status now)]), or None when the filter matches nothing."""
    with connect(dsn) as conn:
        ids = _targets(conn, selection, verb)
        client = Client(conn=conn)
        if not selection.by_filter:
            with conn.transaction():
                return ids, [(task_id, one(client, task_id)) for task_id in ids]
        if not ids:
            print(f"no task matches ({selection.describe()})")
            return None
        if not _confirm(verb, len(ids), selection.describe(), yes):
            raise typer.Exit(1)
        return ids, [(changed.task_id, changed.status) for changed in many(client, ids)]


def _confirm(what: str, count: int, described: str, yes: bool) -> bool:
    """Ask on stderr, read the answer from stdin; no answer at all (no input) is an error."""
    if yes:
        return True
    print(f"{what} {count} task(s) ({described})? [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    if not answer:
        print(file=sys.stderr)
        raise UsageError(f"{what} {count} task(s) ({described}): nothing was confirmed (no input); pass --yes")
    return answer.strip().lower() in ("y", "yes")


def _statuses(values: list[str]) -> tuple[str, ...]:
    statuses = tuple(s.strip() for value in values for s in value.split(",") if s.strip())
    for s in statuses:
        if s not in STATUSES:
            raise UsageError(f"--status {s!r} is not one of {', '.join(STATUSES)}{did_you_mean(s, list(STATUSES))}")
    return statuses


def cancel(
    task_ids: Annotated[Optional[list[str]],
                        typer.Argument(help="task ids (or a filter: --status --agent --queue)")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", "-r")] = None,
    status: Annotated[list[str], typer.Option("--status", "-s", help="filter: waiting, pending, running")] = [],
    agent: Annotated[Optional[str], typer.Option("--agent", "-a", help="filter: tasks of this agent")] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", "-q", help="filter: tasks of this queue")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="act on a filter's tasks without asking")] = False,
    dsn: DsnOption = None,
) -> None:
    """Cancel tasks: waiting and pending at once; running ones are stopped by their worker."""
    selection = _selection(task_ids or [], status, agent, queue, ("waiting", "pending", "running"), "cancel")
    acted = _act(dsn, selection, "cancel", yes, lambda client, ids: client.cancel_many(ids, reason),
                 lambda client, task_id: client.cancel(task_id, reason))
    if acted is None:
        return
    ids, results = acted
    for task_id, new_status in results:
        note = " (cancellation requested; its worker stops the process)" if new_status == "running" else ""
        print(f"task {task_id}: {new_status}{note}")
    if selection.by_filter:
        skipped = f"; {len(ids) - len(results)} had finished meanwhile" if len(results) < len(ids) else ""
        print(f"cancelled {len(results)} task(s) ({selection.describe()}){skipped}", file=sys.stderr)


def retry(
    task_ids: Annotated[Optional[list[str]],
                        typer.Argument(help="task ids, failed or cancelled (or a filter: --status ...)")] = None,
    status: Annotated[list[str], typer.Option("--status", "-s", help="filter: failed, cancelled")] = [],
    agent: Annotated[Optional[str], typer.Option("--agent", "-a", help="filter: tasks of this agent")] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", "-q", help="filter: tasks of this queue")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="act on a filter's tasks without asking")] = False,
    dsn: DsnOption = None,
) -> None:
    """Run failed or cancelled tasks again."""
    selection = _selection(task_ids or [], status, agent, queue, ("failed", "cancelled"), "retry")
    acted = _act(dsn, selection, "retry", yes, Client.retry_many, Client.retry)
    if acted is None:
        return
    _, results = acted
    for task_id, new_status in results:
        print(f"task {task_id}: {new_status}")
    if selection.by_filter:
        print(f"retried {len(results)} task(s) ({selection.describe()})", file=sys.stderr)


def export(
    since: Annotated[Optional[str], typer.Option("--since", help="only rows changed within this long (7d)")] = None,
    events: Annotated[bool, typer.Option("--events/--no-events", help="include the event history")] = True,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="write to a file instead of stdout")] = None,
    dsn: DsnOption = None,
) -> None:
    """Tasks and their events as JSON Lines ({"type": "task", ...} / {"type": "event", ...})."""
    window = parse_duration(since, "--since") if since else None
    if output is not None and not output.parent.exists():
        raise UsageError(f"--output: folder {output.parent} does not exist")
    with connect(dsn, autocommit=False) as conn:
        queries.begin_snapshot(conn)  # one consistent snapshot
        sink = open(output, "w") if output else sys.stdout
        count = 0
        try:
            for row in queries.export_tasks(conn, window):
                sink.write(queries.to_json_line({"type": "task", **row}) + "\n")
                count += 1
            if events:
                for row in queries.export_events(conn, window):
                    sink.write(queries.to_json_line({"type": "event", **row}) + "\n")
                    count += 1
        finally:
            if output:
                sink.close()
    if output:
        print(f"wrote {count} lines to {output}", file=sys.stderr)


def archive(
    older_than: Annotated[str, typer.Option("--older-than", help="finished longer ago than this (30d)")] = "30d",
    batch_size: Annotated[int, typer.Option("--batch-size",
                                            help="tasks moved per transaction (each committed)")] = 1000,
    dsn: DsnOption = None,
) -> None:
    """Move finished tasks and their events to the archive tables, in committed batches."""
    window = parse_duration(older_than, "--older-than")
    if window <= timedelta(0):
        raise UsageError("--older-than must be positive")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1 (got {batch_size})")
    with connect(dsn) as conn:
        moved = queries.archive(conn, window, batch_size)
    print(f"archived {moved} tasks finished more than {older_than} ago")


def register(app: typer.Typer) -> None:
    for command in (add, ls, show, logs, cancel, retry, export, archive):
        app.command()(command)
