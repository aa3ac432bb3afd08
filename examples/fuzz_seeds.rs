//! Writes seed corpora for the fuzz targets from every file under `vectors/`: whole files for
//! the stream targets, and each F3 stream's header and certificate blocks for the block targets.
//!
//! `cargo run --example fuzz_seeds -- fuzz/corpus`

use std::path::PathBuf;

fn main() {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    if arg == "--list" {
        println!("{}", frc0108::fuzzing::TARGETS.join(" "));
        return;
    }
    let out = PathBuf::from(arg);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = frc0108::fuzzing::seed_files(&root.join("vectors"));
    inputs.extend(frc0108::fuzzing::seed_files(&root.join("fuzz/regressions")));
    let mut n = 0;
    for (i, path) in inputs.iter().enumerate() {
        let data = std::fs::read(path).unwrap();
        for t in frc0108::fuzzing::TARGETS {
            let dir = out.join(t);
            std::fs::create_dir_all(&dir).unwrap();
            let block_target = matches!(*t, "certificate" | "header" | "certificate_view");
            if !block_target && data.len() <= 1 << 20 {
                std::fs::write(dir.join(format!("file-{i}")), &data).unwrap();
                n += 1;
            }
        }
        for (j, (kind, block)) in frc0108::fuzzing::blocks(&data)
            .into_iter()
            .enumerate()
            .take(64)
        {
            // A certificate block seeds the view's differential target as well.
            let also = (kind == "certificate").then_some("certificate_view");
            for t in std::iter::once(kind).chain(also) {
                std::fs::write(out.join(t).join(format!("block-{i}-{j}")), &block).unwrap();
                n += 1;
            }
        }
    }
    eprintln!(
        "wrote {n} seeds from {} files to {}",
        inputs.len(),
        out.display()
    );
}
