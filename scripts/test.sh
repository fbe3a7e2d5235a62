#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs first (npm packages,
# nats-server), then the static checks (scripts/lint.sh: format, lint, types,
# boundaries, dead code) and vitest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
"$root/scripts/lint.sh"
npx vitest run "$@"
