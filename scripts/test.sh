#!/usr/bin/env bash
# The project's one test command (README.md, "Run every test"). CI runs exactly this.
#
# Every Rust build here uses the `ci` profile (release, with overflow checks and debug
# assertions), so the dependencies are compiled once for the tests, the corpus runs and the
# differential. The builds come first (the go-f3 harness builds alongside them); then the Rust
# tests, the Go tests and the fuzz smoke run side by side, each into its own log. Each stage
# prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target
P=(--profile ci)
t0=$SECONDS
stage_start=$SECONDS
stage() {
  [ -n "${stage_name:-}" ] && echo "   (${stage_name}: $((SECONDS - stage_start)) s)"
  stage_name="$1"
  stage_start=$SECONDS
  [ -n "$1" ] && echo "== $1"
  return 0
}
# Waits for background job $1 (logging to $2): prints its log and when it ended, fails if it
# failed.
finish() {
  local status=0
  wait "$1" || status=$?
  cat "$2"
  echo "   ($2 done at $((SECONDS - t0)) s)"
  [ "$status" = 0 ] || { echo "== FAILED: $2 (exit $status)"; exit 1; }
}

go=0
if [ -f interop/go-f3/go.mod ]; then
  go=1
  # Module downloads and the Go build overlap the Rust builds.
  ./interop/go-f3/build.sh >target/go-build.log 2>&1 &
  go_build=$!
fi
python3 -c "import jsonschema" 2>/dev/null || python3 -m pip install --quiet jsonschema

stage "format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --all-features --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --all-features

stage "the library alone: codec and validation, none of the tools' dependencies"
cargo check --quiet --no-default-features --lib
if cargo tree -e normal --no-default-features --prefix none | grep -E "^(clap|indicatif|arbitrary|serde_json) "; then
  echo "the library without default features depends on the crates above"; exit 1
fi
cargo publish --dry-run --no-verify --allow-dirty --quiet 2>target/publish.log || { cat target/publish.log; exit 1; }

stage "builds: tests, examples, fuzz targets"
cargo test --quiet "${P[@]}" --all-features --all-targets --no-run
cargo build --quiet "${P[@]}" --features fuzzing --examples
./scripts/fuzz-smoke.sh build

stage "Rust tests (with the go-f3 harness: the cross-checks and the compatibility matrix), Go tests and the fuzz smoke (${FUZZ_SECONDS:-20} s a target), side by side"
./scripts/fuzz-smoke.sh run >target/fuzz-smoke.log 2>&1 &
fuzz=$!
ignored=()
if [ "$go" = 1 ]; then
  finish "$go_build" target/go-build.log
  ./interop/go-f3/build.sh test >target/go-tests.log 2>&1 &
  go_tests=$!
  export FRC0108_F3HARNESS="$PWD/target/f3harness"
  ignored=(-- --include-ignored)
fi
{
  cargo test --quiet "${P[@]}" --all-features --all-targets "${ignored[@]}" &&
    cargo test --quiet "${P[@]}" --all-features --doc
} >target/rust-tests.log 2>&1 &
rust=$!
finish "$rust" target/rust-tests.log
[ "$go" = 1 ] && finish "$go_tests" target/go-tests.log
finish "$fuzz" target/fuzz-smoke.log

if [ "$go" = 1 ]; then
  stage "differential against go-f3 (structure-aware cases, a fixed seed; any finding fails)"
  cargo run --quiet "${P[@]}" --features fuzzing --example differential -- 500 1 | tail -1
  stage "differential against go-f3 at the crypto level (signed chains changed at the signature level, a fixed seed)"
  cargo run --quiet "${P[@]}" --features fuzzing --example differential -- 200 1 --level crypto | tail -2
fi
stage ""
echo "== all passed in $((SECONDS - t0)) s"
