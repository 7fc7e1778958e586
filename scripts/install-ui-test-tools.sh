#!/usr/bin/env bash
# Install what the dashboard and `pgswarm top` tests drive: Debian's chromium and chromium-driver
# (a matching pair from one archive; nothing downloads a browser at test time) and tmux (a real
# terminal for tests/cli/test_top.py). Quick when present.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v tmux >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-ui-test-tools.sh: must run as root to apt-get install chromium chromium-driver tmux" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core tmux >/dev/null
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && command -v tmux >/dev/null \
  || { echo "install-ui-test-tools.sh: chromium, chromedriver or tmux missing after install" >&2; exit 1; }
