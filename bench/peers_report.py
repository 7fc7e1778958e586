"""Write bench/RESULTS.md from the raw results in $PEERBENCH_RESULTS (default bench/results/):
the peers' and pgswarm's *.jsonl (bench/run_peers.sh), env.txt (the machine and the server's
settings), scale-*.txt (bench/scale.py output) and, when the lead has written them, worker.md
(the real worker with /bin/true, from bench/worker.py), peers-notes.md (other runs, after the
targets) and fleet-notes.md (bench/fleet.py, bench/chaos.py, the fault suite; after the scale).
Every whole run that bench/run_peers.sh recorded in runs.jsonl (its time window) gets a row in the
section that sets the runs side by side.

    python bench/peers_report.py            # writes bench/RESULTS.md
    python bench/peers_report.py --stdout   # prints it instead
    python bench/peers_report.py --since 2026-11-23T06:48:00   # only results stamped from then on

The *.jsonl files keep every run; a report must compare one run, so bench/run_peers.sh passes
the moment it started as PEERS_SINCE (the default of --since).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("PEERBENCH_RESULTS", HERE / "results"))
OUTPUT = HERE / "RESULTS.md"
PEERS = ["procrastinate", "pgqueuer", "dbos", "graphile-worker", "pg-boss"]
ENGINE = "pgswarm (engine, in-process consumer)"
# The engine's targets (issue 19 section 4): drain at least this many times the best peer's, in each
# run; pickup p50 no higher than the best peer's in at least two of three runs.
DRAIN_TARGET = 1.2


SINCE = os.environ.get("PEERS_SINCE", "")  # ISO timestamp; results stamped earlier are left out


def load(name: str, since: str | None = None, until: str | None = None) -> list[dict]:
    """One system's raw results stamped from `since` (default: SINCE) and before `until` (default: no end)."""
    path = RESULTS / f"{name}.jsonl"
    if not path.exists():
        return []
    since = SINCE if since is None else since
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if r.get("ts", "") >= since and (until is None or r.get("ts", "") < until)]


def fmt(x: float | None, nd: int = 0) -> str:
    return "n/a" if x is None else f"{x:,.{nd}f}"


def spread(xs: list[float], nd: int = 0) -> str:
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return f"{fmt(xs[0], nd)} (1 run)"
    return f"{fmt(statistics.median(xs), nd)} ({fmt(min(xs), nd)}–{fmt(max(xs), nd)})"


def settings_text(settings: dict | None) -> str:
    return "`" + json.dumps(settings or {}, separators=(", ", ": ")).replace("|", "/") + "`"


@dataclass
class Summary:
    """One system's final drain runs, its single-enqueue run and its pickup-latency runs."""
    name: str
    version: str
    procs: int
    settings: dict
    drain: list[float]
    bulk: list[float]
    bulk_api: str
    single: dict | None
    pickups: list[dict]

    @property
    def drain_median(self) -> float:
        return statistics.median(self.drain)

    @property
    def bulk_median(self) -> float:
        return statistics.median(self.bulk)

    @property
    def pickup(self) -> dict | None:
        """The pickup run in the drain's own settings (one configuration for both figures)."""
        same = [p for p in self.pickups if p.get("settings") == self.settings]
        return (same or [p for p in self.pickups if p.get("label") == "best"] or self.pickups or [None])[0]

    @property
    def best_pickup(self) -> dict | None:
        return min(self.pickups, key=lambda p: p["p50_ms"], default=None)


def summarize(name: str, rows: list[dict]) -> Summary | None:
    final = [r for r in rows if r.get("mode") == "drain" and r.get("label") == "final" and r.get("ok")]
    if not final:
        return None
    single = next((r for r in rows if r.get("mode") == "single"), None)
    pickups = [r for r in rows if r.get("mode") == "latency" and r.get("received") == r.get("n")]
    pickups.sort(key=lambda p: p.get("settings") != final[0]["settings"])  # the drain's settings first
    return Summary(name, final[0].get("version", "?"), final[0]["procs"], final[0]["settings"],
                   [r["drain_jobs_per_s"] for r in final], [r["enqueue_jobs_per_s"] for r in final],
                   final[0].get("enqueue_api", ""), single, pickups)


