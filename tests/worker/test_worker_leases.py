"""Leases, lost connections and the metrics endpoint."""
from __future__ import annotations

import re
import signal
import socket
import urllib.request
import uuid

import psycopg
import pytest

from tests.helpers.workers import Workers, processes_with, task_row, wait_for, wait_status
from tests.worker.conftest import add


def test_heartbeats_keep_a_long_task_past_its_lease(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "sleep 7; echo done")
    workers.start(lease_seconds=3)
    wait_status(workers.dsn, task_id, "running", workers=workers)
    db.execute("select swarm.reap_expired()")
    row = wait_status(workers.dsn, task_id, "completed", timeout=60, workers=workers)
    assert row["attempts"] == 1, "renewed every second: the lease never expired"


def test_a_task_taken_over_is_stopped_and_not_reported(workers: Workers, db: psycopg.Connection) -> None:
    """A worker frozen past its lease loses the task; after it resumes, it stops its process and
    its late report changes nothing."""
    marker = f"frozen-{uuid.uuid4().hex[:8]}"
    db.execute("update swarm.agents set retry_backoff_base_seconds = 1, retry_backoff_max_seconds = 1 "
               "where name = 'shell'")
    task_id = add(db, f"sleep 8; echo {marker}")
    frozen = workers.start(lease_seconds=3)
    wait_status(workers.dsn, task_id, "running", workers=workers)
    frozen.signal(signal.SIGSTOP)

    def reaped() -> bool:
        db.execute("select swarm.reap_expired()")
        return task_row(workers.dsn, task_id)["status"] != "running"

    wait_for(reaped, 30, "the lease to expire and be reaped", interval=0.5)
    workers.start(name="w2", lease_seconds=3)
    wait_for(lambda: task_row(workers.dsn, task_id)["worker"] == "w2", 30, "w2 to take the task over")
    frozen.signal(signal.SIGCONT)
    row = wait_status(workers.dsn, task_id, "completed", timeout=60, workers=workers)
    assert row["worker"] == "w2" and row["attempts"] == 2
    outcomes = db.execute("select event, worker, attempt from swarm.task_events where task_id = %s "
                          "and event in ('completed', 'failed', 'stale_report')", (task_id,)).fetchall()
    assert [o for o in outcomes if o[0] == "completed"] == [("completed", "w2", 2)]
    assert frozen.alive(), "the resumed worker carries on"


def test_a_lost_claim_claimed_again_stops_the_first_run_and_records_one_outcome(
        workers: Workers, db: psycopg.Connection, tmp_path) -> None:
    """The worker claims without waiting for the flush; a crash can then lose the claim, leaving
    the task pending with its earlier attempts count while the process runs. When the same worker
    claims it again, its first run is stopped (and not reported) and the task runs once more."""
    runs = tmp_path / "runs"
    task_id = add(db, f"echo start >> {runs}; sleep 4; echo done >> {runs}")
    workers.start(lease_seconds=60)  # the next heartbeat is 20 s away: the claim comes first
    wait_for(lambda: runs.exists(), 30, "the first run to start", diagnostics=workers.logs)
    with db.transaction():  # what a crash before the claim's flush leaves behind
        db.execute("set local swarm.api = 'on'")
        db.execute("update swarm.agent_tasks set status = 'pending', attempts = attempts - 1, worker = null, "
                   "lease_expires_at = null, started_at = null where id = %s", (task_id,))
        db.execute("delete from swarm.task_events where task_id = %s and event = 'claimed'", (task_id,))
        db.execute("select pg_notify('swarm_ready', 'shell')")
    row = wait_status(workers.dsn, task_id, "completed", timeout=60, workers=workers)
    assert runs.read_text().split() == ["start", "start", "done"], "the first run was stopped before it finished"
    assert row["attempts"] == 1
    outcomes = db.execute("select event, attempt from swarm.task_events where task_id = %s "
                          "and event in ('completed', 'failed', 'stale_report')", (task_id,)).fetchall()
    assert outcomes == [("completed", 1)]
    assert processes_with(str(runs)) == []


