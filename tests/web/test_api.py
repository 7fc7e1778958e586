"""The REST API against a real `pgswarm web` process and real PostgreSQL: every route, auth,
bad input (4xx with the engine's message, never a 500), enqueue with dependencies by key."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import psycopg
import pytest

from tests.cli.conftest import REPO, run_pgswarm
from tests.web.conftest import WebServer, make_token

READ_ROUTES = ["/api/v1/tasks", "/api/v1/tasks/1", "/api/v1/tasks/1/events", "/api/v1/stats", "/api/v1/agents",
               "/metrics"]


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def add(db: psycopg.Connection, prompt: str, **columns: Any) -> int:
    columns = {"prompt": prompt, **columns}
    return int(db.execute(f"insert into swarm.agent_tasks ({', '.join(columns)}) values "
                          f"({', '.join(['%s'] * len(columns))}) returning id", list(columns.values())).fetchone()[0])


def test_every_route_is_described_in_openapi_and_every_described_path_is_served(web: WebServer) -> None:
    from pgswarm.cli.web import api

    spec = httpx.get(web.url + "/api/v1/openapi.json").json()  # open: it holds no data
    assert spec["openapi"].startswith("3.")
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = {(route.path, method) for route in api.routes if route.path.startswith("/api/")
              for method in route.methods - {"HEAD"}}
    assert described == served


def test_no_token_is_401_a_bad_token_401_and_a_small_scope_403(web: WebServer, db: psycopg.Connection) -> None:
    task = add(db, "echo hi")
    with web.client() as anonymous:
        for path in READ_ROUTES:
            response = anonymous.get(path.replace("/1", f"/{task}"))
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "Bearer" in error_of(response)["message"]
        assert anonymous.post("/api/v1/tasks", json={"prompt": "x"}).status_code == 401
    with httpx.Client(base_url=web.url, headers={"Authorization": "Bearer pgsw_nope"}) as wrong:
        assert "unknown, revoked or expired" in error_of(wrong.get("/api/v1/tasks"))["message"]
    with httpx.Client(base_url=web.url, headers={"Authorization": "Basic abc"}) as basic:
        assert basic.get("/api/v1/tasks").status_code == 401
    with web.client("read") as reader:
        assert reader.get(f"/api/v1/tasks/{task}").status_code == 200
        refused = reader.post("/api/v1/tasks", json={"prompt": "x"})
        assert refused.status_code == 403 and "'enqueue'" in error_of(refused)["message"]
        assert reader.post(f"/api/v1/tasks/{task}/cancel").status_code == 403
    with web.client("enqueue") as enqueuer:
        assert enqueuer.post(f"/api/v1/tasks/{task}/retry").status_code == 403
        assert enqueuer.post("/api/v1/agents/shell/pause", json={}).status_code == 403
        assert enqueuer.post(f"/api/v1/tasks/{task}/priority", json={"priority": 5}).status_code == 403
    assert db.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 1, "a refused request changed nothing"


def test_a_revoked_or_expired_token_stops_working(web: WebServer, dsn: str) -> None:
    token = make_token(dsn, "read", "soon-gone")
    assert run_pgswarm("web", "token", "revoke", "soon-gone", env={"PGSWARM_DSN": dsn}).ok()
    with httpx.Client(base_url=web.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/v1/tasks").status_code == 401
    with psycopg.connect(dsn, autocommit=True) as conn:
        expired = conn.execute("select swarm.create_web_token('brief', 'read', now() + interval '1 second')").fetchone()[0]
        conn.execute("update swarm.web_tokens set expires_at = now() - interval '1 second' where name = 'brief'")
    with httpx.Client(base_url=web.url, headers={"Authorization": f"Bearer {expired}"}) as client:
        assert client.get("/api/v1/tasks").status_code == 401


def test_enqueue_one_task_returns_201_with_its_id(web: WebServer, db: psycopg.Connection) -> None:
    with web.client("enqueue") as client:
        response = client.post("/api/v1/tasks", json={"prompt": "echo hi", "priority": 7, "tags": ["api"],
                                                      "args": {"cwd": "/srv/app"}, "delay_seconds": 60})
    assert response.status_code == 201, response.text
    [task_id] = response.json()["ids"]
    row = db.execute("select prompt, priority, tags, args, run_after > now() + interval '50 seconds', created_by "
                     "from swarm.agent_tasks where id = %s", (task_id,)).fetchone()
    assert row[:5] == ("echo hi", 7, ["api"], {"cwd": "/srv/app"}, True)
    assert row[5] == db.info.user  # the server's login made it, whoever holds the token


def test_enqueue_many_with_dependencies_by_key_in_one_request(web: WebServer, db: psycopg.Connection) -> None:
    batch = {"tasks": [
        {"prompt": "research", "key": "r"},
        {"prompt": "fix", "key": "f", "depends_on": ["r"]},
        {"prompt": "test", "key": "t", "depends_on": ["r"]},
        {"prompt": "review", "depends_on": ["f", "t"]},
    ]}
    with web.client("enqueue") as client:
        response = client.post("/api/v1/tasks", json=batch)
        assert response.status_code == 201, response.text
        research, fix, test, review = response.json()["ids"]
        assert [t["key"] for t in response.json()["tasks"]] == ["r", "f", "t", None]
        again = client.post("/api/v1/tasks", json={"tasks": batch["tasks"][:3]})
    rows = dict(db.execute("select id, depends_on from swarm.agent_tasks").fetchall())
    assert rows[fix] == [research] and rows[test] == [research] and sorted(rows[review]) == [fix, test]
    assert db.execute("select status from swarm.agent_tasks where id = %s", (review,)).fetchone()[0] == "waiting"
    assert again.status_code == 201 and again.json()["ids"] == [research, fix, test], "the idempotency keys held"
    assert len(rows) == 4


@pytest.mark.parametrize(("body", "status", "fragment", "sqlstate"), [
    ({"prompt": "x", "agent": "claud"}, 400, "unknown agent 'claud'", "SW001"),
    ({"prompt": "x", "depends_on": [999999]}, 400, "999999", "SW004"),
    ({"prompt": "x", "priority": 5000}, 400, "priority 5000", "SW005"),
    ({"prompt": "x", "max_attempts": 0}, 400, "max_attempts", "SW005"),
    ({"prompt": "x", "parent_id": 999999}, 400, "999999", "SW002"),
    ({"prompt": "x", "colour": "red"}, 400, "unknown field 'colour'", None),
    ({"prompt": 5}, 400, "task.prompt", None),
    ({"agent": "shell"}, 400, "needs a prompt", None),
    ({"prompt": "x", "priority": "high!"}, 400, "unknown priority 'high!'", "SW005"),  # names are the engine's
    ({"prompt": "x", "run_after": "tomorrow"}, 400, "run_after", None),
    ({"tasks": []}, 400, "non-empty list", None),
    ({"tasks": [{"prompt": "a", "depends_on": ["later"]}, {"prompt": "b", "key": "later"}]}, 400, "'later'", None),
    ([1, 2], 400, "JSON object", None),
])
def test_bad_enqueue_input_is_a_4xx_with_the_engines_message_and_inserts_nothing(
        web: WebServer, db: psycopg.Connection, body: Any, status: int, fragment: str, sqlstate: str | None) -> None:
    with web.client("enqueue") as client:
        response = client.post("/api/v1/tasks", json=body)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert fragment in error["message"], error
    if sqlstate:
        assert error["sqlstate"] == sqlstate
    assert db.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_a_batch_with_one_bad_task_inserts_none_of_them(web: WebServer, db: psycopg.Connection) -> None:
    with web.client("enqueue") as client:
        response = client.post("/api/v1/tasks", json={"tasks": [{"prompt": "ok"}, {"prompt": "bad", "agent": "nope"}]})
    assert response.status_code == 400 and error_of(response)["sqlstate"] == "SW001"
    assert db.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 0


def test_a_body_that_is_not_json_or_a_bad_query_is_400_never_500(web: WebServer, db: psycopg.Connection) -> None:
    task = add(db, "x")
    with web.client("admin") as client:
        probes = [
            client.post("/api/v1/tasks", content=b"{not json", headers={"content-type": "application/json"}),
            client.post("/api/v1/tasks", content=b"\xff\xfe"),
            client.get("/api/v1/tasks", params={"status": "done"}),
            client.get("/api/v1/tasks", params={"limit": "0"}),
            client.get("/api/v1/tasks", params={"limit": "lots"}),
            client.get("/api/v1/tasks", params={"before": "-3"}),
            client.get("/api/v1/tasks", params={"from": "last tuesday"}),
            client.get("/api/v1/tasks", params={"parent": "x"}),
            client.get("/api/v1/tasks/abc"),
            client.get("/api/v1/tasks/99999999999999999999"),
            client.get("/api/v1/stats", params={"since": "forever"}),
            client.post(f"/api/v1/tasks/{task}/priority", json={"priority": "up"}),
            client.post(f"/api/v1/tasks/{task}/priority", json={"priority": 1001}),
            client.post(f"/api/v1/tasks/{task}/cancel", json={"reason": 5}),
            client.post("/api/v1/agents/shell/pause", json={"until": "yesterday-ish"}),
            client.post("/api/v1/agents/shell/pause", json={"until": "2000-01-01T00:00:00Z"}),
            client.post("/api/v1/tasks/bulk", json={"action": "explode", "filter": {"agent": "shell"}}),
            client.post("/api/v1/tasks/bulk", json={"action": "cancel", "filter": {}}),
            client.post("/api/v1/tasks/bulk", json={"action": "cancel", "filter": {"colour": 1}}),
        ]
    for response in probes:
        assert response.status_code == 400, (response.request.url, response.status_code, response.text)
        assert error_of(response)["message"]
    assert db.execute("select status, priority from swarm.agent_tasks where id = %s", (task,)).fetchone() == ("pending", 0)


def test_list_filters_and_keyset_pages(web: WebServer, db: psycopg.Connection) -> None:
    ids = [add(db, f"job {i}" + (" needle" if i % 10 == 0 else ""), agent="claude" if i % 2 else "shell",
               queue="q2" if i % 3 == 0 else "default", tags=["even"] if i % 2 == 0 else [])
           for i in range(1, 61)]
    parent = ids[0]
    child = add(db, "child", parent_id=parent)
    db.execute("select swarm.cancel_task(%s)", (ids[5],))
    with web.client("read") as client:
        seen: list[int] = []
        before = None
        while True:
            page = client.get("/api/v1/tasks", params={"limit": 7, **({"before": before} if before else {})}).json()
            seen += [t["id"] for t in page["tasks"]]
            before = page["next_before"]
            if before is None:
                break
        assert seen == sorted([*ids, child], reverse=True), "keyset pages: every task once, newest first"

        def listed(**params: Any) -> list[int]:
            response = client.get("/api/v1/tasks", params={"limit": 500, **params})
            assert response.status_code == 200, response.text
            return [t["id"] for t in response.json()["tasks"]]

        assert listed(agent="claude") == [i for i in reversed(ids) if ids.index(i) % 2 == 0]
        assert listed(queue="q2") == [ids[i - 1] for i in range(60, 0, -1) if i % 3 == 0]
        assert listed(tag="even") == [ids[i - 1] for i in range(60, 0, -1) if i % 2 == 0]
        assert listed(q="NEEDLE") == [ids[i - 1] for i in range(60, 0, -1) if i % 10 == 0]
        assert listed(q="50%") == [], "% is text, not a wildcard"
        assert listed(status="cancelled") == [ids[5]]
        assert listed(status="cancelled,pending")[-1] == ids[0]
        assert listed(parent=parent) == [child]
        assert listed(**{"from": "1h"})[0] == child and listed(to="1h") == []


def test_task_detail_events_and_actions(web: WebServer, db: psycopg.Connection) -> None:
    first = add(db, "first")
    second = add(db, "second", depends_on=[first])
    with web.client("admin") as client:
        detail = client.get(f"/api/v1/tasks/{second}").json()
        assert detail["task"]["status"] == "waiting" and [d["id"] for d in detail["dependencies"]] == [first]
        assert [d["id"] for d in client.get(f"/api/v1/tasks/{first}").json()["dependents"]] == [second]
        assert [e["event"] for e in client.get(f"/api/v1/tasks/{second}/events").json()["events"]] == ["created"]
        assert client.post(f"/api/v1/tasks/{first}/priority", json={"priority": 50}).json()["priority"] == 50
        cancelled = client.post(f"/api/v1/tasks/{first}/cancel", json={"reason": "not needed"})
        assert cancelled.json() == {"id": first, "status": "cancelled", "cancel_requested": False}
        assert client.get(f"/api/v1/tasks/{second}").json()["task"]["status"] == "cancelled", "its dependent follows"
        again = client.post(f"/api/v1/tasks/{first}/priority", json={"priority": 1})
        assert again.status_code == 409 and error_of(again)["sqlstate"] == "SW003"
        assert client.post(f"/api/v1/tasks/{first}/retry").json()["status"] == "pending"
        assert client.get(f"/api/v1/tasks/{second}").json()["task"]["status"] == "waiting", "revived"
        missing = client.get("/api/v1/tasks/424242")
        assert missing.status_code == 404 and error_of(missing)["sqlstate"] == "SW002"
        assert client.post("/api/v1/tasks/424242/cancel").status_code == 404
        assert client.get("/api/v1/tasks/424242/events").status_code == 404
        assert client.get("/api/v1/tasks/424242/output").status_code == 404
    assert db.execute("select cancel_reason, priority from swarm.agent_tasks where id = %s",
                      (first,)).fetchone() == (None, 50)


def test_cancel_of_a_finished_task_is_409_with_the_engines_message(web: WebServer, db: psycopg.Connection) -> None:
    task = add(db, "x")
    token = db.execute("select lease_token from swarm.claim_task('w1')").fetchone()[0]
    db.execute("select swarm.complete_task(%s, 'w1', 1, '{}', lease_token => %s)", (task, token))
    with web.client("enqueue") as client:
        response = client.post(f"/api/v1/tasks/{task}/cancel")
    assert response.status_code == 409
    error = error_of(response)
    assert error["sqlstate"] == "SW003" and f"task {task} is already completed" in error["message"]


def test_bulk_cancel_and_retry_of_a_filtered_set(web: WebServer, db: psycopg.Connection) -> None:
    mine = [add(db, f"mine {i}", queue="batch") for i in range(5)]
    other = add(db, "other")
    with web.client("admin") as client:
        counted = client.post("/api/v1/tasks/bulk", json={"action": "cancel", "filter": {"queue": "batch"},
                                                          "dry_run": True})
        assert counted.json() == {"action": "cancel", "matching": 5}
        done = client.post("/api/v1/tasks/bulk", json={"action": "cancel", "filter": {"queue": "batch"}})
        assert done.json()["statuses"] == {"cancelled": 5}
        retried = client.post("/api/v1/tasks/bulk", json={"action": "retry",
                                                          "filter": {"queue": "batch", "status": ["cancelled"]}})
        assert retried.json()["statuses"] == {"pending": 5}
    statuses = dict(db.execute("select id, status from swarm.agent_tasks").fetchall())
    assert all(statuses[i] == "pending" for i in mine) and statuses[other] == "pending"


def test_bulk_retry_of_a_chain_revives_dependents_once(web: WebServer, db: psycopg.Connection) -> None:
    root = add(db, "root", queue="chain")
    leaf = add(db, "leaf", queue="chain", depends_on=[root])
    db.execute("select swarm.cancel_task(%s)", (root,))  # the leaf is cancelled with it
    with web.client("admin") as client:
        response = client.post("/api/v1/tasks/bulk", json={"action": "retry", "filter": {"queue": "chain"}})
    assert response.status_code == 200, response.text
    assert response.json()["statuses"] == {"pending": 1, "skipped": 1}
    assert dict(db.execute("select id, status from swarm.agent_tasks").fetchall()) == {root: "pending", leaf: "waiting"}


def test_stats_agents_pause_and_resume(web: WebServer, db: psycopg.Connection) -> None:
    add(db, "x", agent="claude")
    with web.client("admin") as client:
        stats = client.get("/api/v1/stats", params={"since": "15m"}).json()
        assert {"window", "queues", "agents", "workers"} <= set(stats)
        assert any(q["agent"] == "claude" and q["status"] == "pending" for q in stats["queues"])
        paused = client.post("/api/v1/agents/claude/pause", json={"until": "2h", "reason": "quota"})
        assert paused.status_code == 200 and paused.json()["paused"] is True
        agent = next(a for a in client.get("/api/v1/agents").json()["agents"] if a["agent"] == "claude")
        assert agent["paused"] and agent["pause_reason"] == "quota"
        assert client.post("/api/v1/agents/claude/resume").json() == {"agent": "claude", "paused": False}
        unknown = client.post("/api/v1/agents/claud/pause", json={})
        assert unknown.status_code == 404 and "claud" in error_of(unknown)["message"]
        assert client.post("/api/v1/agents/claud/resume").status_code == 404
    assert db.execute("select paused_until from swarm.agents where name = 'claude'").fetchone()[0] is None


def _sse_events(response: httpx.Response, wanted: int, found: list[dict[str, str]]) -> None:
    event: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if event:
                found.append(event)
                event = {}
                if len(found) >= wanted:
                    return
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        event[name] = event.get(name, "") + value.lstrip()


def test_the_event_stream_reports_an_insert_from_psql_and_catches_up_from_a_cursor(
        web: WebServer, db: psycopg.Connection) -> None:
    found: list[dict[str, str]] = []
    with web.client("read") as client, client.stream("GET", "/api/v1/events", timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = threading.Thread(target=_sse_events, args=(response, 2, found), daemon=True)
        reader.start()
        deadline = time.monotonic() + 10
        while not found and time.monotonic() < deadline:
            time.sleep(0.02)
        assert found and found[0]["event"] == "hello"
        started = time.monotonic()
        task = add(db, "hello from psql")  # a plain INSERT, as any service enqueues
        reader.join(10)
        assert len(found) == 2, found
        change = json.loads(found[1]["data"])
        assert task in change["tasks"] and found[1]["id"] == str(change["cursor"])
        assert time.monotonic() - started < 5
    cursor = int(found[1]["id"])
    later = add(db, "while away")
    replay: list[dict[str, str]] = []
    with web.client("read") as client, client.stream("GET", "/api/v1/events", timeout=30,
                                                     headers={"Last-Event-ID": str(cursor)}) as response:
        _sse_events(response, 2, replay)
    assert replay[0]["event"] == "hello" and json.loads(replay[1]["data"])["tasks"] == [later]


def test_the_output_stream_of_a_finished_task_sends_its_output_then_ends(web: WebServer, db: psycopg.Connection) -> None:
    task = add(db, "echo")
    token = db.execute("select lease_token from swarm.claim_task('w1')").fetchone()[0]
    db.execute("select swarm.complete_task(%s, 'w1', 1, '{}', output_tail => 'line one\nline two\n', "
               "lease_token => %s)", (task, token))
    found: list[dict[str, str]] = []
    with web.client("read") as client, client.stream("GET", f"/api/v1/tasks/{task}/output", timeout=30) as response:
        _sse_events(response, 2, found)
    assert [e["event"] for e in found] == ["output", "end"]
    assert json.loads(found[0]["data"]) == {"text": "line one\nline two\n", "replace": True}


def test_the_output_stream_of_a_running_task_sends_each_line_as_its_worker_ships_it(
        web: WebServer, db: psycopg.Connection) -> None:
    task = add(db, "echo")
    token = db.execute("select lease_token from swarm.claim_task('w1')").fetchone()[0]

    def ship(offset: int, chunk: str) -> None:
        db.execute("select swarm.ship_output('w1', %s::jsonb)",
                   (json.dumps([{"task_id": task, "attempt": 1, "offset": offset, "chunk": chunk}]),))

    ship(0, "first line\nhalf a li")
    found: list[dict[str, str]] = []
    with web.client("read") as client, client.stream("GET", f"/api/v1/tasks/{task}/output", timeout=30) as response:
        reader = threading.Thread(target=_sse_events, args=(response, 4, found), daemon=True)
        reader.start()
        deadline = time.monotonic() + 10
        while not found and time.monotonic() < deadline:
            time.sleep(0.02)
        assert json.loads(found[0]["data"]) == {"text": "first line\n", "replace": True}
        ship(len("first line\nhalf a li"), "ne\n")
        while len(found) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert json.loads(found[1]["data"]) == {"text": "half a line\n", "replace": False}
        db.execute("select swarm.complete_task(%s, 'w1', 1, '{}', lease_token => %s)", (task, token))
        reader.join(10)
    assert [e["event"] for e in found][-1] == "end", found


def test_metrics_have_help_and_type_lines_and_the_queue_depth(web: WebServer, db: psycopg.Connection) -> None:
    for _ in range(3):
        add(db, "x", agent="codex", queue="nightly")
    db.execute("update swarm.agents set max_concurrent = 4 where name = 'codex'")
    with web.client("read") as client:
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'pgswarm_queue_depth{queue="nightly",agent="codex"} 3' in text
    assert 'pgswarm_agent_max_concurrent{agent="codex"} 4' in text
    assert re.search(r'^pgswarm_oldest_pending_age_seconds\{queue="nightly",agent="codex"\} [\d.]+$', text, re.M)
    families = re.findall(r"^# TYPE (\S+) ", text, re.M)
    assert families and all(f"# HELP {name} " in text for name in families)
    samples = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert samples <= set(families), samples - set(families)


def test_local_reads_open_reads_to_this_machine_but_never_writes(web_factory: Any, db: psycopg.Connection) -> None:
    server = web_factory("--local-reads")
    task = add(db, "x")
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get(f"/api/v1/tasks/{task}").status_code == 200
        assert anonymous.get("/").status_code == 200
        assert anonymous.post(f"/api/v1/tasks/{task}/cancel").status_code == 403
        assert anonymous.post("/api/v1/tasks", json={"prompt": "y"}).status_code == 403
    assert db.execute("select count(*) from swarm.agent_tasks").fetchone()[0] == 1


def test_pages_need_a_login_and_forms_need_the_csrf_token(web: WebServer, db: psycopg.Connection) -> None:
    task = add(db, "x")
    with web.client() as browser:
        assert browser.get("/").status_code == 303 and browser.get("/").headers["location"] == "/login?next=/"
        refused = browser.post("/login", data={"token": "pgsw_wrong", "next": "/"})
        assert refused.status_code == 401 and "unknown, revoked or expired" in refused.text
        logged_in = browser.post("/login", data={"token": web.tokens["admin"], "next": "//evil.example/"})
        assert logged_in.status_code == 303 and logged_in.headers["location"] == "/", "no open redirect"
        cookie = logged_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = browser.get(f"/tasks/{task}")
        assert page.status_code == 200 and "Task #" in page.text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        assert browser.post(f"/tasks/{task}/cancel", data={}).status_code == 403
        assert browser.post(f"/tasks/{task}/cancel", data={"csrf": "0" * 64}).status_code == 403
        assert browser.post(f"/tasks/{task}/cancel", data={"csrf": csrf},
                            headers={"Origin": "http://evil.example"}).status_code == 403
        assert db.execute("select status from swarm.agent_tasks where id = %s", (task,)).fetchone()[0] == "pending"
        done = browser.post(f"/tasks/{task}/cancel", data={"csrf": csrf, "reason": "from the page"})
        assert done.status_code == 303 and done.headers["location"].startswith(f"/tasks/{task}?note=")
    assert db.execute("select status, cancel_reason from swarm.agent_tasks where id = %s",
                      (task,)).fetchone() == ("cancelled", "from the page")


def test_pages_render_and_a_refusal_shows_the_engines_message(web: WebServer, db: psycopg.Connection) -> None:
    first = add(db, "first <script>alert(1)</script>")
    add(db, "second", depends_on=[first], tags=["t"])
    with web.client() as browser:
        browser.post("/login", data={"token": web.tokens["admin"]})
        for path in ("/", "/fragments/overview", "/tasks", "/tasks?status=waiting&q=sec", "/fragments/tasks",
                     f"/tasks/{first}", f"/fragments/tasks/{first}", "/agents", "/login"):
            response = browser.get(path)
            assert response.status_code == 200, (path, response.text[:500])
            assert "<script>alert(1)</script>" not in response.text, "task text is escaped"
        assert "<svg" in browser.get(f"/tasks/{first}").text, "the dependency graph is drawn"
        assert browser.get("/tasks/777777").status_code == 404
        assert browser.get("/tasks?status=nope").status_code == 400
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', browser.get("/agents").text).group(1)
        bad = browser.post(f"/tasks/{first}/retry", data={"csrf": csrf})
        assert bad.status_code == 409 and "only failed or cancelled tasks can be retried" in bad.text
        confirm = browser.post("/tasks/bulk", data={"csrf": csrf, "action": "cancel", "filters": "tag=t"})
        assert confirm.status_code == 200 and "Cancel 1 task?" in confirm.text
        done = browser.post("/tasks/bulk", data={"csrf": csrf, "action": "cancel", "filters": "tag=t",
                                                 "confirm": "yes"})
        assert done.status_code == 303
        paused = browser.post("/agents/claude/pause", data={"csrf": csrf, "until": "1h", "reason": "lunch"})
        assert paused.status_code == 303
    assert db.execute("select pause_reason from swarm.agents where name = 'claude'").fetchone()[0] == "lunch"
    assert db.execute("select status from swarm.agent_tasks where tags = '{t}'").fetchone()[0] == "cancelled"


def test_the_task_page_list_and_api_say_why_a_task_is_not_running(web: WebServer, db: psycopg.Connection) -> None:
    db.execute("select swarm.pause_agent('codex', now() + interval '2 hours', 'operator: key rotation')")
    task = add(db, "held back", agent="codex")
    with web.client("read") as client:
        rows = client.get(f"/api/v1/tasks/{task}").json()["why_pending"]
        assert [r["code"] for r in rows] == ["paused", "no_worker"] and "operator: key rotation" in rows[0]["reason"]
        [listed] = [t for t in client.get("/api/v1/tasks").json()["tasks"] if t["id"] == task]
        assert listed["waiting_for"].startswith("paused until")
    with web.client() as browser:
        browser.post("/login", data={"token": web.tokens["read"]})
        page = browser.get(f"/tasks/{task}").text
        assert "Why it is not running" in page and "agent codex is paused until" in page
        assert "operator: key rotation" in page
        assert "paused until" in browser.get("/tasks").text


def test_token_commands_print_the_token_once_and_list_without_it(dsn: str) -> None:
    env = {"PGSWARM_DSN": dsn}
    created = run_pgswarm("web", "token", "create", "--scope", "enqueue", "--name", "ci-bot", env=env).ok()
    token = created.stdout.strip()
    assert re.fullmatch(r"pgsw_[0-9a-f]{64}", token)
    assert "shown only now" in created.stderr
    listed = run_pgswarm("web", "token", "list", "--json", env=env).ok()
    assert token not in listed.stdout and json.loads(listed.stdout)[0]["name"] == "ci-bot"
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("select encode(token_sha256, 'hex') from swarm.web_tokens").fetchone()[0]
    assert token not in stored and len(stored) == 64
    duplicate = run_pgswarm("web", "token", "create", "--scope", "read", "--name", "ci-bot", env=env)
    assert duplicate.returncode == 2 and "exists already" in duplicate.stderr
    bad = run_pgswarm("web", "token", "create", "--scope", "root", env=env)
    assert bad.returncode == 2 and "--scope 'root'" in bad.stderr
    assert run_pgswarm("web", "token", "revoke", "nobody", env=env).returncode == 2


def test_web_without_its_packages_says_what_to_install(dsn: str) -> None:
    code = ("import sys; sys.modules['starlette'] = None; "
            "from pgswarm.cli.main import main; sys.argv = ['pgswarm', 'web']; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={"PGSWARM_DSN": dsn, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2, done.stderr
    assert "pip install 'pgswarm[web]'" in done.stderr and "Traceback" not in done.stderr


def test_web_refuses_a_port_in_use_in_one_line(dsn: str, web: WebServer) -> None:
    port = web.url.rsplit(":", 1)[1]
    result = run_pgswarm("web", "--port", port, env={"PGSWARM_DSN": dsn}, timeout=60)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_web_refuses_a_database_without_the_current_schema(empty_dsn: str) -> None:
    result = run_pgswarm("web", "--port", "1", env={"PGSWARM_DSN": empty_dsn}, timeout=60)
    assert result.returncode == 4 and "run `pgswarm migrate`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_web_refuses_a_database_older_than_its_code(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        newest = conn.execute("delete from swarm.schema_migrations where version = (select max(version) "
                              "from swarm.schema_migrations) returning version").fetchone()[0]
    result = run_pgswarm("web", "--port", "1", env={"PGSWARM_DSN": dsn}, timeout=60)
    assert result.returncode == 4 and f"this pgswarm needs {newest}: run `pgswarm migrate`" in result.stderr


def test_a_rare_match_is_found_by_following_pages_that_each_walk_a_bounded_stretch(
        web: WebServer, db: psycopg.Connection) -> None:
    from pgswarm.cli.queries import SCAN_LIMIT

    needle = add(db, "the needle")
    db.execute("insert into swarm.agent_tasks (prompt) select 'hay ' || g from generate_series(1, %s) as g",
               (SCAN_LIMIT + 5000,))
    with web.client("read") as client:
        first = client.get("/api/v1/tasks", params={"q": "needle"}).json()
        assert first["tasks"] == [] and first["next_before"] == first["searched_down_to"] > needle
        second = client.get("/api/v1/tasks", params={"q": "needle", "before": first["next_before"]}).json()
    assert [t["id"] for t in second["tasks"]] == [needle] and second["next_before"] is None
