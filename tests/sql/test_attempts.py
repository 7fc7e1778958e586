"""The attempt ledger (swarm.task_attempts): one row per attempt, opened by the claim and closed by
the report in its transaction; task costs are totals over attempts; the day's spend survives the
archive; the session a retry resumes is decided at claim."""
from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.helpers.swarm import SwarmClient


def ledger(swarm: SwarmClient, task_id: int) -> list[dict]:
    cur = swarm.conn.cursor(row_factory=dict_row)
    return cur.execute("select * from swarm.task_attempts where task_id = %s order by id", (task_id,)).fetchall()


def test_a_claim_opens_a_row_and_the_report_closes_it_with_usage_and_session(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    [t] = swarm.claim("w1", hostname="node-a")
    [row] = ledger(swarm, task_id)
    assert (row["attempt"], row["agent"], row["worker"], row["hostname"]) == (1, "claude", "w1", "node-a")
    assert row["started_at"] == t["started_at"] and row["finished_at"] is None and row["outcome"] is None
    swarm.complete(task_id, "w1", 1, result={"text": "ok"}, exit_code=0, log_path="/logs/a.log", cost_usd=0.0127,
                   input_tokens=2000, output_tokens=420, session_id="sess-1")
    [row] = ledger(swarm, task_id)
    assert row["outcome"] == "completed" and row["finished_at"] == swarm.task(task_id)["finished_at"]
    assert (float(row["cost_usd"]), row["input_tokens"], row["output_tokens"]) == (0.0127, 2000, 420)
    assert (row["exit_code"], row["session_id"], row["log_path"]) == (0, "sess-1", "/logs/a.log")


def test_task_cost_and_tokens_are_totals_over_attempts(swarm: SwarmClient) -> None:
    """Defect 7: the second attempt's cost used to overwrite the first's ($0.0615 shown for $0.0665 spent)."""
    task_id = swarm.make_task("x", agent="claude")
    swarm.claim("w1")
    swarm.fail(task_id, "w1", 1, error="boom", cost_usd=0.005, input_tokens=100, output_tokens=10,
               retry_in_seconds=0, session_id="s1")
    swarm.claim("w1")
    swarm.complete(task_id, "w1", 2, cost_usd=0.0615, input_tokens=1000, output_tokens=300)
    task = swarm.task(task_id)
    assert float(task["cost_usd"]) == pytest.approx(0.0665)
    assert (task["input_tokens"], task["output_tokens"]) == (1100, 310)
    rows = ledger(swarm, task_id)
    assert [(r["attempt"], r["outcome"], float(r["cost_usd"])) for r in rows] == [(1, "failed", 0.005),
                                                                                  (2, "completed", 0.0615)]
    assert rows[0]["error"] == "boom" and rows[0]["session_id"] == "s1"


def test_every_way_out_of_running_closes_the_row(swarm: SwarmClient) -> None:
    released = swarm.make_task("released")
    expired = swarm.make_task("expired")
    cancelled = swarm.make_task("cancelled")
    batch = swarm.make_task("batch")
    swarm.claim("w1", max_tasks=4, lease_seconds=1)
    swarm.release(released, "w1", 1, reason="usage limit", session_id="s-rel", cost_usd=0.01)
    swarm.cancel(cancelled)
    swarm.fail(cancelled, "w1", 1, error="stopped")
    swarm.conn.execute("select * from swarm.complete_tasks('w1', %s, %s, null, %s::uuid[])",
                       ([batch], [1], [swarm.tokens[batch]]))
    swarm.set_now("2100-01-01")
    assert swarm.reap() == 1
    outcomes = {task_id: [(r["attempt"], r["outcome"]) for r in ledger(swarm, task_id)]
                for task_id in (released, expired, cancelled, batch)}
    assert outcomes == {released: [(1, "released")], expired: [(1, "lease_expired")],
                        cancelled: [(1, "cancelled")], batch: [(1, "completed")]}
    [row] = ledger(swarm, released)
    assert row["error"] == "usage limit" and row["session_id"] == "s-rel"
    assert float(swarm.task(released)["cost_usd"]) == 0.01
    assert "lease expired" in ledger(swarm, expired)[0]["error"]
    assert swarm.scalar("select count(*) from swarm.task_attempts where finished_at is null") == 0


def test_a_free_release_gives_its_number_back_and_both_runs_are_kept(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1")
    swarm.release(task_id, "w1", 1)
    [again] = swarm.claim("w2")
    assert again["attempts"] == 1
    swarm.complete(task_id, "w2", 1)
    assert [(r["attempt"], r["worker"], r["outcome"]) for r in ledger(swarm, task_id)] == [
        (1, "w1", "released"), (1, "w2", "completed")]


def test_a_stale_report_leaves_the_ledger_alone(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1")
    swarm.complete(task_id, "intruder", 1, cost_usd=5, session_id="forged")
    swarm.fail(task_id, "intruder", 1, cost_usd=5)
    [row] = ledger(swarm, task_id)
    assert row["finished_at"] is None and row["cost_usd"] is None and row["session_id"] is None
    assert swarm.scalar("select count(*) from swarm.agent_daily_spend") == 0


@pytest.mark.parametrize(("mode", "how", "resumed"), [
    (None, "release", True), ("auto", "reap", True), ("auto", "fail", False), ("always", "fail", True),
    ("never", "release", False)])
def test_the_claim_decides_which_session_the_next_attempt_resumes(swarm: SwarmClient, mode: str | None,
                                                                  how: str, resumed: bool) -> None:
    args = {"resume_on_retry": mode} if mode else {}
    task_id = swarm.make_task("x", agent="claude", args=args)
    [first] = swarm.claim("w1", hostname="node-a", lease_seconds=1)
    assert first["resume_session_id"] is None
    swarm.complete(task_id, "intruder", 1)  # refused, nothing recorded
    if how == "release":
        swarm.release(task_id, "w1", 1, session_id="sess-1")
    elif how == "fail":
        swarm.fail(task_id, "w1", 1, session_id="sess-1", retry_in_seconds=0)
    else:
        # Seen in the output and recorded while running; the attempt itself never reports.
        assert swarm.scalar("select swarm.record_session(%s, 'w1', 1, 'sess-1')", (task_id,))
        assert not swarm.scalar("select swarm.record_session(%s, 'intruder', 1, 'forged')", (task_id,))
        swarm.set_now("2100-01-01")
        swarm.reap()
        swarm.set_now("2100-01-02")
    [second] = swarm.claim("w2", hostname="node-a")
    assert second["resume_session_id"] == ("sess-1" if resumed else None)
    assert ledger(swarm, task_id)[-1]["resumed_session_id"] == second["resume_session_id"]


def test_a_session_is_resumed_only_on_the_host_that_keeps_it(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.claim("w1", hostname="node-a")
    swarm.release(task_id, "w1", 1, session_id="sess-1")
    assert swarm.claim("w2", hostname="node-b")[0]["resume_session_id"] is None
    swarm.release(task_id, "w2", 1)  # no session printed on node-b
    assert swarm.claim("w1", hostname="node-a")[0]["resume_session_id"] == "sess-1"


def test_after_a_failure_auto_starts_afresh_even_if_an_older_release_had_a_session(swarm: SwarmClient) -> None:
    task_id = swarm.make_task("x", agent="claude")
    swarm.claim("w1")
    swarm.release(task_id, "w1", 1, session_id="sess-1")
    swarm.claim("w1")
    swarm.fail(task_id, "w1", 1, error="boom", retry_in_seconds=0)
    assert swarm.claim("w1")[0]["resume_session_id"] is None


def test_archive_moves_the_rows_and_the_days_spend_stays(swarm: SwarmClient) -> None:
    swarm.set_now("2030-01-01 12:00+00")
    task_id = swarm.make_task("x", agent="claude")
    swarm.claim("w1")
    swarm.complete(task_id, "w1", 1, cost_usd=0.2)
    spent = "select cost_usd_today from swarm.agent_stats where agent = 'claude'"
    assert float(swarm.scalar(spent)) == 0.2
    swarm.set_now("2030-01-01 13:00+00")
    assert swarm.archive("1 minute") == 1
    assert ledger(swarm, task_id) == []
    assert swarm.scalar("select count(*) from swarm.task_attempts_archive where task_id = %s", (task_id,)) == 1
    assert float(swarm.scalar(spent)) == 0.2, "archiving lowered today's spend"
    swarm.set_agent("claude", daily_budget_usd=0.2)
    swarm.make_task("y", agent="claude")
    assert swarm.claim("w1") == [], "the budget was spent before the archive; it is still spent"


def test_the_ledger_is_read_by_monitoring_and_written_by_nobody_else(swarm: SwarmClient, dsn: str) -> None:
    task_id = swarm.make_task("x")
    swarm.claim("w1")
    for role in ("swarm_monitor", "swarm_worker", "swarm_enqueue"):
        swarm.conn.execute(f"set role {role}")
        try:
            assert swarm.scalar("select count(*) from swarm.task_attempts where task_id = %s", (task_id,)) == 1
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                swarm.conn.execute("update swarm.task_attempts set cost_usd = 0")
        finally:
            swarm.conn.execute("reset role")


def test_closing_the_attempts_of_a_batch_writes_no_index_entry(swarm: SwarmClient) -> None:
    """A report closes its ledger row in place (a HOT update, migration 0031): no index may name the
    columns a close sets, and the pages keep room for the closing version. Before, finished_at was
    in an index's predicate and each close wrote index entries (a tenth of a batch completion)."""
    for n in range(200):
        swarm.make_task(f"echo {n}")
    with swarm.conn.transaction():  # the counters of this transaction only
        claimed = swarm.conn.execute("select id, attempts, lease_token from swarm.claim_task('w1', max_tasks => 200)"
                                     ).fetchall()
        ids, attempts, tokens = (list(column) for column in zip(*claimed))
        accepted = swarm.conn.execute("select count(*) filter (where accepted) from swarm.complete_tasks("
                                      "'w1', %s, %s, null, %s::uuid[])", (ids, attempts, tokens)).fetchone()[0]
        updated, in_place = swarm.conn.execute(
            "select n_tup_upd, n_tup_hot_upd from pg_stat_xact_user_tables "
            "where relid = 'swarm.task_attempts'::regclass").fetchone()
    assert (len(claimed), accepted) == (200, 200)
    assert updated == 200 and in_place >= 190, f"{in_place} of {updated} closes were in place"
    assert swarm.scalar("select count(*) from swarm.task_attempts where outcome = 'completed'") == 200
