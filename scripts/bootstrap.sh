#!/usr/bin/env bash
# Installs what tgpulse needs on this machine, once: npm packages (when
# node_modules is missing or older than package.json), and nats-server and
# fonts-dejavu-core from the OS package manager when they are missing. Says
# exactly what to install when it cannot do it itself. Then builds the local
# warehouse launcher (scripts/build-warehouse.sh), which needs gcc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_node_major=20
if ! command -v node >/dev/null 2>&1; then
  echo "tgpulse: Node.js ${need_node_major}+ is required: install it (e.g. apt-get install nodejs npm, or from nodejs.org)" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
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
if [ "${#apt_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "tgpulse: installing ${apt_missing[*]} with apt-get..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}") >&2
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "tgpulse: installing ${apt_missing[*]} with sudo apt-get..." >&2
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}") >&2
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
      esac
    done
  fi
fi

# Only the local warehouse needs it: a deployment on a ClickHouse server
# (TGPULSE_WAREHOUSE=server) runs without, so a failed build only warns here.
"$root/scripts/build-warehouse.sh" || echo "tgpulse: the local warehouse server could not be built (see above); it is needed unless TGPULSE_WAREHOUSE=server" >&2
