"""Pipeline files for `pgswarm add --file`: named steps with `after:` lists, fan-out and fan-in.

    name: fix-login            # optional, recorded in each task's metadata
    key: fix-login-{ticket}    # optional: idempotency prefix, each task's key is "<key>/<step>[/<item>]"
    vars: {repo: /srv/app}     # optional: defaults of the {variables} (`pgswarm add --set k=v` gives the rest)
    defaults: {agent: claude, args: {model: sonnet, cwd: "{repo}"}, tags: [login]}
    steps:
      research: {prompt: "Find why login fails (ticket {ticket})", priority: high}
      implement:
        prompt: "Implement the {item} part of the fix"
        each: [backend, frontend]      # fan-out: one task per item
        after: [research]
      review: {prompt: "Review the fix", after: [implement]}   # fan-in: waits for every part

The same in TOML uses `[steps.research]` tables. `{name}` in any string is a variable (`{item}`
the fan-out item; `{{name}}` a literal `{name}`); one that is neither given nor defaulted is an
error naming it. The file is validated completely before anything is written; the tasks are then
enqueued in one call (swarm.enqueue_many, one transaction), each step's tasks named by a ref
(`step` or `step/item`) that the later steps depend on.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from .common import parse_duration
from ..client import TaskSpec
from ..worker.errors import UsageError

STEP_KEYS = {"prompt", "agent", "after", "each", "priority", "key", "delay", "timeout", "max_attempts", "queue",
             "concurrency_key", "tags", "args", "metadata", "on_dependency_failure"}
TOP_KEYS = {"name", "key", "vars", "defaults", "steps"}
ITEM = "item"  # the fan-out variable, filled per task
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class PlannedTask:
    step: str
    item: str | None
    task: TaskSpec  # ref "step" or "step/item"; depends_on: ids and the refs of earlier steps' tasks


def fill_variables(data: dict[str, Any], given: dict[str, str], file: str) -> dict[str, Any]:
    """The pipeline with every `{name}` in its strings replaced (`{item}` kept for the fan-out).

    Variables come from `given` (--set), else from the file's `vars:` defaults; a variable used
    and not set, or set and not used, is an error naming it.
    """
    defaults = data.get("vars") or {}
    if not isinstance(defaults, dict):
        raise UsageError(f"{file}: vars must map variable names to default values")
    values = {str(k): str(v) for k, v in defaults.items() if v is not None}  # null: no default
    values.update(given)
    if ITEM in given:
        raise UsageError(f"--set {ITEM}: {{{ITEM}}} is the fan-out item of `each:`, not a variable")
    used: set[str] = set()

    def text(value: str, where: str) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) is not None:
                return "{" + match.group(1) + "}"  # {{name}}: a literal {name}
            name = match.group(2)
            if name == ITEM:
                return match.group(0)
            if name not in values:
                raise UsageError(f"{file}: {where} uses {{{name}}}, which is not set: pass --set {name}=VALUE")
            used.add(name)
            return values[name]
        return _PLACEHOLDER.sub(one, value)

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, str):
            return text(value, where)
        if isinstance(value, list):
            return [walk(v, where) for v in value]
        if isinstance(value, dict):
            return {k: v if k == "after" else walk(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
        return value

    filled = {k: v if k == "vars" else walk(v, k) for k, v in data.items()}
    unused = sorted(set(given) - used)
    if unused:
        known = sorted({m.group(2) for m in _PLACEHOLDER.finditer(repr(data)) if m.group(2) and m.group(2) != ITEM})
        hint = f" (it uses: {', '.join(known)})" if known else " (it uses no variables)"
        raise UsageError(f"--set {unused[0]}: {file} has no {{{unused[0]}}}{hint}")
    return filled


def load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read pipeline file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path.name}: not a text file (byte {exc.start} is not UTF-8); "
                         "a pipeline is YAML or TOML") from None
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            data = _load_yaml(text)
    except Exception as exc:  # yaml.YAMLError / tomllib.TOMLDecodeError: the parser's own words
        first = " ".join(str(exc).split())
        raise UsageError(f"{path.name}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'YAML'}: {first}") \
            from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path.name}: expected a mapping with a 'steps' section")
    return data


def _load_yaml(text: str) -> Any:
    """yaml.safe_load, except that a key given twice in one mapping (two steps of one name, say) is
    an error, as in TOML, instead of the last one silently winning."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:  # an unhashable key is a TypeError: reported as invalid YAML below
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)


