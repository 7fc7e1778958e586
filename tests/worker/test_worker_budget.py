"""A daily budget holds with a real worker running several claude attempts at once: the spend
never passes the budget (before: claims looked at finished tasks only, so a worker with free
slots started as many attempts as it had slots while the spend was under the budget)."""
from __future__ import annotations

import psycopg

from tests.helpers.workers import Workers, wait_for
from tests.worker.conftest import add
from tests.worker.test_worker_agents import fake_config

COST = 0.0127  # what each fake claude run reports


def test_a_daily_budget_is_never_overspent_with_four_attempts_at_a_time(workers: Workers,
                                                                        db: psycopg.Connection) -> None:
    db.execute("update swarm.agents set daily_budget_usd = 0.05 where name = 'claude'")
    ids = [add(db, f"task {n} mode:success", agent="claude") for n in range(10)]
    workers.start(config=fake_config("claude"), concurrency=4)

    def settled() -> bool:
        running = db.execute("select count(*) from swarm.agent_tasks where status = 'running'").fetchone()[0]
        done = db.execute("select count(*) from swarm.agent_tasks where status = 'completed'").fetchone()[0]
        return running == 0 and done >= 3

    wait_for(settled, 60, "the budget to be used up", diagnostics=workers.logs)
    spent = float(db.execute("select swarm._spent_today('claude', swarm.now())").fetchone()[0])
    completed = db.execute("select count(*) from swarm.agent_tasks where status = 'completed' and id = any(%s)",
                           (ids,)).fetchone()[0]
    assert spent <= 0.05 and spent == round(completed * COST, 6)
    assert completed == 3, "$0.05 holds three attempts of $0.0127"
    reason = db.execute("select reason from swarm.why_pending(%s) where code = 'budget'",
                        (max(ids),)).fetchone()[0]
    assert "spent its daily budget" in reason
