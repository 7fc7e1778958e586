"""Task args checked at INSERT against the agent's declaration (swarm.agents.task_args), prompt
size limits (swarm.agents.max_prompt_bytes), and which values a worker must be allowed to pass."""
from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers.swarm import SwarmClient


def _refused(conn: psycopg.Connection, agent: str, args: dict, prompt: str = "x") -> psycopg.Error:
    before = conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0]
    with pytest.raises(psycopg.Error) as info:
        conn.execute("insert into swarm.agent_tasks (agent, prompt, args) values (%s, %s, %s)",
                     (agent, prompt, Jsonb(args)))
    assert conn.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == before
    return info.value


@pytest.mark.parametrize(("agent", "args", "says"), [
    ("claude", {"max_turn": 3}, "unknown argument args.max_turn for agent 'claude'"),
    ("claude", {"mcp-config": "x.json"}, "unknown argument args.mcp-config"),
    ("claude", {"max_turns": "abc"}, "args.max_turns for agent 'claude' must be an integer, not \"abc\""),
    ("claude", {"max_turns": 2.5}, "args.max_turns for agent 'claude' must be an integer"),
    ("claude", {"max_turns": 0}, "args.max_turns for agent 'claude' must be at least 1"),
    ("claude", {"effort": "huge"}, "args.effort for agent 'claude' cannot be \"huge\""),
    ("claude", {"permission_mode": "yolo"}, "args.permission_mode for agent 'claude' cannot be \"yolo\""),
    ("claude", {"allowed_tools": [1]}, "args.allowed_tools for agent 'claude' must be a string or a non-empty list"),
    ("claude", {"model": "--dangerously-skip-permissions"}, "must not be empty or start with '-'"),
    ("claude", {"strict_mcp_config": "yes"}, "args.strict_mcp_config for agent 'claude' must be true or false"),
    ("codex", {"sandbox": "none"}, "args.sandbox for agent 'codex' cannot be \"none\""),
    ("codex", {"config": "model=o3"}, "args.config for agent 'codex' must be a JSON object"),
    ("gemini", {"approval_mode": "auto"}, "args.approval_mode for agent 'gemini' cannot be \"auto\""),
    ("shell", {"model": "x"}, "unknown argument args.model for agent 'shell'"),
    ("shell", {"resume_on_retry": "sometimes"}, "args.resume_on_retry for agent 'shell' cannot be \"sometimes\""),
    ("aider", {"idle_timeout_seconds": "10"}, "args.idle_timeout_seconds for agent 'aider' must be an integer"),
])
def test_unknown_keys_and_wrong_types_are_refused_naming_the_key(conn, agent: str, args: dict, says: str) -> None:
    err = _refused(conn, agent, args)
    assert err.sqlstate == "SW005"
    assert says in err.diag.message_primary


def test_an_unknown_key_lists_what_the_agent_takes(conn) -> None:
    err = _refused(conn, "claude", {"max_turn": 3})
    assert "max_turns" in err.diag.message_hint and "mcp_config" in err.diag.message_hint
    assert "repo" in err.diag.message_hint  # the arguments every agent takes


def test_declared_args_are_accepted(swarm: SwarmClient) -> None:
    accepted = [
        ("claude", {"model": "opus", "max_turns": 5, "effort": "high", "mcp_config": {"mcpServers": {}},
                    "strict_mcp_config": True, "settings": "settings.json", "json_schema": {"type": "object"},
                    "system_prompt": "- be terse", "append_system_prompt": "x", "fallback_model": "sonnet",
                    "allowed_tools": ["Read", "Edit"], "max_budget_usd": 0.5, "cwd": "/tmp"}),
        ("codex", {"config": {"model_reasoning_effort": "high"}, "output_schema": "schema.json",
                   "sandbox": "workspace-write", "profile": "ci", "repo": "/srv/repo", "base": "main"}),
        ("gemini", {"approval_mode": "plan", "model": "gemini-2.5-pro", "resume_on_retry": "never"}),
        ("opencode", {"model": "anthropic/claude-sonnet-4"}),
        ("cursor", {"model": "gpt-5", "force": False}),
        ("shell", {"repo": "/srv/repo", "idle_timeout_seconds": 30}),
        ("aider", {"model": None, "read": None, "max_turns": None}),
    ]
    for agent, args in accepted:
        swarm.make_task("x", agent=agent, args=Jsonb(args))


