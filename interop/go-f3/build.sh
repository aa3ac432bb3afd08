#!/usr/bin/env bash
# Build, test or regenerate with the go-f3 harness.
#
#   ./build.sh               build the binary to ../../target/f3harness
#   ./build.sh test [ARGS]   go test ./... (ARGS go to go test, e.g. -short)
#   ./build.sh gen           regenerate ../../vectors/go-f3
#
# Needs only Go and the Go module proxy: go.mod and go.sum pin every module,
# so nothing is resolved from version lists.
set -euo pipefail
cd "$(dirname "$0")"

export GOTOOLCHAIN=local
export GOFLAGS="-mod=readonly -buildvcs=false"
# Every module is pinned by go.sum; the checksum database is not needed and
# is not always reachable.
export GOSUMDB=off
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"

out="${F3HARNESS_BIN:-../../target/f3harness}"

build() {
	mkdir -p "$(dirname "$out")"
	go build -trimpath -o "$out" .
	echo "built $out" >&2
}

case "${1:-build}" in
build)
	build
	;;
test)
	shift
	go test -timeout 30m "$@" ./...
	;;
gen)
	build
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	"$out" gen --out "$tmp/go-f3"
	rm -rf ../../vectors/go-f3
	mkdir -p ../../vectors
	mv "$tmp/go-f3" ../../vectors/go-f3
	;;
*)
	echo "usage: $0 [build|test [go test args]|gen]" >&2
	exit 2
	;;
esac
