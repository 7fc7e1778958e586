"""pgswarm as one more peer of ../shared/bench/peers, measured by the peers' own harness (pbcommon.py:
the same drain, single-enqueue and pickup-latency modes, the same server on 127.0.0.1:55432), plus
the real worker draining /bin/true tasks and the enqueue paths a user has (INSERT, COPY).

    python bench/peers_pgswarm.py all [--parts engine,enqueue,worker]   # sweep, 3 final drains, single enqueue, pickup latency,
                                               # enqueue paths, real-worker drain (server must be up)
    python bench/peers_pgswarm.py drain --procs 1 --settings '{"consumers": 2, "batch": 100}'
    python bench/peers_pgswarm.py latency --settings '{"consumers": 1, "batch": 100}'
    python bench/peers_pgswarm.py worker-drain --concurrency 8
    python bench/peers_pgswarm.py enqueue

Normally run through bench/run_peers.sh, which starts the server and the peers first.
Results are JSON lines in $PEERBENCH_RESULTS/pgswarm.jsonl (default bench/results/).

The in-process consumer ("engine" rows) is the smallest thing that uses pgswarm the way a worker
does: it LISTENs on swarm_ready, calls swarm.claim_task(max_tasks => batch, durable => false), runs
the no-op job function, and reports the whole batch with one swarm.complete_tasks call (each task
fenced by worker and attempt, as complete_task is). Before it reports ready, each connection makes
one claim that finds nothing and one empty completion: a session's first calls compile and plan the
functions (about 13 ms each, measured), which a worker pays once, not once per 20,000 tasks.
Settings: {"consumers": connections claiming in this process, "batch": max_tasks per claim}.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version as package_version
from pathlib import Path

import asyncpg
import psycopg

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = Path(os.environ.get("PEERS_DIR", REPO.parent / "shared" / "bench" / "peers"))
os.environ.setdefault("PEERBENCH_RESULTS", str(HERE / "results"))
sys.path.insert(0, str(PEERS))
sys.path.insert(0, str(REPO))

import pbcommon  # noqa: E402  (the peers' harness)

from pgswarm.client.migrate import migrate  # noqa: E402

DB = "pb_pgswarm"
CLAIM = ("select id, prompt, attempts, lease_token from swarm.claim_task($1, max_tasks => $2, queues => $3, "
         "durable => false)")
COMPLETE = "select count(*) filter (where accepted) from swarm.complete_tasks($1, $2, $3, null, $4::uuid[])"
BULK_INSERT = "insert into swarm.agent_tasks (prompt) select seq::text from unnest($1::int[]) as seq"
SINGLE_INSERT = "insert into swarm.agent_tasks (prompt) values ($1)"
DONE = "select count(*) from swarm.agent_tasks where status = 'completed'"
# A queue no task is in: the claim each connection makes before it reports ready finds nothing.
WARM_UP_QUEUE = "pgswarm-bench-warm-up"

SWEEP = [
    (1, {"consumers": 1, "batch": 100}),
    (1, {"consumers": 2, "batch": 100}),
    (1, {"consumers": 4, "batch": 100}),
    (1, {"consumers": 2, "batch": 500}),
    (2, {"consumers": 2, "batch": 100}),
    (1, {"consumers": 4, "batch": 500}),
    (2, {"consumers": 2, "batch": 500}),
    (1, {"consumers": 2, "batch": 1000}),
]


class Peer:
    name = "pgswarm"
    db = DB

    def version(self) -> str:
        return package_version("pgswarm")

    def setup(self, settings=None) -> None:
        pbcommon.recreate_db(DB)
        migrate(pbcommon.dsn(DB))

    async def enqueue_bulk(self, n: int) -> str:
        conn = await asyncpg.connect(pbcommon.dsn(DB))
        try:
            for start in range(0, n, 1000):
                await conn.execute(BULK_INSERT, list(range(start, min(n, start + 1000))))
        finally:
            await conn.close()
        return "INSERT ... SELECT unnest($1) (1000 tasks/statement)"

    @contextlib.asynccontextmanager
    async def single_enqueuer(self):
        conn = await asyncpg.connect(pbcommon.dsn(DB))

        async def enq(seq: int) -> None:
            await conn.execute(SINGLE_INSERT, str(seq))

        enq.api = "plain INSERT INTO swarm.agent_tasks (prompt) VALUES ($1) (1 task/statement, autocommit)"
        try:
            yield enq
        finally:
            await conn.close()

    async def worker(self, settings: dict, hooks) -> None:
        consumers = int(settings.get("consumers", 1))
        batch = int(settings.get("batch", 100))
        dsn = pbcommon.dsn(DB)
        wake = asyncio.Event()
        listener = await asyncpg.connect(dsn)
        await listener.add_listener("swarm_ready", lambda *_: wake.set())
        conns = [await asyncpg.connect(dsn) for _ in range(consumers)]
        for conn in conns:  # as in a worker that has been running: functions compiled, plans made
            await conn.fetch(CLAIM, "warm-up", batch, [WARM_UP_QUEUE])
            await conn.fetchval(COMPLETE, "warm-up", [], [], [])
        hooks.ready()
        await hooks.wait_go()
        stopping = asyncio.Event()

        async def consume(index: int, conn: asyncpg.Connection) -> None:
            name = f"pb-{os.getpid()}-{index}"
            while not stopping.is_set():
                wake.clear()
                claimed = await conn.fetch(CLAIM, name, batch, None)
                if not claimed:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(wake.wait(), 1.0)  # NOTIFY, or poll after 1 s
                    continue
                for row in claimed:
                    hooks.on_job(int(row["prompt"]))
                await conn.fetchval(COMPLETE, name, [r["id"] for r in claimed], [r["attempts"] for r in claimed],
                                    [r["lease_token"] for r in claimed])

        loops = [asyncio.create_task(consume(i, c), name=f"pgswarm-consumer-{i}") for i, c in enumerate(conns)]
        await hooks.wait_stop()
        stopping.set()
        wake.set()
        await asyncio.gather(*loops, return_exceptions=True)
        for conn in [listener, *conns]:
            await conn.close()
        hooks.finish()

    def done_count(self, conn) -> int:
        return conn.execute(DONE).fetchone()[0]

    def done_target(self, n: int) -> int:
        return n


# -- extra modes: enqueue paths and the real worker -------------------------------------------
def mode_enqueue(n_bulk: int = 20000, n_single: int = 2000) -> None:
    """Every way a user enqueues, each into a fresh database: rows/s."""
    peer = Peer()

    async def run() -> list[dict]:
        results = []

        async def timed(label: str, body, n: int) -> None:
            peer.setup()
            conn = await asyncpg.connect(pbcommon.dsn(DB))
            try:
                for i in range(10):  # warm-up
                    await conn.execute(SINGLE_INSERT, "-1")
                start = time.perf_counter()
                await body(conn, n)
                elapsed = time.perf_counter() - start
            finally:
                await conn.close()
            results.append({"api": label, "n": n, "seconds": round(elapsed, 4), "jobs_per_s": round(n / elapsed, 1)})

        async def single_insert(conn, n):
            for i in range(n):
                await conn.execute(SINGLE_INSERT, str(i))

        async def single_enqueue(conn, n):
            for i in range(n):
                await conn.fetchval("select swarm.enqueue($1)", str(i))

        async def multi_row(conn, n):
            values = ", ".join(f"(${i + 1})" for i in range(1000))
            statement = f"insert into swarm.agent_tasks (prompt) values {values}"
            for start in range(0, n, 1000):
                await conn.execute(statement, *[str(i) for i in range(start, start + 1000)])

        async def unnest_insert(conn, n):
            for start in range(0, n, 1000):
                await conn.execute(BULK_INSERT, list(range(start, start + 1000)))

        async def one_statement(conn, n):
            await conn.execute("insert into swarm.agent_tasks (prompt) select g::text from generate_series(1, $1) g", n)

        async def copy(conn, n):
            await conn.copy_records_to_table("agent_tasks", schema_name="swarm", columns=["prompt"],
                                             records=[(str(i),) for i in range(n)])

        await timed("single: plain INSERT ... VALUES (1 row, autocommit)", single_insert, n_single)
        await timed("single: select swarm.enqueue(prompt) (autocommit)", single_enqueue, n_single)
        await timed("bulk: multi-row INSERT ... VALUES (1000 rows/statement)", multi_row, n_bulk)
        await timed("bulk: INSERT ... SELECT unnest($1) (1000 rows/statement)", unnest_insert, n_bulk)
        await timed("bulk: one INSERT ... SELECT generate_series", one_statement, n_bulk)
        await timed("bulk: COPY swarm.agent_tasks (prompt) FROM STDIN", copy, n_bulk)
        return results

    for result in asyncio.run(run()):
        pbcommon.record("pgswarm", {"mode": "enqueue", "version": peer.version(), "label": "final", **result})


def worker_command() -> list[str]:
    return [sys.executable, "-m", "pgswarm.cli.main", "worker"]


def mode_worker_drain(n: int, concurrency: int, runs: int) -> None:
    """The real `pgswarm worker --allow-shell` draining n shell tasks `/bin/true`."""
    peer = Peer()
    for _ in range(runs):
        peer.setup()
        dsn = pbcommon.dsn(DB)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("insert into swarm.agent_tasks (prompt) select '/bin/true' from generate_series(1, %s)", (n,))
        pbcommon.checkpoint()
        # The worker's own output is kept with the results; the 20,000 per-attempt logs are not.
        log_dir = Path(os.environ["PEERBENCH_RESULTS"]) / "worker-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / "worker.log", "ab")
        attempt_logs = tempfile.mkdtemp(prefix="pgswarm-peers-attempt-logs-")
        args = [*worker_command(), "--dsn", dsn, "--agents", "shell", "--allow-shell", "--concurrency", str(concurrency)]
        env = {**os.environ, "PGSWARM_LOG_DIR": attempt_logs}
        t0 = time.perf_counter()
        worker = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                  start_new_session=True)
        done, ok = 0, False
        deadline = t0 + pbcommon.RUN_TIMEOUT_S
        with psycopg.connect(dsn, autocommit=True) as conn:
            while time.perf_counter() < deadline and worker.poll() is None:
                done = conn.execute(DONE).fetchone()[0]
                if done >= n:
                    ok = True
                    break
                time.sleep(0.01)
            t_end = time.perf_counter()
            first_claim, last_finish, failed = conn.execute("""
                select (select min(at) from swarm.task_events where event = 'claimed'),
                       (select max(finished_at) from swarm.agent_tasks),
                       (select count(*) from swarm.agent_tasks where status <> 'completed')""").fetchone()
        worker.terminate()
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        shutil.rmtree(attempt_logs, ignore_errors=True)
        rec = {"mode": "worker-drain", "version": peer.version(), "n": n, "concurrency": concurrency,
               "label": "final", "ok": ok, "completed": done, "not_completed": failed,
               "command": " ".join(args[1:]).replace(dsn, "DSN")}
        if ok:
            rec["drain_s"] = round(t_end - t0, 4)
            rec["drain_jobs_per_s"] = round(n / (t_end - t0), 1)
            busy_s = (last_finish - first_claim).total_seconds()
            rec["claim_to_finish_s"] = round(busy_s, 4)
            rec["claim_to_finish_jobs_per_s"] = round(n / busy_s, 1) if busy_s > 0 else None
        else:
            rec["error"] = f"worker exited rc={worker.returncode}" if worker.returncode not in (None, 0, -15) \
                else f"timeout: {done}/{n} completed"
        pbcommon.record("pgswarm", rec)


def run_mode(*args: str) -> None:
    subprocess.run([sys.executable, __file__, *args], check=False)


def mode_all(runs: int, parts: set[str]) -> None:
    if "engine" in parts:
        mode_engine(runs)
    if "enqueue" in parts:
        run_mode("enqueue")
    if "worker" in parts:
        for concurrency in (8, 16):
            run_mode("worker-drain", "--concurrency", str(concurrency), "--runs", str(runs))


def mode_engine(runs: int) -> None:
    for procs, settings in SWEEP:
        run_mode("drain", "--procs", str(procs), "--settings", json.dumps(settings), "--label", "sweep")
    best = subprocess.run([sys.executable, str(PEERS / "pick_best.py"), "pgswarm"], capture_output=True, text=True)
    if best.returncode != 0:
        sys.exit(f"peers_pgswarm.py: no successful sweep run: {best.stderr.strip()}")
    chosen = dict(word.split("=", 1) for word in shlex.split(best.stdout))  # PROCS=.. SETTINGS='..'
    procs, settings = chosen["PROCS"], chosen["SETTINGS"]
    print(f"=== pgswarm: best = procs {procs} settings {settings}; {runs} final drain runs", flush=True)
    for _ in range(runs):
        run_mode("drain", "--procs", procs, "--settings", settings, "--label", "final")
    run_mode("single", "--settings", settings, "--label", "final")
    # pickup latency: one consumer (a worker claims one batch per wake-up), then the best drain setting
    run_mode("latency", "--settings", json.dumps({"consumers": 1, "batch": 100}), "--label", "best")
    if json.loads(settings) != {"consumers": 1, "batch": 100}:
        run_mode("latency", "--settings", settings, "--label", "variant")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("all", "enqueue", "worker-drain"):
        import argparse

        ap = argparse.ArgumentParser()
        ap.add_argument("mode")
        ap.add_argument("--runs", type=int, default=3)
        ap.add_argument("--n", type=int, default=20000)
        ap.add_argument("--concurrency", type=int, default=8)
        ap.add_argument("--parts", default="engine,enqueue,worker", help="for all: engine, enqueue, worker")
        args = ap.parse_args()
        if args.mode == "all":
            mode_all(args.runs, {p.strip() for p in args.parts.split(",")})
        elif args.mode == "enqueue":
            mode_enqueue()
        else:
            mode_worker_drain(args.n, args.concurrency, args.runs)
        return
    pbcommon.main(Peer, "peers_pgswarm")


if __name__ == "__main__":
    main()
