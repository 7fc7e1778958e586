"""Pipeline files for `pgswarm add --file`: named steps with `after:` lists, fan-out and fan-in.

    name: fix-login            # optional, recorded in each task's metadata
    key: fix-login-v1          # optional: idempotency prefix, each task's key is "<key>/<step>[/<item>]"
    defaults: {agent: claude, args: {model: sonnet}, tags: [login]}
    steps:
      research: {prompt: "Find why login fails"}
      implement:
        prompt: "Implement the {item} part of the fix"
        each: [backend, frontend]      # fan-out: one task per item
        after: [research]
      review: {prompt: "Review the fix", after: [implement]}   # fan-in: waits for every part

The same in TOML uses `[steps.research]` tables. The file is validated completely before
anything is written; the tasks are then inserted in one transaction.
"""
from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from .common import parse_duration
from .queries import NewTask
from ..worker.errors import UsageError

STEP_KEYS = {"prompt", "agent", "after", "each", "priority", "key", "delay", "timeout", "max_attempts", "queue",
             "concurrency_key", "tags", "args", "metadata", "on_dependency_failure"}
TOP_KEYS = {"name", "key", "defaults", "steps"}


@dataclass(frozen=True)
class PlannedTask:
    step: str
    item: str | None
    task: NewTask
    after_steps: tuple[str, ...]
    after_ids: tuple[int, ...]


def load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read pipeline file {path}: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError / tomllib.TOMLDecodeError: the parser's own words
        first = " ".join(str(exc).split())
        raise UsageError(f"{path.name}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'YAML'}: {first}") \
            from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path.name}: expected a mapping with a 'steps' section")
    return data


def _unknown(where: str, key: str, allowed: set[str]) -> UsageError:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
    return UsageError(f"{where}: unknown key {key!r}{hint}")


