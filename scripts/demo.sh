#!/usr/bin/env bash
# The main job: `pulumi up` of the root program (Pulumi.yaml, index.ts) against the built-in lab host.
#
#   bash scripts/demo.sh            bootstrap, start (or reuse) the lab "demo", preview, then up
#   bash scripts/demo.sh destroy    tear the stack down again (the VM dataset is kept: it is marked as data)
#   bash scripts/demo.sh refresh    compare the state with the lab host
#
# The lab keeps running afterwards: `node dist/tests/lab/cli.js ssh --name demo` opens a shell on it, and
# `node dist/tests/lab/cli.js down --name demo` stops it. State lives in .enjailed/ (git-ignored).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
bash scripts/bootstrap.sh

node dist/tests/lab/cli.js up --name demo >&2
labjson="${ENJAILED_CACHE:-$HOME/.cache/enjailed}/labs/demo/lab.json"
config=$(node -e '
  const l = require(process.argv[1]);
  const c = { "enjailed:host": l.host, "enjailed:port": String(l.port), "enjailed:user": l.user,
              "enjailed:hostKey": l.hostKey, "enjailed:become": l.become, "enjailed:sshKeyFile": l.privateKeyFile };
  console.log(JSON.stringify(c));' "$labjson")

stack() { node dist/scripts/stack.js "$1" --program . --stack lab --config-json "$config"; }
case "${1:-up}" in
  up)      stack preview; stack up ;;
  destroy) stack destroy ;;
  refresh) stack refresh ;;
  preview) stack preview ;;
  *) echo "usage: demo.sh [up|preview|refresh|destroy]" >&2; exit 2 ;;
esac