def test_an_agent_without_a_declaration_takes_any_key_but_common_ones_are_checked(swarm: SwarmClient, conn) -> None:
    conn.execute("insert into swarm.agents (name) values ('mytool')")
    swarm.make_task("x", agent="mytool", args=Jsonb({"anything": [1, 2], "mode": "fast"}))
    err = _refused(conn, "mytool", {"cwd": 3})
    assert "args.cwd for agent 'mytool' must be a string" in err.diag.message_primary


def test_an_update_of_args_is_checked_too(swarm: SwarmClient, conn) -> None:
    task_id = swarm.make_task("x", agent="claude")
    with pytest.raises(psycopg.Error) as info:
        conn.execute("update swarm.agent_tasks set args = '{\"max_turn\": 1}' where id = %s", (task_id,))
    assert info.value.sqlstate == "SW005" and "args.max_turn" in info.value.diag.message_primary


def test_enqueue_many_refuses_bad_args_naming_the_task(swarm: SwarmClient) -> None:
    with pytest.raises(psycopg.Error) as info:
        swarm.conn.execute("select swarm.enqueue_many(%s)",
                           (Jsonb([{"prompt": "a", "agent": "claude", "args": {"max_turns": "abc"}}]),))
    assert info.value.sqlstate == "SW005" and "args.max_turns" in str(info.value)


def test_a_prompt_over_the_agents_limit_is_refused_at_insert(swarm: SwarmClient, conn) -> None:
    err = _refused(conn, "claude", {}, prompt="x" * (10 * 1024 * 1024))
    assert err.sqlstate == "SW005"
    assert "prompt of 10485760 bytes is over the 1048576-byte limit of agent 'claude'" in err.diag.message_primary
    assert "max_prompt_bytes" in err.diag.message_hint
    swarm.make_task("é" * (512 * 1024 - 1), agent="claude")  # 1 MiB - 2 bytes in UTF-8: accepted
    err = _refused(conn, "claude", {}, prompt="é" * (512 * 1024 + 1))
    assert "prompt of 1048578 bytes" in err.diag.message_primary
    conn.execute("update swarm.agents set max_prompt_bytes = 16 where name = 'shell'")
    err = _refused(conn, "shell", {}, prompt="echo 0123456789abcdef")
    assert "over the 16-byte limit of agent 'shell'" in err.diag.message_primary


def _needs(swarm: SwarmClient, agent: str, args: dict) -> list[str]:
    return swarm.scalar("select swarm.task_arg_needs(a.name, %s, a.task_args) from swarm.agents as a "
                        "where a.name = %s", (Jsonb(args), agent))


def test_widening_values_and_paths_outside_the_task_directory_need_an_allowance(swarm: SwarmClient) -> None:
    assert _needs(swarm, "claude", {"permission_mode": "acceptEdits", "model": "opus"}) == []
    assert _needs(swarm, "claude", {"permission_mode": "bypassPermissions"}) == ["permission_mode=bypassPermissions"]
    assert _needs(swarm, "claude", {"add_dirs": ["/"]}) == ["add_dirs=/"]
    assert _needs(swarm, "claude", {"add_dirs": ["docs", "/srv/app/lib"], "cwd": "/srv/app"}) == []
    assert _needs(swarm, "claude", {"add_dirs": ["../other", "/srv/app2"], "cwd": "/srv/app"}) == [
        "add_dirs=../other", "add_dirs=/srv/app2"]
    assert _needs(swarm, "claude", {"mcp_config": {"mcpServers": {}}}) == ["mcp_config"]
    assert _needs(swarm, "claude", {"settings": "s.json"}) == ["settings"]
    assert _needs(swarm, "codex", {"sandbox": "danger-full-access"}) == ["sandbox=danger-full-access"]
    assert _needs(swarm, "codex", {"sandbox": "workspace-write", "config": {"a": 1}}) == ["config"]
    assert _needs(swarm, "codex", {"output_schema": "/etc/passwd"}) == ["output_schema=/etc/passwd"]
    assert _needs(swarm, "aider", {"read": ["/etc/shadow", "README.md"]}) == ["read=/etc/shadow"]
    assert _needs(swarm, "aider", {"read": ["~/.ssh/id_rsa"]}) == ["read=~/.ssh/id_rsa"]
    assert _needs(swarm, "gemini", {"approval_mode": "yolo"}) == ["approval_mode=yolo"]
    assert _needs(swarm, "cursor", {"force": True}) == ["force=true"]
    assert _needs(swarm, "cursor", {"force": False}) == []


