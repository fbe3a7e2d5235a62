#!/usr/bin/env bash
# Installs what tgpulse needs on this machine, once: npm packages (when
# node_modules is missing or older than package.json), and nats-server,
# fonts-dejavu-core and, for the tests (TGPULSE_BOOTSTRAP_TESTS=1, set by
# scripts/test.sh), prometheus, postgresql and chromium from the OS package manager when
# they are missing. Says
# exactly what to install when it cannot do it itself. Then builds the local
# warehouse launcher (scripts/build-warehouse.sh), which needs gcc, the
# compiled CLI in dist/ (scripts/build.sh) and the web app in dist-web/
# (scripts/build-web.sh) when their sources changed.
#
# It runs before every `tgpulse` command, so the path where everything is in
# place only compares file times (no node process besides `node --version`):
# about 50 ms.
#
#   scripts/bootstrap.sh --runner   also prints, on stdout, how to run the CLI:
#                                   `dist`, or `tsx` when dist/ could not be
#                                   built (everything else goes to stderr)
set -euo pipefail
# The script's folder without a dirname process (this runs on every tgpulse call).
here="${BASH_SOURCE[0]%/*}"
if [ "$here" = "${BASH_SOURCE[0]}" ]; then here=.; fi
root="$(cd "$here/.." && pwd)"
print_runner=false
if [ "${1:-}" = "--runner" ]; then
  print_runner=true
  exec 3>&1 1>&2
fi

need_node_major=20
if ! command -v node >/dev/null 2>&1; then
  echo "tgpulse: Node.js ${need_node_major}+ is required: install it (e.g. apt-get install nodejs npm, or from nodejs.org)" >&2
  exit 1
fi
# `node --version` answers without starting the JavaScript runtime (`node -p` costs ~100 ms).
major="$(node --version)"
major="${major#v}"
major="${major%%.*}"
if [ "$major" -lt "$need_node_major" ]; then
  echo "tgpulse: Node.js ${need_node_major}+ is required, found $(node --version)" >&2
  exit 1
fi

stamp="$root/node_modules/.tgpulse-installed"
if [ ! -f "$stamp" ] || [ "$root/package.json" -nt "$stamp" ]; then
  echo "tgpulse: installing npm packages (first run)..." >&2
  # npm ci rejects lockfiles here (platform-only optional packages), so use install.
  (cd "$root" && npm install --no-audit --no-fund --loglevel=error >&2)
  touch "$stamp"
fi

# OS packages are collected first, so that apt-get update runs once.
apt_missing=()
have_nats() {
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/local/sbin/nats-server ]
}
if ! have_nats && [ "${TGPULSE_SKIP_NATS_INSTALL:-}" != "1" ]; then
  apt_missing+=(nats-server)
fi
# PNG charts are drawn with DejaVu Sans; without a font their text silently disappears.
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ "${TGPULSE_SKIP_FONTS_INSTALL:-}" != "1" ]; then
  apt_missing+=(fonts-dejavu-core)
fi
# The local warehouse server is a small C launcher around chDB's engine.
if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1 && [ "${TGPULSE_SKIP_GCC_INSTALL:-}" != "1" ]; then
  apt_missing+=(gcc libc6-dev)
fi
# The tests check the alert rules with promtool and scrape a running tgpulse with prometheus;
# tgpulse itself never runs it, so only the test command (scripts/test.sh) asks for it.
have_prometheus() {
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
}
if [ "${TGPULSE_BOOTSTRAP_TESTS:-}" = "1" ] && ! have_prometheus && [ "${TGPULSE_SKIP_PROMETHEUS_INSTALL:-}" != "1" ]; then
  apt_missing+=(prometheus)
fi
# The Postgres outage test (test/faults/postgres-outage.test.ts) runs a private Postgres server
# (initdb and postgres from /usr/lib/postgresql/*/bin) that it stops and starts; never the machine's.
have_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1
}
if [ "${TGPULSE_BOOTSTRAP_TESTS:-}" = "1" ] && ! have_postgres && [ "${TGPULSE_SKIP_POSTGRES_INSTALL:-}" != "1" ]; then
  apt_missing+=(postgresql)
fi
# The web app's tests (test/web.browser.test.ts) and bench:web drive Debian's chromium through
# playwright-core, which downloads no browser of its own.
if [ "${TGPULSE_BOOTSTRAP_TESTS:-}" = "1" ] && [ ! -x /usr/bin/chromium ] && [ "${TGPULSE_SKIP_CHROMIUM_INSTALL:-}" != "1" ]; then
  apt_missing+=(chromium)
