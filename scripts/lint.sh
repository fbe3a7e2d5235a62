#!/usr/bin/env bash
# Static checks, each timed: format and lint (Biome), types (tsc; `tsc -p api/web`
# for the browser app), folder boundaries (dependency-cruiser), dead code (knip),
# and ARCHITECTURE.md's folder table against layers.json. Part of `npm test`; `npm run lint` alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/node_modules/.bin:$PATH"

step() {
  local name="$1"
  shift
  local start=$(date +%s%N)
  "$@"
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf 'lint: %-12s %5d ms\n' "$name" "$ms" >&2
}

step biome biome ci --colors=off --reporter=summary .
step tsc tsc --noEmit -p .
step tsc-web tsc --noEmit -p api/web
step boundaries depcruise --config .dependency-cruiser.cjs --output-type err .
step knip knip --no-progress
step architecture node scripts/check-architecture.mjs
