#!/usr/bin/env bash
# The project's one test command (README.md, "Run every test"). CI runs exactly this.
#
# Every Rust build here uses the `ci` profile (release, with overflow checks and debug
# assertions), so the dependencies are compiled once for the tests, the corpus runs and the
# differential; the go-f3 harness builds on the side meanwhile. Each stage prints its time.
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
cargo build --quiet "${P[@]}" --no-default-features --lib
if cargo tree -e normal --no-default-features --prefix none | grep -E "^(clap|indicatif|arbitrary|serde_json) "; then
  echo "the library without default features depends on the crates above"; exit 1
fi
cargo publish --dry-run --no-verify --allow-dirty --quiet 2>target/publish.log || { cat target/publish.log; exit 1; }

stage "Rust tests (with the go-f3 harness: the cross-checks and the compatibility matrix too)"
cargo test --quiet "${P[@]}" --all-features --all-targets --no-run
ignored=()
if [ "$go" = 1 ]; then
  wait "$go_build" || { cat target/go-build.log; exit 1; }
  export FRC0108_F3HARNESS="$PWD/target/f3harness"
  ignored=(-- --include-ignored)
fi
cargo test --quiet "${P[@]}" --all-features --all-targets "${ignored[@]}" 2>&1 | tee target/rust-tests.log
cargo test --quiet "${P[@]}" --all-features --doc 2>&1 | tee -a target/rust-tests.log
grep -q "test result: ok" target/rust-tests.log

if [ "$go" = 1 ]; then
  stage "go-f3 harness: Go tests"
  ./interop/go-f3/build.sh test 2>&1 | tee target/go-tests.log
  stage "differential against go-f3 (structure-aware cases, a fixed seed; any finding fails)"
  cargo run --quiet "${P[@]}" --features fuzzing --example differential -- 500 1 | tail -1
  stage "differential against go-f3 at the crypto level (signed chains changed at the signature level, a fixed seed)"
  cargo run --quiet "${P[@]}" --features fuzzing --example differential -- 200 1 --level crypto | tail -2
fi

stage "fuzz smoke (every target, ${FUZZ_SECONDS:-20} s each, tight memory limits)"
./scripts/fuzz-smoke.sh
stage ""
echo "== all passed in $((SECONDS - t0)) s"
