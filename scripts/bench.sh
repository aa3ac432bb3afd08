#!/usr/bin/env bash
# One command for the side-by-side benchmark: builds both sides, makes the mainnet-shaped
# fixtures with go-f3's harness (under target/bench, never committed), runs the criterion
# benchmarks, then times frc0108 against go-f3 and blake2b-256 on the same files and writes
# benches/RESULTS.md and benches/throughput.svg. The largest default size, 950,000 instances,
# makes a file over 1 GiB (the memory target's size); it takes about 15 minutes in all.
#   SCALE="25000 100000 950000" RUNS=3 CRITERION=1 ./scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin frc0108 --example hash_floor
./interop/go-f3/build.sh
mkdir -p target/bench
inputs=(vectors/go-f3/checkpoint.f3 vectors/go-f3/large.f3)
for n in ${SCALE:-25000 100000 950000}; do
  f="target/bench/scale-$((n / 1000))k.f3"
  [ -s "$f" ] || target/f3harness gen-scale --out "$f" --instances "$n" >/dev/null
  inputs+=("$f")
done
if [ "${CRITERION:-1}" = 1 ]; then
  cargo bench --quiet --bench snapshot --bench crypto -- --noplot 2>&1 | grep -E "^[a-z0-9-]+/|time:|thrpt:" || true
fi
python3 benches/compare.py --runs "${RUNS:-3}" "${inputs[@]}"
