#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) with tight memory limits, starting from
# seeds made from vectors/. Any crash fails the run and leaves its input in fuzz/artifacts/.
# A long campaign: FUZZ_SECONDS=1800 ./scripts/fuzz-smoke.sh (or one target, see README).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
# Inputs up to 128 KiB: enough for every rule (the structure-aware target builds whole
# snapshots), and it keeps libFuzzer's in-memory corpus well under the RSS limit.
max_len="${FUZZ_MAX_LEN:-131072}"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo run --quiet --features fuzzing --example fuzz_seeds -- fuzz/corpus
(cd fuzz && cargo fuzz build -O)
targets=$(cargo run --quiet --features fuzzing --example fuzz_seeds -- --list 2>/dev/null || true)
[ -n "$targets" ] || targets="f3data_stream certificate header car_snapshot check round_trip structured certificate_view"
mkdir -p target/fuzz-logs
for t in $targets; do
  echo "== fuzz $t for ${seconds}s"
  log="target/fuzz-logs/$t.log"
  status=0
  (cd fuzz && cargo fuzz run -O "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=512 -malloc_limit_mb=64 \
      -dict=cbor.dict -print_final_stats=1) >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)|^#[0-9]+.*DONE|cov:" "$log" | tail -4 || true
  if [ "$status" != 0 ]; then
    tail -40 "$log"
    echo "fuzz target $t failed (exit $status); the input is in fuzz/artifacts/$t/"
    exit 1
  fi
done
