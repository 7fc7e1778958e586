#!/usr/bin/env bash
# The test command. Installs pgswarm and its test dependencies into .venv, installs the real
# agent CLIs, the HA packages and the browser when their install scripts exist, then runs the whole suite on
# the embedded PostgreSQL (the wheel's, 18) and the engine, worker, CLI and client suites again on
# PostgreSQL 15 where it is installed. Extra arguments go to every pytest run.
#
#   bash scripts/test.sh           the whole suite (CI runs this)
#   bash scripts/test.sh --quick   for development: everything but the `slow` marker, on the embedded
#                                  PostgreSQL only, four test processes at once (each starts its own server)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
if [ "${1:-}" = "--quick" ]; then
  quick=true
  shift
fi

python3 -m venv .venv
.venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip
.venv/bin/python -m pip install --disable-pip-version-check -q -e '.[test,mcp]'
export PATH="$PWD/.venv/bin:$PATH"

for installer in scripts/install-agent-clis.sh scripts/install-ha.sh scripts/install-ui-test-tools.sh; do
  if [ -f "$installer" ]; then
    if ! bash "$installer"; then
      echo "test.sh: $installer failed" >&2
      [ "${CI:-}" = "true" ] && exit 1
    fi
  fi
done

run_pytest() {
  local rc=0
  python -m pytest "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "test.sh: pytest collected no tests for: $*" >&2
    exit 1
  fi
  return "$rc"
}

echo "== types (mypy) =="
bash scripts/typecheck.sh

if [ "$quick" = true ]; then
  echo "== quick: the suite without the slow marker, embedded PostgreSQL, 4 processes =="
  PGSWARM_TEST_PGBIN=embedded run_pytest tests -m "not slow" -n 4 -q "$@"
  exit $?
fi

# Most of a test is waiting on real processes and servers: three test processes (each with its own
# PostgreSQL) keep the whole run within CI's half hour on two cores.
PROCESSES="${PGSWARM_TEST_PROCESSES:-3}"
status=0
echo "== suite on the embedded PostgreSQL =="
PGSWARM_TEST_PGBIN=embedded run_pytest tests -n "$PROCESSES" "$@" || status=$?

PG15=/usr/lib/postgresql/15/bin
if [ -x "$PG15/postgres" ]; then
  echo "== engine, worker and CLI suites on PostgreSQL 15 =="
  suites=()
  for suite in tests/sql tests/concurrency tests/worker tests/cli tests/client; do
    [ -d "$suite" ] && suites+=("$suite")
  done
  PGSWARM_TEST_PGBIN="$PG15" run_pytest "${suites[@]}" -n "$PROCESSES" "$@" || status=$?
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: PostgreSQL 15 is expected in CI at $PG15" >&2
  status=1
fi
exit "$status"