def test_the_claim_leaves_a_widening_task_to_a_worker_allowed_to_run_it(swarm: SwarmClient, conn) -> None:
    plain = swarm.make_task("x", agent="claude", args=Jsonb({"permission_mode": "acceptEdits"}))
    bypass = swarm.make_task("x", agent="claude", args=Jsonb({"permission_mode": "bypassPermissions"}))
    outside = swarm.make_task("x", agent="aider", args=Jsonb({"read": ["/etc/shadow"]}), concurrency_key="k")
    assert swarm.task(bypass)["arg_allowances"] == ["permission_mode=bypassPermissions"]
    for worker, allowed in (("strict", []), ("bypass", ["permission_mode=bypassPermissions"]), ("reads", ["read"])):
        conn.execute("select swarm.register_worker(%s, 'h', 1, null, null, 4)", (worker,))
        conn.execute("select swarm.set_worker_allowed_args(%s, %s)", (worker, allowed))
    assert [t["id"] for t in swarm.claim("strict", max_tasks=10)] == [plain]
    assert [t["id"] for t in swarm.claim("reads", max_tasks=10)] == [outside]  # the keyed (careful) path
    assert [t["id"] for t in swarm.claim("bypass", max_tasks=10)] == [bypass]
    assert [t["id"] for t in swarm.claim("unregistered", max_tasks=10)] == []


def test_an_update_of_args_recomputes_the_allowances(swarm: SwarmClient, conn) -> None:
    task_id = swarm.make_task("x", agent="codex", args=Jsonb({"sandbox": "workspace-write"}))
    conn.execute("update swarm.agent_tasks set args = '{\"sandbox\": \"danger-full-access\"}' where id = %s",
                 (task_id,))
    assert swarm.task(task_id)["arg_allowances"] == ["sandbox=danger-full-access"]


def test_allowed_args_must_be_name_or_name_value(conn) -> None:
    conn.execute("select swarm.register_worker('w', 'h', 1, null, null, 4)")
    for bad in (["=x"], ["permission mode"], [None]):
        with pytest.raises(psycopg.Error) as info:
            conn.execute("select swarm.set_worker_allowed_args('w', %s)", (bad,))
        assert info.value.sqlstate == "SW005"
    with pytest.raises(psycopg.Error) as info:
        conn.execute("select swarm.set_worker_allowed_args('nobody', '{add_dirs}')")
    assert "unknown worker 'nobody'" in info.value.diag.message_primary


def test_why_pending_says_which_allowance_no_live_worker_has(swarm: SwarmClient, conn) -> None:
    task_id = swarm.make_task("x", agent="codex", args=Jsonb({"sandbox": "danger-full-access"}))
    conn.execute("select swarm.register_worker('strict', 'h', 1, '{codex}', null, 4)")
    reasons = conn.execute("select code, brief from swarm.why_pending(%s)", (task_id,)).fetchall()
    assert reasons == [("arg_policy", "needs --allow-arg sandbox=danger-full-access")]
    conn.execute("select swarm.set_worker_allowed_args('strict', '{sandbox}')")
    assert conn.execute("select count(*) from swarm.why_pending(%s)", (task_id,)).fetchone()[0] == 0
    assert [t["id"] for t in swarm.claim("strict")] == [task_id]


def test_a_schedule_with_bad_args_is_refused_when_made_not_at_each_fire(conn) -> None:
    with pytest.raises(psycopg.Error) as info:
        conn.execute("""insert into swarm.schedules (name, cron, prompt, agent, args)
                        values ('nightly', '@daily', 'x', 'claude', '{"max_turn": 3}')""")
    assert info.value.sqlstate == "SW005" and "args.max_turn for agent 'claude'" in info.value.diag.message_primary
    conn.execute("""insert into swarm.schedules (name, cron, prompt, agent, args)
                    values ('nightly', '@daily', 'x', 'claude', '{"max_turns": 3}')""")
