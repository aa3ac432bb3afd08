//! Golden files of `inspect --json` for every sample in the repository (the go-f3 fixtures),
//! so every change to what the reader reports is reviewed (`cargo insta review`).
//! The facts in them are also checked against go-f3's sidecars in tests/interop.rs.

use std::path::PathBuf;
use std::process::Command;

fn samples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("f3" | "car")))
        .collect();
    v.sort();
    assert!(v.len() >= 20, "the go-f3 samples are missing");
    v
}

fn inspect(path: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_frc0108"))
        .args(["inspect", "--json"])
        .arg(path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Exit status and the presence of `error` agree.
    assert_eq!(
        out.status.code() == Some(0),
        v.get("error").is_none(),
        "{}",
        path.display()
    );
    v
}

#[test]
fn inspect_json_of_every_sample() {
    for p in samples() {
        let name = p.file_name().unwrap().to_string_lossy().replace('.', "_");
        insta::assert_json_snapshot!(format!("inspect_{name}"), inspect(&p));
    }
}

#[test]
fn inspect_json_of_a_zstd_copy() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/cases/valid/car-v2-tiny-zstd.car.zst");
    insta::assert_json_snapshot!("inspect_car-v2-tiny_car_zst", inspect(&src));
}
