#!/usr/bin/env bash
# Builds the web app (api/web/) with Vite into dist-web/, which the API serves
# at `/`: index.html and hashed files in dist-web/assets/ (the Vega runtime in
# its own `vega-…` chunk, loaded when the first chart is drawn).
#
#   scripts/build-web.sh              build now
#   scripts/build-web.sh --if-stale   build only when dist-web/ is missing or
#                                     older than the app's sources (what
#                                     bootstrap.sh runs on every `tgpulse` call)
#
# Builds into a temporary folder and swaps it in, so a running API never
# serves a half-written tree; concurrent builds wait for each other.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
if [ "$here" = "${BASH_SOURCE[0]}" ]; then here=.; fi
root="$(cd "$here/.." && pwd)"
web="$root/api/web"
dist="$root/dist-web"
stamp="$dist/.built"

# Stale when anything the build reads changed after the last build started: the app's
# sources (a folder's own mtime also catches files added, removed or renamed), the npm
# packages (npm rewrites node_modules/.package-lock.json), or this script.
stale() {
  [ -f "$stamp" ] || return 0
  [ -n "$(find "$web" "$root/node_modules/.package-lock.json" "${BASH_SOURCE[0]}" \
    -newer "$stamp" ! -name '*.test.ts' -print -quit 2>/dev/null)" ]
}

if [ "${1:-}" = "--if-stale" ] && ! stale; then exit 0; fi

# shellcheck source=lib/staged-build.sh
. "$root/scripts/lib/staged-build.sh"
take_build_lock build-web
# Another build may have finished while this one waited for the lock.
if [ "${1:-}" = "--if-stale" ] && ! stale; then exit 0; fi

next="$root/dist-web.next"
rm -rf "$next"
trap 'rm -rf "$next"' EXIT
start=$(date +%s%N)
"$root/node_modules/.bin/vite" build --config "$web/vite.config.ts" --outDir "$next" --logLevel error >&2
# Stamped with the time the build started: a source saved during the build is newer, so the next call rebuilds.
touch -d "@$((start / 1000000000))" "$next/.built"
swap_in "$next" "$dist"
echo "tgpulse: built dist-web/ in $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
