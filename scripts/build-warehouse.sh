#!/usr/bin/env bash
# Builds tgpulse-warehouse, the launcher that runs the chDB engine (libchdb.so
# from the `chdb` npm package) as a local ClickHouse server. Rebuilt when the
# launcher source or the library changes. Needs a C compiler: bootstrap.sh
# installs gcc when it is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/clickhouse/local-server/launcher.c"
lib_dir="$(cd "$root" && node -p 'require("path").dirname(require.resolve("@chdb/lib-linux-x64-gnu/package.json"))' 2>/dev/null || true)"
if [ -z "$lib_dir" ] || [ ! -f "$lib_dir/libchdb.so" ]; then
  echo "tgpulse: libchdb.so was not found (npm package @chdb/lib-linux-x64-gnu, installed with chdb); run npm install" >&2
  exit 1
fi
out_dir="$root/node_modules/.tgpulse"
out="$out_dir/tgpulse-warehouse"
if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$lib_dir/libchdb.so" ]; then
  exit 0
fi
cc="${CC:-$(command -v gcc || command -v cc || true)}"
if [ -z "$cc" ]; then
  echo "tgpulse: a C compiler is needed to build the local warehouse server. Install it with: sudo apt-get install gcc" >&2
  exit 1
fi
mkdir -p "$out_dir"
"$cc" -O2 -Wall -Wextra -o "$out.tmp" "$src" -L"$lib_dir" -lchdb -Wl,-rpath,"$lib_dir"
mv "$out.tmp" "$out"
