#!/usr/bin/env bash
# Install the HA manager for tests/ha: Debian's patroni and etcd-server (quick when present).
# The packaged etcd service is not used; tests/ha/cluster.py starts its own etcd on loopback.
set -euo pipefail
if command -v patroni >/dev/null && command -v patronictl >/dev/null && command -v etcd >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-ha.sh: must run as root to apt-get install patroni etcd-server" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d 101: do not start the packaged etcd service during install (tests run their own)
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap 'if [ "$created_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
apt-get install -y -qq --no-install-recommends patroni etcd-server etcd-client python3-psycopg2 >/dev/null
command -v patroni >/dev/null && command -v etcd >/dev/null || { echo "install-ha.sh: patroni or etcd missing after install" >&2; exit 1; }
