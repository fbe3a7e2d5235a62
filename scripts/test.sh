#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs first (npm packages,
# nats-server), then typechecks and runs vitest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
npx tsc --noEmit -p .
npx vitest run "$@"