fi
# Debian's prometheus and postgresql start their own service (a server on :9090, a cluster on :5432)
# where services may start: under systemd, or sysvinit without a policy-rc.d that forbids it. tgpulse
# needs only the binaries (each test runs a server of its own on a free port), so the service just
# installed is stopped and kept from starting at boot. $1 is the command prefix that runs as root
# ("" or "sudo -n"), $2 the service.
quiet_packaged_service() {
  local as_root="$1" service="$2" again
  if [ -d /run/systemd/system ]; then
    $as_root systemctl disable --now "$service.service" >/dev/null 2>&1 || true
    again="sudo systemctl enable --now $service"
  elif [ -x "/etc/init.d/$service" ]; then
    $as_root "/etc/init.d/$service" stop >/dev/null 2>&1 || true
    $as_root update-rc.d "$service" disable >/dev/null 2>&1 || true
    again="sudo update-rc.d $service enable && sudo service $service start"
  else
    return 0
  fi
  echo "tgpulse: disabled the service of the $service package (tests run their own $service); to run it: $again" >&2
}
# $1 as for quiet_packaged_service: quiets what this run installed.
quiet_installed_services() {
  local service
  for service in prometheus postgresql; do
    if [[ " ${apt_missing[*]} " == *" $service "* ]]; then quiet_packaged_service "$1" "$service"; fi
  done
}
if [ "${#apt_missing[@]}" -gt 0 ]; then
  # No recommends: prometheus's would add prometheus-node-exporter, another daemon; postgresql's
  # would add sysstat; gcc's only recommend, libc6-dev, is listed explicitly; headless chromium
  # needs none of its desktop recommends (its text falls back to DejaVu, which this script installs).
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "tgpulse: installing ${apt_missing[*]} with apt-get..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}") >&2
    quiet_installed_services ""
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "tgpulse: installing ${apt_missing[*]} with sudo apt-get..." >&2
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}") >&2
    quiet_installed_services "sudo -n"
  else
    for package in "${apt_missing[@]}"; do
      case "$package" in
        nats-server)
          echo "tgpulse: nats-server is missing. Install it with: sudo apt-get install nats-server" >&2
          echo "          (or set TGPULSE_NATS_URL to a running nats-server with JetStream)" >&2
          ;;
        gcc)
          echo "tgpulse: gcc is missing (it builds the local warehouse server). Install it with: sudo apt-get install gcc libc6-dev" >&2
          ;;
        fonts-dejavu-core)
          echo "tgpulse: fonts-dejavu-core is missing (PNG charts need it). Install it with: sudo apt-get install fonts-dejavu-core" >&2
          ;;
        prometheus)
          echo "tgpulse: prometheus is missing (the tests check infra/prometheus/ with it). Install it with: sudo apt-get install --no-install-recommends prometheus" >&2
          ;;
        postgresql)
          echo "tgpulse: initdb/postgres are missing (the Postgres outage test runs a private server). Install them with: sudo apt-get install --no-install-recommends postgresql" >&2
          echo "          (then stop the cluster it starts if you do not want it: sudo service postgresql stop)" >&2
          ;;
        chromium)
          echo "tgpulse: /usr/bin/chromium is missing (the web app's tests run in it). Install it with: sudo apt-get install --no-install-recommends chromium" >&2
          ;;
      esac
    done
  fi
fi

# Only the local warehouse needs it: a deployment on a ClickHouse server
# (TGPULSE_WAREHOUSE=server) runs without, so a failed build only warns here.
# build-warehouse.sh starts node to find libchdb.so (~100 ms), so it runs only
# when something it depends on changed since it last succeeded: its source, the
# script, or the npm packages (npm rewrites node_modules/.package-lock.json).
checked="$root/node_modules/.tgpulse/warehouse-checked"
if [ ! -f "$checked" ] || [ ! -x "$root/node_modules/.tgpulse/tgpulse-warehouse" ] ||
  [ "$root/clickhouse/local-server/launcher.c" -nt "$checked" ] ||
  [ "$root/scripts/build-warehouse.sh" -nt "$checked" ] ||
  [ "$root/node_modules/.package-lock.json" -nt "$checked" ]; then
  if "$root/scripts/build-warehouse.sh"; then
    touch "$checked"
  else
    echo "tgpulse: the local warehouse server could not be built (see above); it is needed unless TGPULSE_WAREHOUSE=server" >&2
  fi
fi

# The compiled CLI. Without it (no write access, no TypeScript compiler) tgpulse
# still runs, from the sources through tsx, only slower to start.
runner=dist
if ! "$root/scripts/build.sh" --if-stale; then
  echo "tgpulse: could not build dist/ (see above); running the TypeScript sources through tsx instead (slower start)" >&2
  runner=tsx
fi
# The web app the API serves at `/` (dist-web/). Everything else works without it,
# and `/` then says how to build it, so a failed build only warns.
if ! "$root/scripts/build-web.sh" --if-stale; then
  echo "tgpulse: could not build the web app in dist-web/ (see above); the API serves it at / once scripts/build-web.sh succeeds" >&2
fi
if $print_runner; then echo "$runner" >&3; fi
