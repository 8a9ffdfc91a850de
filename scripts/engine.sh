#!/usr/bin/env bash
# Yields a bin directory with a working Pulumi engine for enjailed, built from registry packages only.
#
#   scripts/engine.sh            build (or reuse) the engine; prints the bin directory on stdout
#   scripts/engine.sh --check    print the bin directory if a fitting engine exists, else exit 1
#
# What ends up in the bin directory:
#   pulumi                           the CLI, built from the Go module github.com/pulumi/pulumi/pkg/v3
#   pulumi-resource-pulumi-nodejs    the dynamic-provider launcher shipped inside npm @pulumi/pulumi
#
# The version is the one of the installed npm @pulumi/pulumi, so CLI and SDK always match.
# Order of preference: a `pulumi` on PATH with that exact version; the cache in
# $ENJAILED_CACHE (default ~/.cache/enjailed) keyed by version; a fresh Go build into that cache.
# Progress goes to stderr; the only stdout line is the bin directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sdk_pkg="$here/node_modules/@pulumi/pulumi/package.json"
if [ ! -f "$sdk_pkg" ]; then
  echo "engine: node_modules/@pulumi/pulumi is missing; run 'npm ci' first" >&2
  exit 1
fi
version=$(node -p "require('$sdk_pkg').version")
cache=${ENJAILED_CACHE:-$HOME/.cache/enjailed}
out="$cache/pulumi-v$version"
launcher="$here/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"

fits() { # $1 = a pulumi binary; true when it prints exactly v$version
  [ -x "$1" ] && [ "$("$1" version 2>/dev/null)" = "v$version" ]
}

finish() { # $1 = bin dir holding a fitting pulumi; add the launcher next to it
  install -m 755 "$launcher" "$1/pulumi-resource-pulumi-nodejs"
  echo "$1"
}

# 1. A pulumi already on PATH, when it is the same version as the SDK.
if on_path=$(command -v pulumi 2>/dev/null) && fits "$on_path"; then
  dir="$cache/path-v$version/bin"; mkdir -p "$dir"
  ln -sf "$on_path" "$dir/pulumi"
  finish "$dir"; exit 0
fi

# 2. The warm cache.
if fits "$out/bin/pulumi"; then
  finish "$out/bin"; exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "engine: no Pulumi CLI v$version found (PATH or $out/bin); build it with scripts/engine.sh" >&2
  exit 1
fi

# 3. Build from the Go module proxy. GOTOOLCHAIN=local makes a too-new go directive fail loudly.
# The Go toolchain of these machines lives in /usr/local/go, which a non-login shell may not have on PATH.
command -v go >/dev/null || PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "engine: the Go toolchain is needed to build the Pulumi CLI" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS=-mod=mod
mkdir -p "$out/src" "$out/bin"
cd "$out/src"
start=$(date +%s)
echo "engine: building the Pulumi CLI v$version from Go modules into $out (first build only)" >&2
cat > go.mod <<GOMOD
module enjailed-pulumi-build

go 1.25

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
GOMOD
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the Pulumi CLI's main package so `go mod tidy` keeps its requirements.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
go get "github.com/pulumi/pulumi/pkg/v3@v$version" "github.com/pulumi/pulumi/sdk/v3@v$version" >&2
go mod tidy >&2
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
go build -trimpath -tags osusergo,grpcnotrace -ldflags "$ldflags" -o "$out/bin/pulumi.tmp" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
mv "$out/bin/pulumi.tmp" "$out/bin/pulumi"
fits "$out/bin/pulumi" || { echo "engine: the built CLI does not report v$version" >&2; exit 1; }
echo "engine: built in $(( $(date +%s) - start ))s" >&2
finish "$out/bin"
