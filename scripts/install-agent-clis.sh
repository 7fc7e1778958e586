#!/usr/bin/env bash
# Install the real agent CLIs (Claude Code, Codex, Gemini CLI) from npm into .tools/agents of
# this repository, for the worker tests that run them without network or login.
# Binaries: .tools/agents/node_modules/.bin/{claude,codex,gemini}. Idempotent and quiet.
# Without npm: says why and exits 1 in CI (CI=true), 0 elsewhere (the tests then skip).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="$REPO/.tools/agents"
BIN="$PREFIX/node_modules/.bin"
PACKAGES=(@anthropic-ai/claude-code @openai/codex @google/gemini-cli)

if [[ -x "$BIN/claude" && -x "$BIN/codex" && -x "$BIN/gemini" ]]; then
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-agent-clis: npm is not installed; install Node.js >= 20 with npm to get ${PACKAGES[*]}" >&2
    [[ "${CI:-}" == "true" ]] && exit 1
    exit 0
fi

mkdir -p "$PREFIX"
# A local prefix needs no global write access; npm >= 7 runs install scripts as the owner of
# the prefix, so this works as root too.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! npm install --prefix "$PREFIX" --no-audit --no-fund --no-update-notifier --loglevel=error \
        "${PACKAGES[@]}" >"$log" 2>&1; then
    echo "install-agent-clis: npm install ${PACKAGES[*]} failed:" >&2
    tail -n 20 "$log" >&2
    exit 1
fi
for tool in claude codex gemini; do
    if [[ ! -x "$BIN/$tool" ]]; then
        echo "install-agent-clis: npm finished but $BIN/$tool is missing" >&2
        exit 1
    fi
done
echo "install-agent-clis: claude, codex and gemini are in $BIN"
