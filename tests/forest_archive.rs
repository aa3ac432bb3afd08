//! A real Forest archive, given by path (Forest's `test-snapshots/chain4.forest.car.zst` is
//! one): the index the recipe in `support/forest.rs` builds from its frames is its index byte
//! for byte, and `merge` takes it. Run by hand:
//!
//! ```sh
//! FRC0108_FOREST_ARCHIVE=path/to/chain4.forest.car.zst cargo test --all-features --test forest_archive -- --ignored
//! ```

#[path = "support/forest.rs"]
mod forest;

use std::path::PathBuf;

use frc0108::merge::{merge, F3Input, NoChainCheck};
use frc0108::report::analyze;
use frc0108::validate::{Level, Options};

/// The archive's index is rebuilt byte for byte from its frames, and `merge` takes it.
#[test]
#[ignore = "needs a Forest archive: FRC0108_FOREST_ARCHIVE=path/to/x.forest.car.zst"]
fn real_forest_archive() {
    let path = std::env::var_os("FRC0108_FOREST_ARCHIVE").expect("FRC0108_FOREST_ARCHIVE");
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
    let (out, _) = merge(&archive[..], &input, &f3[..], Vec::new(), &mut NoChainCheck).unwrap();
    let a = analyze(&out[..], Some(opts), &mut |_| {});
    assert!(a.error.is_none(), "{:?}", a.error);
}
