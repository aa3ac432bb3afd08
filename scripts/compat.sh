#!/usr/bin/env bash
# Regenerates vectors/COMPATIBILITY.md: go-f3's import (with Lotus's CAR handling) and go-f3's
# certificate validation, each run over every case of the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-vectors/COMPATIBILITY.md}"
[ -x target/f3harness ] || ./interop/go-f3/build.sh
cargo run --quiet --profile ci --all-features -- vectors compat --dir vectors \
  --adapter "go-f3 import=$PWD/target/f3harness import {}" \
  --adapter "go-f3 validate=$PWD/target/f3harness validate {} --network {network}" \
  --out "$out"
