#!/usr/bin/env bash
# The project's one test command (README.md, "Run every test"). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --all-features --quiet -- -D warnings

echo "== the library alone: codec and validation, none of the tools' dependencies"
cargo build --quiet --no-default-features --lib
if cargo tree -e normal --no-default-features --prefix none | grep -E "^(clap|indicatif|arbitrary|serde_json) "; then
  echo "the library without default features depends on the crates above"; exit 1
fi
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --all-features
cargo publish --dry-run --allow-dirty --quiet 2>target/publish.log || { cat target/publish.log; exit 1; }

python3 -c "import jsonschema" 2>/dev/null || python3 -m pip install --quiet jsonschema

echo "== Rust tests"
cargo test --all-features --all-targets --quiet 2>&1 | tee target/rust-tests.log
grep -q "test result: ok" target/rust-tests.log

if [ -f interop/go-f3/go.mod ]; then
  echo "== go-f3 harness: build and Go tests"
  ./interop/go-f3/build.sh
  ./interop/go-f3/build.sh test 2>&1 | tee target/go-tests.log
  echo "== Rust against go-f3"
  FRC0108_F3HARNESS="$PWD/target/f3harness" cargo test --all-features --quiet --test interop --test vectors --test assemble --test merge --test quorum -- --include-ignored 2>&1 | tee target/interop-tests.log
  echo "== the corpus through go-f3 (divergences expected; the matrix above must be current)"
  cargo run --quiet --release -- vectors run --adapter "$PWD/target/f3harness import {}" --junit target/go-f3-import.xml | tail -1 || true
  echo "== differential against go-f3 (structure-aware cases, a fixed seed; any finding fails)"
  cargo run --quiet --release --features fuzzing --example differential -- 500 1 | tail -1
  echo "== differential against go-f3 at the crypto level (signed chains changed at the signature level, a fixed seed)"
  cargo run --quiet --release --features fuzzing --example differential -- 200 1 --level crypto | tail -2
fi

echo "== fuzz smoke (every target, ${FUZZ_SECONDS:-45}s each, tight memory limits)"
FUZZ_SECONDS="${FUZZ_SECONDS:-45}" ./scripts/fuzz-smoke.sh
