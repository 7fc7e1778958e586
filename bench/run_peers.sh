#!/usr/bin/env bash
# Side by side: the peer queues of ../shared/bench/peers and pgswarm against one PostgreSQL 15
# server (the peer harness's own: pg.sh, 127.0.0.1:55432, fsync on), in one run.
#
#   bash bench/run_peers.sh            # about 50 min: setup, peers, pgswarm, bench/RESULTS.md
#   STEPS="pgswarm report" KEEP_PG=1 bash bench/run_peers.sh   # only pgswarm, server already up
#
# Steps (STEPS, default all): setup (peers into /tmp via their setup.sh, skipped when present),
# peers (their run_all.sh without its report step), pgswarm (bench/peers_pgswarm.py),
# report (bench/RESULTS.md from the raw results). Raw results go to bench/results/ (not
# ../shared); nothing under ../shared is written except the server's /tmp data directory.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
PEERS=${PEERS_DIR:-$(dirname "$REPO")/shared/bench/peers}
STEPS=${STEPS:-"setup peers pgswarm report"}
export PEERBENCH_RESULTS=${PEERBENCH_RESULTS:-$HERE/results}
export PEERBENCH_VENV=${PEERBENCH_VENV:-/tmp/peerbench-venv}
export PEERBENCH_NODE_DIR=${PEERBENCH_NODE_DIR:-/tmp/peerbench-node}
PY=${PGSWARM_PYTHON:-python3}
# The report compares this run only (the *.jsonl files keep earlier runs too).
export PEERS_SINCE=${PEERS_SINCE:-$(date -u +%Y-%m-%dT%H:%M:%S)}
has() { [[ " $STEPS " == *" $1 "* ]]; }

[ -d "$PEERS" ] || { echo "run_peers.sh: peer harness not found at $PEERS" >&2; exit 2; }
mkdir -p "$PEERBENCH_RESULTS"

if has setup; then
  if [ -x "$PEERBENCH_VENV/bin/python" ] && [ -d "$PEERBENCH_NODE_DIR/node_modules/pg-boss" ]; then
    echo "== setup: peers already installed in $PEERBENCH_VENV and $PEERBENCH_NODE_DIR"
  else
    echo "== setup: installing peers"; bash "$PEERS/setup.sh" || { echo "run_peers.sh: setup.sh failed" >&2; exit 1; }
  fi
fi

if [ "${KEEP_PG:-0}" != 1 ]; then
  (cd "$PEERS" && ./pg.sh init && ./pg.sh start) || exit 1
  trap '(cd "$PEERS" && ./pg.sh stop)' EXIT
fi

if has peers; then
  echo "== peers (run_all.sh, results in $PEERBENCH_RESULTS)"
  (cd "$PEERS" && KEEP_PG=1 KEEP_RESULTS=1 \
     STEPS="${PEER_STEPS:-env spawn pgbench procrastinate pgqueuer dbos graphile-worker pg-boss}" ./run_all.sh)
fi

if has pgswarm; then
  echo "== pgswarm (bench/peers_pgswarm.py)"
  "$PY" "$HERE/peers_pgswarm.py" all
fi

# A whole run (the peers and pgswarm against one server) is recorded by its time window, so the
# report can publish every whole run side by side (bench/results/runs.jsonl).
if has peers && has pgswarm; then
  printf '{"since": "%s", "until": "%s"}\n' "$PEERS_SINCE" "$(date -u +%Y-%m-%dT%H:%M:%S)" \
    >> "$PEERBENCH_RESULTS/runs.jsonl"
fi

if has report; then
  "$PY" "$HERE/peers_report.py"
fi
