#!/usr/bin/env bash
# Installs what tgpulse needs on this machine, once: npm packages (when
# node_modules is missing or older than package.json) and nats-server from the
# OS package manager when it is missing. Says exactly what to install when it
# cannot do it itself.
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

have_nats() {
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/local/sbin/nats-server ]
}
if ! have_nats && [ "${TGPULSE_SKIP_NATS_INSTALL:-}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "tgpulse: installing nats-server with apt-get..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server) >&2
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "tgpulse: installing nats-server with sudo apt-get..." >&2
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server) >&2
  else
    echo "tgpulse: nats-server is missing. Install it with: sudo apt-get install nats-server" >&2
    echo "          (or set TGPULSE_NATS_URL to a running nats-server with JetStream)" >&2
  fi
fi