def _unknown(where: str, key: str, allowed: set[str]) -> UsageError:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(sorted(allowed))})"
    return UsageError(f"{where}: unknown key {key!r}{hint}")


def _typed(where: str, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    ints = kind is int or (isinstance(kind, tuple) and int in kind)
    if not isinstance(value, kind) or (isinstance(value, bool) and ints):
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


def plan(data: dict[str, Any], file: str, *, base: TaskSpec | None = None,
         variables: dict[str, str] | None = None) -> list[PlannedTask]:
    """Validate a loaded pipeline and turn it into tasks in insertion order."""
    for key in data:
        if key not in TOP_KEYS:
            raise _unknown(file, key, TOP_KEYS)
    data = fill_variables(data, variables or {}, file)
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
    for step_name in raw_steps:
        if "/" in str(step_name):
            raise UsageError(f"{file}: step {step_name!r}: a step name cannot contain '/'")

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
    refs: dict[str, list[str]] = {}
    for step_name in _ordered(steps, file):
        tasks = _step_tasks(step_name, steps[step_name], f"{file}: step {step_name!r}", name, pipeline_key,
                            base or TaskSpec(prompt=""), refs)
        refs[step_name] = [str(t.task.ref) for t in tasks]
        planned.extend(tasks)
    return planned


def _step_tasks(step_name: str, step: dict[str, Any], where: str, pipeline: str | None, pipeline_key: str | None,
                base: TaskSpec, refs: dict[str, list[str]]) -> list[PlannedTask]:
    prompt = _typed(where, "prompt", step.get("prompt"), str, "a string (every step needs a prompt)")
    items = step.get("each")
    if items is not None:
        items = _string_list(where, "each", items)
        if not items:
            raise UsageError(f"{where}: each must list at least one item")
    delay: timedelta | float | None = base.delay
    if "delay" in step:
        delay = parse_duration(str(step["delay"]), f"{where}: delay")
    timeout = base.timeout
    if "timeout" in step:
        timeout = parse_duration(str(step["timeout"]), f"{where}: timeout")
    on_failure = _typed(where, "on_dependency_failure", step.get("on_dependency_failure", base.on_dependency_failure),
                        (str, type(None)), "cancel or run")
    if on_failure not in (None, "cancel", "run"):
        raise UsageError(f"{where}: on_dependency_failure must be 'cancel' or 'run', not {on_failure!r}")
    task = replace(
        base,
        prompt=prompt,
        agent=_typed(where, "agent", step.get("agent", base.agent), (str, type(None)), "a string"),
        queue=_typed(where, "queue", step.get("queue", base.queue), (str, type(None)), "a string"),
        args={**(base.args or {}), **_typed(where, "args", step.get("args", {}), dict, "a mapping")},
        priority=_typed(where, "priority", step.get("priority", base.priority), (int, str, type(None)),
                        "an integer or a name (critical, high, medium, low)"),
        delay=delay,
        max_attempts=_typed(where, "max_attempts", step.get("max_attempts", base.max_attempts), (int, type(None)),
                            "an integer"),
        timeout=timeout,
        concurrency_key=step.get("concurrency_key", base.concurrency_key),
        on_dependency_failure=on_failure,
        tags=tuple(base.tags) + tuple(_string_list(where, "tags", step.get("tags", []))),
        metadata={**(base.metadata or {}), **_typed(where, "metadata", step.get("metadata", {}), dict, "a mapping"),
                  "step": step_name, **({"pipeline": pipeline} if pipeline else {})},
    )
    depends_on: list[int | str] = [int(d) for d in step["after"] if d.isdigit()]
    depends_on += [ref for d in step["after"] if not d.isdigit() for ref in refs[d]]
    step_key = step.get("key")
    out = []
    for item in items or [None]:
        key = step_key
        if key is None and pipeline_key:
            key = f"{pipeline_key}/{step_name}" + (f"/{item}" if item is not None else "")
        elif key is not None and item is not None:
            key = f"{key}/{item}"
        text = prompt.replace("{item}", item) if item is not None else prompt
        if key is not None and item is not None:
            key = key.replace("{item}", item)
        metadata = {**(task.metadata or {}), **({"item": item} if item is not None else {})}
        ref = step_name if item is None else f"{step_name}/{item}"
        out.append(PlannedTask(step_name, item, replace(task, prompt=text, key=key, metadata=metadata, ref=ref,
                                                        depends_on=tuple(depends_on))))
    return out
