#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs first (npm packages,
# nats-server), then the static checks (scripts/lint.sh: format, lint, types,
# boundaries, dead code) and vitest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The tests need a little more than tgpulse itself (promtool and prometheus).
TGPULSE_BOOTSTRAP_TESTS=1 "$root/scripts/bootstrap.sh"
cd "$root"
"$root/scripts/lint.sh"
npx vitest run "$@"