def pickup_text(p: dict | None) -> str:
    return "n/a" if p is None else f"{fmt(p['p50_ms'], 2)} / {fmt(p['p95_ms'], 2)} / {fmt(p['p99_ms'], 2)}"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def held_snapshot_result() -> tuple[str, str, bool] | None:
    """(file, "NN%", met) of the longest held-snapshot run in the scale results, if any."""
    for name in ("scale-full-snapshot.txt", "scale-quick.txt"):
        path = RESULTS / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            found = re.search(r"REPEATABLE READ snapshot.*?= (\d+%) of normal.*?target >= 80%: (met|NOT met)", line)
            if line.startswith("|") and found:
                return name, found.group(1), found.group(2) == "met"
    return None


@dataclass
class Run:
    """The peers and pgswarm as measured in one time window (one whole run of bench/run_peers.sh)."""
    since: str
    until: str | None
    peers: list[Summary]
    ours: Summary | None
    enqueue_paths: list[dict]

    @classmethod
    def measured(cls, since: str, until: str | None = None) -> Run:
        rows = load("pgswarm", since, until)
        return cls(since, until, [s for s in (summarize(p, load(p, since, until)) for p in PEERS) if s],
                   summarize(ENGINE, rows), [r for r in rows if r.get("mode") == "enqueue"])

    def best_peer(self, key: Callable[[Summary], float | None], higher_better: bool = True) -> tuple[float, str] | None:
        candidates = [(value, s.name) for s in self.peers if (value := key(s)) is not None]
        return (max if higher_better else min)(candidates) if candidates else None


def recorded_runs() -> list[Run]:
    """Every whole run bench/run_peers.sh recorded in runs.jsonl, oldest first, with its results."""
    path = RESULTS / "runs.jsonl"
    if not path.exists():
        return []
    windows = sorted((json.loads(line) for line in path.read_text().splitlines() if line.strip()),
                     key=lambda w: w["since"])
    runs = [Run.measured(w["since"], w["until"]) for w in windows]
    return [run for run in runs if run.ours and run.peers]


def versus(shown: str, mine: float | None, peer: tuple[float, str] | None, nd: int = 0) -> list[str]:
    """Two table cells: pgswarm's figure with the best peer's beside it, and their ratio."""
    if peer is None:
        return [shown, "n/a"]
    value, name = peer
    return [f"{shown} ({name} {fmt(value, nd)})", f"{mine / value:.2f}×" if mine else "n/a"]


def single_rate(s: Summary) -> float | None:
    return s.single["enqueue_jobs_per_s"] if s.single else None


