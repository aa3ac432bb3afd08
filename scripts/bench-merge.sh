#!/usr/bin/env bash
# The merge benchmark (README.md, "merge"): a synthetic v1 chain of SIZE_MIB MiB (default 1100,
# over 1 GiB) joined with a go-f3 F3 fixture into a plain and a zstd v2 snapshot, each timed
# with /usr/bin/time -v: wall time and peak resident memory. The chain is generated once under
# target/bench-merge (never committed); the outputs are checked (extract gives the chain back).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${SIZE_MIB:-1100}"
F3="${F3:-vectors/go-f3/checkpoint.f3}"
DIR=target/bench-merge
mkdir -p "$DIR"
cargo build --release --quiet --bin frc0108 --example synth_chain
CHAIN="$DIR/chain-$SIZE_MIB.car"
[ -f "$CHAIN" ] || target/release/examples/synth_chain "$CHAIN" "$SIZE_MIB"
echo "chain: $CHAIN, $(stat -c %s "$CHAIN") bytes; F3 data: $F3, $(stat -c %s "$F3") bytes"

measure() {
  local name="$1"; shift
  /usr/bin/time -v "$@" 2>"$DIR/$name.time" >/dev/null || { cat "$DIR/$name.time"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$DIR/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$DIR/$name.time" | awk '{print $NF}')
  printf "%-22s wall %9s  peak RSS %6.1f MiB\n" "$name" "$wall" "$(echo "$rss / 1024" | bc -l)"
}

for out in merged.car merged.car.zst; do
  measure "merge -> $out" target/release/frc0108 merge --v1 "$CHAIN" --f3 "$F3" \
    --out "$DIR/$out" --force --level chain
  echo "  output $(stat -c %s "$DIR/$out") bytes"
done
measure "extract (zst)" target/release/frc0108 extract "$DIR/merged.car.zst" \
  --f3 "$DIR/back.f3" --v1 "$DIR/back.car" --force
cmp "$DIR/back.car" "$CHAIN" && cmp "$DIR/back.f3" "$F3" && echo "extract gives both inputs back"
rm -f "$DIR/back.car" "$DIR/back.f3"
