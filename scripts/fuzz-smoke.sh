#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 20) with tight memory limits, starting from
# seeds made from vectors/ and fuzz/regressions/, and from the long campaign's minimized corpus
# (fuzz/corpus-min/). Any crash fails the run and leaves its input
# in fuzz/artifacts/TARGET/.   ./scripts/fuzz-smoke.sh [build|run]   (default: both)
#
# The targets are built as cargo-fuzz builds them (libFuzzer's coverage instrumentation and
# `--cfg fuzzing`) but straight with cargo, in the fuzz crate's `smoke` profile (optimised
# less, to build quickly, with overflow checks and debug assertions) and without
# AddressSanitizer: the library forbids unsafe code, so the smoke run needs no nightly flag and
# no cargo-fuzz install. A long campaign uses cargo-fuzz with its sanitizer (README, Fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
seconds="${FUZZ_SECONDS:-20}"
# Inputs up to 128 KiB: enough for every rule (the structure-aware target builds whole
# snapshots), and it keeps libFuzzer's in-memory corpus well under the RSS limit.
max_len="${FUZZ_MAX_LEN:-131072}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin="fuzz/target/$triple/smoke"

if [ "$what" != run ]; then
  RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares" \
    cargo build --quiet --profile smoke --manifest-path fuzz/Cargo.toml --target "$triple" --bins
fi
[ "$what" = build ] && exit 0

cargo run --quiet --profile ci --features fuzzing --example fuzz_seeds -- fuzz/corpus
targets=$(cargo run --quiet --profile ci --features fuzzing --example fuzz_seeds -- --list)
mkdir -p target/fuzz-logs
for t in $targets; do
  echo "== fuzz $t for ${seconds}s"
  # Start from the long campaign's minimized corpus too, where one is committed.
  if [ -d "fuzz/corpus-min/$t" ]; then
    mkdir -p "fuzz/corpus/$t" && cp -n fuzz/corpus-min/"$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
  fi
  log="target/fuzz-logs/$t.log"
  mkdir -p "fuzz/artifacts/$t"
  status=0
  "$bin/$t" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t/" \
      -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=512 -malloc_limit_mb=64 \
      -dict=fuzz/cbor.dict -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)|^#[0-9]+.*DONE|cov:" "$log" | tail -4 || true
  if [ "$status" != 0 ]; then
    tail -40 "$log"
    echo "fuzz target $t failed (exit $status); the input is in fuzz/artifacts/$t/"
    exit 1
  fi
done
