#!/usr/bin/env bash
# mypy over pgswarm's Python (worker/, client/, cli/) as the installed package sees it. The source tree
# keeps SPEC's top-level folders, so the package `pgswarm` is assembled from symlinks in a temporary
# folder for mypy to follow the relative imports. Settings and the listed exceptions: [tool.mypy] in
# pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/pgswarm"
cp pgswarm/__init__.py "$tree/pgswarm/"
for part in worker client cli; do
  ln -s "$repo/$part" "$tree/pgswarm/$part"
done
cd "$tree"
exec "$repo/.venv/bin/python" -m mypy --config-file "$repo/pyproject.toml" -p pgswarm "$@"