def _typed(where: str, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise UsageError(f"{where}: {key} must be {what}, not {value!r}")
    return value


def _string_list(where: str, key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise UsageError(f"{where}: {key} must be a list of names, not {value!r}")
    return [str(v) for v in value]


def _ordered(steps: dict[str, dict[str, Any]], file: str) -> list[str]:
    """Step names with every step after the steps it waits for; a cycle is an error."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*path[path.index(name):], name])
            raise UsageError(f"{file}: steps form a cycle: {cycle}")
        state[name] = "visiting"
        for dep in steps[name].get("after", []):
            if not dep.isdigit():
                visit(dep, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in steps:
        visit(name, [])
    return order


def plan(data: dict[str, Any], file: str, *, parent_id: int | None = None,
         base: NewTask | None = None) -> list[PlannedTask]:
    """Validate a loaded pipeline and turn it into tasks in insertion order."""
    for key in data:
        if key not in TOP_KEYS:
            raise _unknown(file, key, TOP_KEYS)
    name = data.get("name")
    pipeline_key = data.get("key")
    if name is not None:
        _typed(file, "name", name, str, "a string")
    if pipeline_key is not None:
        _typed(file, "key", pipeline_key, str, "a string")
    defaults = data.get("defaults") or {}
    _typed(file, "defaults", defaults, dict, "a mapping")
    for key in defaults:
        if key not in STEP_KEYS - {"after", "each", "key", "prompt"}:
            raise _unknown(f"{file}: defaults", key, STEP_KEYS - {"after", "each", "key", "prompt"})
    raw_steps = data.get("steps")
    if isinstance(raw_steps, list):  # a list of {name: ..., ...} is accepted too
        converted: dict[str, Any] = {}
        for i, entry in enumerate(raw_steps):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise UsageError(f"{file}: steps[{i}] needs a 'name'")
            converted[entry["name"]] = {k: v for k, v in entry.items() if k != "name"}
        raw_steps = converted
    if not isinstance(raw_steps, dict) or not raw_steps:
        raise UsageError(f"{file}: 'steps' must map step names to steps, and name at least one")

    steps: dict[str, dict[str, Any]] = {}
    for step_name, raw in raw_steps.items():
        where = f"{file}: step {step_name!r}"
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: expected a mapping with at least a prompt")
        for key in raw:
            if key not in STEP_KEYS:
                raise _unknown(where, key, STEP_KEYS)
        step = {**defaults, **raw}
        step["after"] = _string_list(where, "after", step.get("after", []))
        for dep in step["after"]:
            if not dep.isdigit() and dep not in raw_steps:
                close = difflib.get_close_matches(dep, list(raw_steps), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise UsageError(f"{where}: after names unknown step {dep!r}{hint}")
            if dep == step_name:
                raise UsageError(f"{where}: a step cannot come after itself")
        steps[str(step_name)] = step

    planned: list[PlannedTask] = []
    for step_name in _ordered(steps, file):
        planned.extend(_step_tasks(step_name, steps[step_name], f"{file}: step {step_name!r}", name, pipeline_key,
                                   parent_id, base or NewTask(prompt="")))
    return planned


def _step_tasks(step_name: str, step: dict[str, Any], where: str, pipeline: str | None, pipeline_key: str | None,
                parent_id: int | None, base: NewTask) -> list[PlannedTask]:
    prompt = _typed(where, "prompt", step.get("prompt"), str, "a string (every step needs a prompt)")
    items = step.get("each")
    if items is not None:
        items = _string_list(where, "each", items)
        if not items:
            raise UsageError(f"{where}: each must list at least one item")
    delay: timedelta | None = None
    if "delay" in step:
        delay = parse_duration(str(step["delay"]), f"{where}: delay")
    timeout = base.timeout_seconds
    if "timeout" in step:
        timeout = int(parse_duration(str(step["timeout"]), f"{where}: timeout").total_seconds())
    task = replace(
        base,
        prompt=prompt,
        agent=_typed(where, "agent", step.get("agent", base.agent), str, "a string"),
        queue=_typed(where, "queue", step.get("queue", base.queue), str, "a string"),
        args={**base.args, **_typed(where, "args", step.get("args", {}), dict, "a mapping")},
        priority=_typed(where, "priority", step.get("priority", base.priority), int, "an integer"),
        delay=delay or base.delay,
        max_attempts=_typed(where, "max_attempts", step.get("max_attempts", base.max_attempts), int, "an integer"),
        timeout_seconds=timeout,
        concurrency_key=step.get("concurrency_key", base.concurrency_key),
        parent_id=parent_id,
        on_dependency_failure=_typed(where, "on_dependency_failure",
                                     step.get("on_dependency_failure", base.on_dependency_failure), str, "cancel or run"),
        tags=tuple(base.tags) + tuple(_string_list(where, "tags", step.get("tags", []))),
        metadata={**base.metadata, **_typed(where, "metadata", step.get("metadata", {}), dict, "a mapping"),
                  "step": step_name, **({"pipeline": pipeline} if pipeline else {})},
    )
    if task.on_dependency_failure not in ("cancel", "run"):
        raise UsageError(f"{where}: on_dependency_failure must be 'cancel' or 'run', not {task.on_dependency_failure!r}")
    after_steps = tuple(d for d in step["after"] if not d.isdigit())
    after_ids = tuple(int(d) for d in step["after"] if d.isdigit())
    step_key = step.get("key")
    out = []
    for item in items or [None]:
        key = step_key
        if key is None and pipeline_key:
            key = f"{pipeline_key}/{step_name}" + (f"/{item}" if item is not None else "")
        elif key is not None and item is not None:
            key = f"{key}/{item}"
        text = prompt.replace("{item}", item) if item is not None else prompt
        metadata = {**task.metadata, **({"item": item} if item is not None else {})}
        out.append(PlannedTask(step_name, item, replace(task, prompt=text, key=key, metadata=metadata),
                               after_steps, after_ids))
    return out
