#!/usr/bin/env bash
# One command for the side-by-side benchmark: builds both sides, makes the mainnet-shaped
# fixtures with go-f3's harness and frc0108's generator (under target/bench, never committed),
# runs the criterion benchmarks, then times frc0108 against go-f3 and blake2b-256 on the same
# files and writes benches/RESULTS.md and benches/throughput.svg. The largest default size,
# 950,000 instances, makes a file over 1 GiB (the memory target's size); it takes about 15
# minutes in all.
#   SCALE="25000 100000 950000" RUNS=3 CRITERION=1 ./scripts/bench.sh
# The crypto level at mainnet's shape alone (prints its table, leaves RESULTS.md alone):
#   ONLY=crypto RUNS=3 ./scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin frc0108 --example hash_floor
./interop/go-f3/build.sh
mkdir -p target/bench

# Signed mainnet-shaped files for the crypto level: 10% churn (as among mainnet's first ten
# certificates) and 80%, and one certificate for the start-up; then the real mainnet 0-9.
network=frc0108-vectors
crypto_file() { # churn instances
  local f="target/bench/mainnet-shape-churn$1-$2.f3"
  [ -s "$f" ] || target/release/frc0108 synth --shape mainnet --churn-percent "$1" --instances "$2" \
    --sign-for "$network" --out "$f" 2>/dev/null
  echo "$f"
}
crypto=("$(crypto_file 10 1)")
for churn in 10 80; do crypto+=("$(crypto_file "$churn" "${CRYPTO_INSTANCES:-200}")"); done
[ -s vectors/go-f3/mainnet-0-9.f3 ] && crypto+=(vectors/go-f3/mainnet-0-9.f3)

if [ "${ONLY:-}" = crypto ]; then
  if [ "${CRITERION:-1}" = 1 ]; then
    cargo bench --quiet --bench crypto -- --noplot 2>&1 | grep -E "^[a-z0-9-]+/|time:" || true
  fi
  python3 benches/compare.py --runs "${RUNS:-3}" --crypto-only "${crypto[@]}"
  exit
fi

inputs=(vectors/go-f3/checkpoint.f3 vectors/go-f3/large.f3)
for n in ${SCALE:-25000 100000 950000}; do
  f="target/bench/scale-$((n / 1000))k.f3"
  [ -s "$f" ] || target/f3harness gen-scale --out "$f" --instances "$n" >/dev/null
  inputs+=("$f")
done
if [ "${CRITERION:-1}" = 1 ]; then
  cargo bench --quiet --bench snapshot --bench crypto -- --noplot 2>&1 | grep -E "^[a-z0-9-]+/|time:" || true
fi
python3 benches/compare.py --runs "${RUNS:-3}" "${inputs[@]}" --crypto "${crypto[@]}"
