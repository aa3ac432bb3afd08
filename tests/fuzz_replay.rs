//! Replays, without a fuzzer, every past crash (`fuzz/regressions/TARGET/*`), the campaign's
//! minimized corpus (`fuzz/corpus-min/TARGET/*`) and every seed (the files under `vectors/` and
//! their blocks) through every fuzz target's function.

use std::path::PathBuf;

use frc0108::fuzzing::{blocks, run, TARGETS};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs every file under `dir/TARGET/` through TARGET; returns how many.
fn replay_each_target(dir: &str) -> usize {
    let mut n = 0;
    for t in TARGETS {
        for p in frc0108::fuzzing::seed_files(&root().join(dir).join(t)) {
            assert!(run(t, &std::fs::read(&p).unwrap()), "unknown target {t}");
            n += 1;
        }
    }
    n
}

#[test]
fn every_regression_replays_cleanly() {
    let n = replay_each_target("fuzz/regressions");
    eprintln!("replayed {n} regressions");
}

/// The corpus `cargo fuzz cmin` kept after the long campaign: every input that reached new
/// coverage, run through its own target.
#[test]
fn the_minimized_corpus_replays_cleanly() {
    let n = replay_each_target("fuzz/corpus-min");
    eprintln!("replayed {n} minimized inputs");
    assert!(n > 0, "fuzz/corpus-min is empty");
}

#[test]
fn every_seed_runs_through_every_target() {
    let inputs = frc0108::fuzzing::seed_files(&root().join("vectors"));
    let mut runs = 0;
    for p in &inputs {
        let data = std::fs::read(p).unwrap();
        if data.len() > 1 << 20 {
            continue;
        }
        for t in TARGETS {
            assert!(run(t, &data));
            runs += 1;
        }
        for (kind, block) in blocks(&data) {
            assert!(run(kind, &block));
            runs += 1;
            if kind == "certificate" {
                assert!(run("certificate_view", &block));
                runs += 1;
            }
        }
    }
    eprintln!("{runs} runs over {} seed files", inputs.len());
}

/// The structure-aware target with no mutation must build a valid snapshot, and with
/// mutations must not panic, for a spread of seeds.
#[test]
fn structured_target_spread() {
    let mut rng = frc0108::synth::Rng::new(42);
    for _ in 0..300 {
        let len = 64 + rng.below(200) as usize;
        let data = rng.bytes(len);
        run("structured", &data);
    }
    run("structured", &[0u8; 32]);
}