def test_connection_killed_mid_task_reconnects_and_reports(workers: Workers, db: psycopg.Connection) -> None:
    task_id = add(db, "sleep 3; echo survived")
    worker = workers.start()
    wait_status(workers.dsn, task_id, "running", workers=workers)
    killed = db.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                        "where application_name like 'pgswarm-worker%'").fetchone()[0]
    assert killed == 1
    row = wait_status(workers.dsn, task_id, "completed", timeout=60, workers=workers)
    assert row["attempts"] == 1 and "survived" in row["output_tail"]
    later = add(db, "echo after reconnect")
    wait_status(workers.dsn, later, "completed", timeout=30, workers=workers)
    assert worker.alive()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_endpoint_counts_by_agent(workers: Workers, db: psycopg.Connection) -> None:
    port = _free_port()
    succeeding = add(db, "true")
    marker = f"failing-{uuid.uuid4().hex[:8]}"
    failing = add(db, f"echo {marker}; exit 1", max_attempts=1)
    workers.start("--metrics-port", str(port))
    wait_status(workers.dsn, failing, "failed", workers=workers)
    wait_status(workers.dsn, succeeding, "completed", workers=workers)

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return response.read().decode()

    def counted() -> str | None:
        # Each outcome is counted once the database has accepted its report; the two reports
        # go separately (a completion in a batch, a failure alone), in no set order.
        text = scrape()
        both = ('pgswarm_tasks_failed_total{worker="w1",agent="shell"} 1' in text
                and 'pgswarm_tasks_completed_total{worker="w1",agent="shell"} 1' in text)
        return text if both else None

    text = wait_for(counted, 10, "the failure and the completion to be counted",
                    diagnostics=scrape)
    assert 'pgswarm_tasks_claimed_total{worker="w1",agent="shell"} 2' in text
    assert 'pgswarm_pickup_latency_seconds_count{worker="w1",agent="shell"} 2' in text
    assert not processes_with(marker)
    families = re.findall(r"^# TYPE (\S+) ", text, re.M)
    assert families and all(re.search(rf"^# HELP {name} \S", text, re.M) for name in families)
    # --metrics-host defaults to 127.0.0.1: another loopback address (or the network) gets no answer.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()


def test_a_worker_restarted_after_kill_9_stops_what_its_predecessor_left_running(
        workers: Workers, db: psycopg.Connection) -> None:
    marker = f"orphan-{uuid.uuid4().hex[:8]}"
    db.execute("update swarm.agents set retry_backoff_base_seconds = 1, retry_backoff_max_seconds = 1 "
               "where name = 'shell'")
    task_id = add(db, f"sleep 300; echo {marker}")
    first = workers.start(name="node-a", lease_seconds=3)
    wait_for(lambda: processes_with(marker), 30, "the agent", diagnostics=workers.logs)
    first.signal(signal.SIGKILL)
    first.process.wait(10)
    assert processes_with(marker), "kill -9 of the worker alone leaves its agent running"
    workers.start(name="node-a", lease_seconds=3)
    wait_for(lambda: task_row(workers.dsn, task_id)["attempts"] == 2, 45, "the task to run again after its lease",
             diagnostics=workers.logs)
    # The claim comes before the new attempt's process starts: wait for that, then exactly one runs.
    wait_for(lambda: len(processes_with(marker)) == 1, 30, "only the new attempt to run",
             diagnostics=lambda: "\n".join(processes_with(marker)))


def test_a_second_worker_started_under_a_live_workers_name_leaves_its_agents_alone(
        workers: Workers, db: psycopg.Connection) -> None:
    """The restart sweep kills only what a dead worker of that name left: a live one's agents run on."""
    marker = f"spared-{uuid.uuid4().hex[:8]}"
    task_id = add(db, f"sleep 300; echo {marker}")
    workers.start(name="node-a")
    wait_for(lambda: processes_with(marker), 30, "the agent", diagnostics=workers.logs)
    second = workers.start(name="node-a")
    # The restart sweep runs before a worker says it is ready.
    wait_for(lambda: "ready" in second.output(), 30, "the second worker to start", diagnostics=workers.logs)
    assert processes_with(marker), "the second worker killed the first one's agent"
    assert "killed" not in second.output()
    row = task_row(workers.dsn, task_id)
    assert (row["status"], row["attempts"]) == ("running", 1)


def test_multi_host_dsn_skips_a_host_that_never_answers(workers: Workers, db: psycopg.Connection) -> None:
    """A frozen first host (accepts TCP, never answers) costs one connect_timeout, then the worker
    uses the next host, as libpq does."""
    info = db.info
    with socket.socket() as frozen:
        frozen.bind(("127.0.0.1", 0))
        frozen.listen(16)
        dsn = (f"postgresql://{info.user}@127.0.0.1:{frozen.getsockname()[1]},{info.host}:{info.port}/{info.dbname}"
               "?target_session_attrs=read-write&connect_timeout=2")
        task_id = add(db, "echo reached the second host")
        worker = workers.start("--dsn", dsn)
        row = wait_status(workers.dsn, task_id, "completed", timeout=60, workers=workers)
        assert "reached the second host" in row["output_tail"] and worker.alive()
