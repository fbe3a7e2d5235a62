#!/usr/bin/env bash
# Compiles the CLI to JavaScript in dist/, which `./tgpulse` runs with plain
# node (tsx stays for tests and development). tsconfig.build.json compiles
# what cli/main.ts imports, statically or dynamically, without a type check
# (a transpile like tsx's; types are `npm run typecheck`'s job) and rewrites
# the `./x.ts` imports to `./x.js`. The files the code reads by path next to
# its own module (`new URL('./migrations/', import.meta.url)`: the SQL
# migrations) are copied beside the compiled modules, so the code finds them
# unchanged.
#
#   scripts/build.sh              build now
#   scripts/build.sh --if-stale   build only when dist/ is missing or older
#                                 than the sources (what bootstrap.sh runs on
#                                 every `tgpulse` call: a few ms when fresh)
#
# Builds into a temporary folder and swaps it in, so a running tgpulse never
# sees a half-written tree; concurrent builds wait for each other.
set -euo pipefail
# The script's folder without a dirname process (this runs on every tgpulse call).
here="${BASH_SOURCE[0]%/*}"
if [ "$here" = "${BASH_SOURCE[0]}" ]; then here=.; fi
root="$(cd "$here/.." && pwd)"
dist="$root/dist"
stamp="$dist/.built"

# Stale when anything the build reads changed after the last build started:
# a source or asset in a compiled folder (a folder's own mtime also catches
# files added, removed or renamed), the tsconfigs or this script.
stale() {
  [ -f "$stamp" ] || return 0
  local dirs=()
  for d in "$dist"/*/; do
    d="${d%/}"
    d="${d##*/}"
    if [ -d "$root/$d" ]; then dirs+=("$root/$d"); fi
  done
  [ -n "$(find "${dirs[@]}" "$root/tsconfig.json" "$root/tsconfig.build.json" "${BASH_SOURCE[0]}" \
    -newer "$stamp" ! -name '*.test.ts' -print -quit)" ]
}

if [ "${1:-}" = "--if-stale" ] && ! stale; then exit 0; fi

# shellcheck source=lib/staged-build.sh
. "$root/scripts/lib/staged-build.sh"
take_build_lock build
# Another tgpulse may have built while this one waited for the lock.
if [ "${1:-}" = "--if-stale" ] && ! stale; then exit 0; fi

next="$root/dist.next"
rm -rf "$next"
trap 'rm -rf "$next"' EXIT
mkdir -p "$next"
# Stamped before compiling: a source saved during the build is newer than the stamp, so the next call rebuilds.
touch "$next/.built"
start=$(date +%s%N)
"$root/node_modules/.bin/tsc" -p "$root/tsconfig.build.json" --outDir "$next"
# The assets: everything the compiled folders hold that is neither TypeScript nor C (the launcher's source).
(cd "$root" && for d in "$next"/*/; do
  d="${d%/}"
  d="${d##*/}"
  find "$d" -type f ! -name '*.ts' ! -name '*.c' -exec cp --parents {} "$next/" \;
done)
swap_in "$next" "$dist"
echo "tgpulse: built dist/ in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
