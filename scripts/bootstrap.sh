#!/usr/bin/env bash
# Installs what a fresh machine lacks for enjailed's demo and tests, and nothing that is already there:
#   Debian packages  openssh-server (the lab's sshd), doas and sudo (the lab's privilege boundary)
#   npm packages     `npm ci` when node_modules is missing or older than package-lock.json
#   the engine       scripts/engine.sh (Pulumi CLI from Go modules; cached outside the repo)
#   the build        tsc into dist/
# Sourced or run; progress goes to stderr. Needs root only when Debian packages are missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

say() { echo "bootstrap: $*" >&2; }

missing=()
for pkg in openssh-server doas sudo; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})"; exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # The lab runs its own sshd; the machine's own must not start on port 22 because of this install.
  systemctl disable --now ssh >/dev/null 2>&1 || true
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund >&2
fi

bin=$(bash scripts/engine.sh)
say "engine: $bin"

say "tsc"
npx tsc -p tsconfig.json >&2
