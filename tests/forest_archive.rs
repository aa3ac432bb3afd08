//! A real Forest archive: Forest's `test-snapshots/chain4.forest.car.zst` (mainnet's genesis
//! and heights 1 to 3, see tests/data/README.md). The index the recipe in `support/forest.rs`
//! builds from its frames is its index byte for byte, and `merge` takes it.

#[path = "support/forest.rs"]
mod forest;

use std::path::PathBuf;

use frc0108::merge::{merge, ConsistencyCheck, F3Input, NoChainCheck};
use frc0108::report::analyze;
use frc0108::validate::{Level, Options};

/// The archive's index is rebuilt byte for byte from its frames, and `merge` takes it.
#[test]
fn real_forest_archive() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/chain4.forest.car.zst");
    let archive = std::fs::read(path).unwrap();
    let frames = forest::frames(&archive);
    let (index_at, index_len, _) = frames[frames.len() - 2];
    let data = forest::index_data(&forest::entries_of(&archive));
    assert_eq!(index_len, data.len() + 8);
    assert!(archive[index_at + 8..index_at + index_len] == data[..]);
    let footer = &archive[archive.len() - 8..];
    assert_eq!(footer, &((index_at + 8) as u64).to_le_bytes());
    let f3 =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3/churn.f3"))
            .unwrap();
    let opts = Options {
        level: Level::Crypto,
        network: "frc0108-vectors".into(),
        ..Options::default()
    };
    let input = F3Input::scan(&f3[..], opts.clone()).unwrap();
    // go-f3's churn fixture finalizes epochs far above this chain's head (height 3): merge
    // refuses it, and written anyway it passes the import level and fails the chain level's
    // consistency check, exactly as the merge did.
    let refused = merge(
        &archive[..],
        &input,
        &f3[..],
        Vec::new(),
        &mut ConsistencyCheck::new(true),
    );
    assert_eq!(
        refused.err().map(|e| e.code()),
        Some("consistency-finalized-above-head")
    );
    let (out, _) = merge(&archive[..], &input, &f3[..], Vec::new(), &mut NoChainCheck).unwrap();
    let import = Options {
        level: Level::Import,
        ..opts.clone()
    };
    let a = analyze(&out[..], Some(import), &mut |_| {});
    assert!(a.error.is_none(), "{:?}", a.error);
    let a = analyze(&out[..], Some(opts), &mut |_| {});
    assert_eq!(
        a.error.map(|e| e.code()),
        Some("consistency-finalized-above-head")
    );
}