def best_pickup_p50(s: Summary) -> float | None:
    return s.best_pickup["p50_ms"] if s.best_pickup else None


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        this_run = Run.measured(SINCE)
        self.peers = this_run.peers
        self.ours = this_run.ours
        self.enqueue_paths = this_run.enqueue_paths
        self.runs = recorded_runs()
        self.spawn = load("spawn_baseline")
        self.pgbench = load("baseline_pgbench")

    def w(self, line: str = "") -> None:
        self.lines.append(line)

    # -- sections -----------------------------------------------------------------------------
    def intro(self) -> None:
        stamps = sorted(r["ts"] for name in ["spawn_baseline", "baseline_pgbench", *PEERS, "pgswarm"]
                        for r in load(name) if "ts" in r)
        window = f" (raw results stamped {stamps[0]} – {stamps[-1]} UTC)" if stamps else ""
        self.w("# pgswarm beside the Postgres job queues: results\n")
        self.w(f"Measured on one 2-core VM{window}: the peer harness of `../shared/bench/peers` (its "
               "`run_all.sh`, unchanged) for procrastinate, pgqueuer, DBOS, graphile-worker, pg-boss, the "
               "hand-written SKIP LOCKED loop and the spawn floor, and `bench/peers_pgswarm.py` (pgswarm as one more "
               "peer of that harness, `pbcommon.py`: the same drain, single-enqueue and pickup code) against the "
               "harness's PostgreSQL 15 server (`pg.sh`). One command runs it all: `bash bench/run_peers.sh` "
               "(about 50 min). This file is generated by `python bench/peers_report.py` from the raw results in "
               "`bench/results/`; the scale section comes from `python bench/scale.py`. Spread: median "
               "(min–max) over the final runs.\n")
        self.w("The VM is shared with other work. The peers ran first; pgswarm about ten minutes later "
               "against the same `pg.sh` server settings. Every system's figures move a lot between runs (the "
               "machine's load changes), so each target is judged against the peers of the same run; "
               "[Every whole run](#every-whole-run) sets the recorded runs side by side.\n")

    def side_by_side(self) -> None:
        self.w("## Side by side\n")
        self.w("| system | version | best drain settings | drain of 20,000 no-op jobs, jobs/s | bulk enqueue jobs/s "
               "(API) | single enqueue jobs/s (p50 call ms) | pickup p50 / p95 / p99 ms (settings) |")
        self.w("|---|---|---|---|---|---|---|")
        for s in [*self.peers, *([self.ours] if self.ours else [])]:
            bold = "**" if s is self.ours else ""
            single = s.single
            single_text = f"{fmt(single['enqueue_jobs_per_s'])} ({fmt(single['call_ms_p50'], 2)})" if single else "n/a"
            pickups = "<br>".join(f"{pickup_text(p)} ({'drain settings' if p.get('settings') == s.settings else settings_text(p.get('settings'))})"
                                  for p in s.pickups) or "n/a"
            self.w(f"| {bold}{s.name}{bold} | {s.version} | {s.procs} proc, {settings_text(s.settings)} "
                   f"| {bold}{spread(s.drain)}{bold} | {spread(s.bulk)} ({s.bulk_api}) | {single_text} | {pickups} |")
        self.w("| **pgswarm (real worker, `/bin/true`)** | | see [Real worker with /bin/true](#real-worker-with-bintrue) "
               "| | | | |")
        self.w("")
        self.w("- **Drain**: fresh database, bulk enqueue of 20,000, `CHECKPOINT`, start the workers behind a "
               "barrier, time until the database shows all 20,000 completed. Each system's best setting from a "
               "sweep, then 3 final runs. pgswarm's engine row uses a minimal in-process consumer: LISTEN "
               "`swarm_ready`, `swarm.claim_task(max_tasks => batch, durable => false)` (as the worker claims: "
               "the claim's commit does not wait for the WAL flush), the no-op job function, one "
               "`swarm.complete_tasks` call per batch (each task fenced by worker and attempt, the completion "
               "committed durably before the next claim). Before it reports ready, each connection makes one claim "
               "that finds nothing and one empty completion, so the functions are compiled and planned, as in a "
               "worker that has been running.")
        self.w("- **Pickup**: one idle consumer process, 200 single enqueues 20 ms apart after 10 warm-up jobs; "
               "latency = job function start − enqueue call returned (the commit acknowledged). pgswarm's "
               "first pickup row is the drain settings; the second, one consumer connection.")
        self.w("- **Single enqueue**: 2,000 enqueues, one call and one commit each, sequential. pgswarm's is a plain "
               "`INSERT INTO swarm.agent_tasks (prompt) VALUES ($1)`.\n")

    def enqueue(self) -> None:
        if not self.enqueue_paths:
            return
        self.w("## pgswarm enqueue paths\n")
        self.w("Each into a fresh database, after 10 warm-up inserts; one NOTIFY per statement. The peers' bulk "
               "figures above are their bulk APIs at 1,000 jobs per call.\n")
        self.w("| path | tasks | tasks/s |")
        self.w("|---|---|---|")
        for r in self.enqueue_paths:
            self.w(f"| {r['api']} | {r['n']:,} | {fmt(r['jobs_per_s'])} |")
        self.w("")

    def every_run(self) -> None:
        """Each recorded whole run on one row: pgswarm's engine against the best peer of that run."""
        if not self.runs:
            return
        self.w("## Every whole run\n")
        self.w(f"Each row is one whole `bash bench/run_peers.sh` (the peers, then pgswarm, against one server), "
               f"judged against the best peer of the same run. Targets: engine drain ≥ {DRAIN_TARGET}× the best "
               "peer's in each run; pickup p50 ≤ the best peer's (any of its pickup settings) in at least two of "
               "three. Bulk is the same measurement for every system: the drain's enqueue of 20,000 jobs, 1,000 "
               "per call (pgswarm: `INSERT ... SELECT unnest($1)`), median of the 3 final runs; single is one "
               "enqueue call and commit at a time, 2,000 in a row.\n")
        self.w("| run (UTC) | engine drain, jobs/s (best peer) | ratio | pickup p50 / p95 / p99 ms (best peer p50) "
               "| ratio p50 | single enqueue /s (best peer) | ratio | bulk enqueue /s (best peer) | ratio |")
        self.w("|---|---|---|---|---|---|---|---|---|")
        drain_met = pickup_met = 0
        for run in self.runs:
            ours = run.ours
            assert ours is not None  # recorded_runs keeps only runs with pgswarm's results
            drain = run.best_peer(lambda s: s.drain_median)
            pickup = run.best_peer(best_pickup_p50, higher_better=False)
            single = run.best_peer(single_rate)
            bulk = run.best_peer(lambda s: s.bulk_median)
            mine_pickup = ours.pickup
            cells = [run.since[:16].replace("T", " "),
                     *versus(fmt(ours.drain_median), ours.drain_median, drain),
                     *versus(pickup_text(mine_pickup), mine_pickup and mine_pickup["p50_ms"], pickup, nd=2),
                     *versus(fmt(single_rate(ours)), single_rate(ours), single),
                     *versus(fmt(ours.bulk_median), ours.bulk_median, bulk)]
            drain_met += bool(drain and ours.drain_median >= DRAIN_TARGET * drain[0])
            pickup_met += bool(pickup and mine_pickup and mine_pickup["p50_ms"] <= pickup[0])
            self.w("| " + " | ".join(cells) + " |")
        runs = len(self.runs)
        self.w("")
        self.w(f"Engine drain ≥ {DRAIN_TARGET}× the best peer: {drain_met} of {runs} runs "
               f"({verdict(drain_met == runs)}). Pickup p50 ≤ the best peer's: {pickup_met} of {runs} runs "
               f"({verdict(pickup_met >= min(2, runs))}).\n")

    def ratios(self) -> None:
        ours = self.ours
        if not ours or not self.peers:
            return
        self.w("## Ratios against the best peer of this run\n")
        self.w("| measure | pgswarm | best peer | ratio pgswarm / peer | pgswarm better? |")
        self.w("|---|---|---|---|---|")

        def row(measure: str, mine: float | None, key: Callable[[Summary], float | None], higher_better: bool,
                unit: str, nd: int = 0) -> None:
            candidates = [(key(s), s.name) for s in self.peers if key(s) is not None]
            if mine is None or not candidates:
                return
            value, name = (max if higher_better else min)(candidates)
            ratio = mine / value
            better = ratio >= 1 if higher_better else ratio <= 1
            self.w(f"| {measure} | {fmt(mine, nd)} {unit} | {name} {fmt(value, nd)} {unit} | {ratio:.2f}× "
                   f"| {'yes' if better else 'no'} |")

        best_bulk_path = max((r["jobs_per_s"] for r in self.enqueue_paths if r["api"].startswith("bulk")), default=None)
        row("drain (engine), jobs/s", ours.drain_median, lambda s: s.drain_median, True, "jobs/s")
        row("bulk enqueue, best path, jobs/s", best_bulk_path or ours.bulk_median, lambda s: s.bulk_median, True,
            "jobs/s")
        row("single enqueue, jobs/s", ours.single and ours.single["enqueue_jobs_per_s"],
            lambda s: s.single and s.single["enqueue_jobs_per_s"], True, "jobs/s")
        for pct in ("p50", "p95", "p99"):
            row(f"pickup {pct} (drain settings; peer: any of its runs), ms", ours.pickup and ours.pickup[f"{pct}_ms"],
                lambda s, pct=pct: min((p[f"{pct}_ms"] for p in s.pickups), default=None), False, "ms", 2)
        batch = [r["jobs_per_s"] for r in self.pgbench if r.get("variant") == "batch"]
        if batch:
            best = max(statistics.median([r["jobs_per_s"] for r in self.pgbench
                                          if r.get("variant") == "batch" and r["clients"] == c])
                       for c in {r["clients"] for r in self.pgbench if r.get("variant") == "batch"})
            self.w(f"| drain against the hand-written SKIP LOCKED batch loop (pgbench, 100 per claim, best client "
                   f"count) | {fmt(ours.drain_median)} jobs/s | baseline {fmt(best)} jobs/s "
                   f"| {ours.drain_median / best:.2f}× | no (it does no fencing, events or dependencies) |")
        self.w("")

    def targets(self) -> None:
        ours = self.ours
        if not ours or not self.peers:
            return
        best_drain = max(self.peers, key=lambda s: s.drain_median)
        pickup_peer = min((s for s in self.peers if s.best_pickup), key=lambda s: s.best_pickup["p50_ms"])
        best_pickup = pickup_peer.best_pickup
        mine = ours.pickup
        self.w("## Targets of the issue\n")
        self.w("| target | pgswarm | best peer, this run | ratio | met |")
        self.w("|---|---|---|---|---|")
        drain_ratio = ours.drain_median / best_drain.drain_median
        self.w(f"| engine drain ≥ {DRAIN_TARGET}× the best peer's drain | {fmt(ours.drain_median)} jobs/s | "
               f"{best_drain.name} {fmt(best_drain.drain_median)} jobs/s | {drain_ratio:.2f}× "
               f"| {verdict(drain_ratio >= DRAIN_TARGET)} |")
        if mine and best_pickup:
            pickup_ratio = mine["p50_ms"] / best_pickup["p50_ms"]
            self.w(f"| pickup p50 ≤ best peer's pickup p50 | {fmt(mine['p50_ms'], 2)} ms (drain settings) | "
                   f"{pickup_peer.name} {fmt(best_pickup['p50_ms'], 2)} ms ({settings_text(best_pickup.get('settings'))}) "
                   f"| {pickup_ratio:.2f}× | {verdict(pickup_ratio <= 1)} |")
            both = drain_ratio >= DRAIN_TARGET and pickup_ratio <= 1
            self.w(f"| both in one configuration ({ours.procs} proc, {settings_text(ours.settings)}) | "
                   f"{fmt(ours.drain_median)} jobs/s and {fmt(mine['p50_ms'], 2)} ms | | | {verdict(both)} |")
        snapshot = held_snapshot_result()
        if snapshot:
            name, share, met = snapshot
            self.w(f"| throughput while a REPEATABLE READ snapshot is held ≥ 80 % of normal | {share} of normal "
                   f"(`{name}`, see [Scale](#scale-benchscalepy)) | | | {verdict(met)} |")
        self.w("")
        self.w("The real worker's `/bin/true` figure beside the spawn floor is kept as a record, with no target "
               "(see [Real worker with /bin/true](#real-worker-with-bintrue)): it measured the two-core machine.\n")
        self.w(self.target_summary(best_drain, pickup_peer, drain_ratio) + "\n")

    def earlier_runs(self) -> None:
        notes = RESULTS / "peers-notes.md"  # hand-written: what the runs say, and runs before runs.jsonl
        if notes.exists():
            self.w(notes.read_text().rstrip() + "\n")

    def target_summary(self, best_drain: Summary, pickup_peer: Summary, drain_ratio: float) -> str:
        """The targets in words, every claim computed from the raw results."""
        ours, mine, best_pickup = self.ours, self.ours.pickup, pickup_peer.best_pickup
        parts = ["In this run:"]
        if drain_ratio < DRAIN_TARGET:
            parts.append(f"{best_drain.name} drained {fmt(best_drain.drain_median)} jobs/s, pgswarm "
                         f"{drain_ratio:.2f}× that.")
        if mine and best_pickup and mine["p50_ms"] > best_pickup["p50_ms"]:
            parts.append(f"{pickup_peer.name}'s pickup p50 was {fmt(best_pickup['p50_ms'], 2)} ms, pgswarm's "
                         f"{fmt(mine['p50_ms'], 2)} ms.")
        if mine:
            for pct in ("p95", "p99"):
                if all(mine[f"{pct}_ms"] < min(p[f"{pct}_ms"] for p in s.pickups) for s in self.peers if s.pickups):
                    parts.append(f"pgswarm's pickup {pct} ({fmt(mine[f'{pct}_ms'], 2)} ms) is lower than every peer's.")
        drain_beaten = [s.name for s in self.peers if ours.drain_median > s.drain_median]
        pickup_beaten = [s.name for s in self.peers if mine and s.best_pickup and mine["p50_ms"] < s.best_pickup["p50_ms"]]
        both = [n for n in drain_beaten if n in pickup_beaten]
        if both:
            parts.append(f"pgswarm drains faster and picks up sooner (p50) than {', '.join(both)}.")
        single_beaten = [s.name for s in self.peers if s.single and ours.single
                         and ours.single["enqueue_jobs_per_s"] > s.single["enqueue_jobs_per_s"]]
        if len(single_beaten) == len(self.peers):
            parts.append("Its single-row enqueue is faster than every peer's.")
        return " ".join(parts)

    def worker(self) -> None:
        self.w("## Real worker with /bin/true\n")
        filled = RESULTS / "worker.md"
        if filled.exists():
            self.w(filled.read_text().rstrip() + "\n")
            return
        self.w("_Placeholder, filled by the lead from `python bench/worker.py` (the real `pgswarm worker "
               "--agents shell --allow-shell` draining `/bin/true` tasks, beside the spawn floor measured the same "
               "way). Put the section's text in `bench/results/worker.md`; this generator includes it here. The raw "
               "output of an earlier run is in `bench/results/worker.txt`._\n")

    def scale(self) -> None:
        files = sorted(RESULTS.glob("scale-*.txt"), key=lambda p: (p.name != "scale-quick.txt", p.name))
        self.w("## Scale (`bench/scale.py`)\n")
        self.w("`bench/scale.py` starts its own PostgreSQL 15 (fsync, full_page_writes and synchronous_commit on, "
               "shared_buffers 512MB, max_wal_size 4GB, autovacuum defaults plus the queue table's own settings "
               "from `migrations/0001_schema.sql`) and records, once a second through every part, the dead tuples "
               "of `swarm.agent_tasks` and `swarm.task_events` and `pg_notification_queue_usage()` (with a "
               "LISTEN session consuming `swarm_ready` as a worker would). Claim latency is one "
               "`swarm.claim_task` (then its completion) at a time, 1,000 samples after 100 warm-up.\n")
        if not files:
            self.w("_Not run yet._\n")
            return
        for path in files:
            text = path.read_text().splitlines()
            header = next((line for line in text if line.startswith("PostgreSQL")), "")
            table = [line for line in text if line.startswith("|")]
            self.w(f"### `{path.name}`\n")
            if header:
                self.w(f"{header}\n")
            self.w("\n".join(table) if table else "_(no table: the run did not finish)_")
            self.w("")
        self.scale_notes()

    def scale_notes(self) -> None:
        notes = RESULTS / "scale-notes.md"
        if notes.exists():
            self.w(notes.read_text().rstrip() + "\n")

    def fleet(self) -> None:
        """Hand-written: bench/fleet.py, bench/chaos.py and tests/faults figures (bench/results/fleet-notes.md)."""
        notes = RESULTS / "fleet-notes.md"
        if notes.exists():
            self.w(notes.read_text().rstrip() + "\n")

    def baselines(self) -> None:
        if self.spawn:
            self.w("## Spawn floor (this run): `/bin/true` from Python, 2,000 per run, 3 runs\n")
            self.w("| API | in flight | loop | processes/s |")
            self.w("|---|---|---|---|")
            for api, in_flight, loop in sorted({(r["api"], r["in_flight"], r["loop"]) for r in self.spawn}):
                xs = [r["procs_per_s"] for r in self.spawn if (r["api"], r["in_flight"], r["loop"]) == (api, in_flight, loop)]
                self.w(f"| {api} | {in_flight} | {loop} | {spread(xs)} |")
            self.w("")
        if self.pgbench:
            self.w("## Hand-written SKIP LOCKED baseline (pgbench, this run, 15 s per run, 3 runs)\n")
            self.w("| variant | clients | jobs/s |")
            self.w("|---|---|---|")
            for variant in ("single", "batch"):
                for clients in sorted({r["clients"] for r in self.pgbench if r["variant"] == variant}):
                    xs = [r["jobs_per_s"] for r in self.pgbench if r["variant"] == variant and r["clients"] == clients]
                    self.w(f"| {variant} | {clients} | {spread(xs)} |")
            self.w("")

    def settings_and_machine(self) -> None:
        self.w("## Settings\n")
        self.w("- Server: the peer harness's `pg.sh`, PostgreSQL 15.18 from Debian, `initdb` defaults plus "
               "`shared_buffers=512MB`, `max_connections=200`; `fsync=on`, `synchronous_commit=on`; listening on "
               "127.0.0.1:55432, clients over TCP loopback. Full list below (`env.txt`).")
        self.w("- N = 20,000 no-op jobs per drain; sweep of settings per system, the best repeated 3 times "
               "(`RUNS=3`); single enqueue 2,000 calls; pickup 200 jobs, 20 ms apart.")
        self.w("- Peers at the versions in the table, installed by the harness's `setup.sh` into /tmp; pgswarm from "
               "this repository (`pip install -e .`), its consumer on asyncpg.")
        self.w("- pgswarm's sweep: consumers per process 1–4, claim batch 100–1,000, 1–2 processes "
               "(`bench/peers_pgswarm.py`, `SWEEP`).\n")
        env = RESULTS / "env.txt"
        if env.exists():
            self.w("## Machine and PostgreSQL configuration (recorded at run time, `bench/results/env.txt`)\n")
            self.w("```")
            self.w(env.read_text().rstrip())
            self.w("```")

    def build(self) -> str:
        self.intro()
        self.side_by_side()
        self.targets()
        self.every_run()
        self.earlier_runs()
        self.ratios()
        self.enqueue()
        self.worker()
        self.scale()
        self.fleet()
        self.baselines()
        self.settings_and_machine()
        return "\n".join(self.lines) + "\n"


def main() -> None:
    global SINCE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the report instead of writing bench/RESULTS.md")
    parser.add_argument("--since", default=SINCE,
                        help="leave out results stamped before this ISO time (default: $PEERS_SINCE; all)")
    args = parser.parse_args()
    SINCE = args.since
    text = Report().build()
    if args.stdout:
        print(text, end="")
    else:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
