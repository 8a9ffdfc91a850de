#!/bin/sh
# Builds the lab's FreeBSD command simulator (one static binary) and prints its absolute path.
# The binary is cached under ${ENJAILED_CACHE:-$HOME/.cache/enjailed}/lab-sim/<sha256 of the sources>/,
# so an unchanged simulator is never rebuilt. Only the path goes to stdout; build noise goes to stderr.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${ENJAILED_CACHE:-${HOME:-/root}/.cache/enjailed}
go=${GO:-go}
command -v "$go" >/dev/null 2>&1 || go=/usr/local/go/bin/go

cd "$here"
hash=$(find . -type f \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -path './skel/*' \) -print \
	| LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
out="$cache/lab-sim/$hash/freebsd-sim"

if [ ! -x "$out" ]; then
	mkdir -p "$(dirname "$out")"
	tmp="$out.tmp.$$"
	GOTOOLCHAIN=local CGO_ENABLED=0 "$go" build -trimpath -o "$tmp" . >&2
	mv -f "$tmp" "$out"
fi
printf '%s\n' "$out"
