//! The command line on real files: exit codes, JSON shapes, truncated, corrupted and
//! zstd-compressed copies of a snapshot, and a hostile length prefix.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_frc0108"))
}

fn run(args: &[&str]) -> (i32, Value, String) {
    let out = bin().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stdout)
}

fn synth(dir: &Path, name: &str, car: bool) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "synth",
        "--out",
        path.to_str().unwrap(),
        "--instances",
        "30",
        "--participants",
        "6",
        "--seed",
        "7",
    ];
    if car {
        args.push("--car");
    }
    let status = bin().args(&args).status().unwrap();
    assert!(status.success());
    path
}

#[test]
fn valid_car_and_f3data() {
    let dir = tempfile::tempdir().unwrap();
    let car = synth(dir.path(), "s.car", true);
    let f3 = synth(dir.path(), "s.f3", false);

    let (code, v, _) = run(&["inspect", "--json", car.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["format"], "car-v2-snapshot");
    assert_eq!(v["container"], "carv1");
    assert_eq!(v["compression"], "none");
    assert_eq!(v["f3"]["certificates"], 30);
    assert_eq!(v["f3"]["cid"], v["metadata"]["f3_data"]);
    assert_eq!(v["roots"][0], v["metadata"]["cid"]);

    let (code, w, _) = run(&["inspect", "--json", f3.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(w["format"], "f3data");
    // The F3 data inside the CAR is the same stream.
    assert_eq!(w["f3"]["cid"], v["f3"]["cid"]);

    for level in ["structure", "import", "chain"] {
        let (code, c, _) = run(&["check", "--json", "--level", level, car.to_str().unwrap()]);
        assert_eq!(code, 0, "{c}");
        assert_eq!(c["result"], "valid");
        assert_eq!(c["level"], level);
        assert_eq!(c["errors"], Value::Array(vec![]));
    }
}

#[test]
fn zstd_input_is_decompressed_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let car = synth(dir.path(), "s.car", true);
    let zst = dir.path().join("s.car.zst");
    let raw = std::fs::read(&car).unwrap();
    std::fs::write(&zst, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    let (code, v, _) = run(&["check", "--json", zst.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["compression"], "zstd");
    assert_eq!(v["format"], "car-v2-snapshot");

    // A truncated .zst is an error, reported as such.
    let cut = dir.path().join("cut.car.zst");
    let z = std::fs::read(&zst).unwrap();
    std::fs::write(&cut, &z[..z.len() / 2]).unwrap();
    let (code, v, _) = run(&["check", "--json", cut.to_str().unwrap()]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["result"], "invalid");
}

#[test]
fn truncated_input_reports_what_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let car = synth(dir.path(), "s.car", true);
    let raw = std::fs::read(&car).unwrap();
    let cut = dir.path().join("cut.car");
    std::fs::write(&cut, &raw[..raw.len() * 2 / 3]).unwrap();

    let (code, v, _) = run(&["inspect", "--json", cut.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["format"], "car-v2-snapshot");
    let n = v["f3"]["certificates"].as_u64().unwrap();
    assert!(n > 0 && n < 30, "{v}");
    assert_eq!(v["error"]["code"], "car-truncated");
    assert!(v["error"]["offset"].as_u64().unwrap() <= raw.len() as u64 * 2 / 3);

    let (code, v, _) = run(&["check", "--json", cut.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["errors"][0]["code"], "car-truncated");
}

#[test]
fn corrupted_byte_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let f3 = synth(dir.path(), "s.f3", false);
    let mut raw = std::fs::read(&f3).unwrap();
    // Flip one byte of a power table CID digest in the middle of the stream: the decode
    // succeeds, and the chain level finds the wrong power table CID or a broken chain link.
    let (code, v, _) = run(&["inspect", "--json", f3.to_str().unwrap()]);
    assert_eq!(code, 0);
    let mid = raw.len() / 2;
    raw[mid] ^= 0x01;
    let bad = dir.path().join("bad.f3");
    std::fs::write(&bad, &raw).unwrap();
    let (code, c, _) = run(&["check", "--json", bad.to_str().unwrap()]);
    assert_eq!(code, 1, "{c}");
    let e = &c["errors"][0];
    assert!(e["code"].is_string() && e["message"].is_string(), "{c}");
    // The error names the certificate holding the flipped byte or the next one (whose base
    // no longer matches), with that certificate's block offset.
    let offset = e["offset"].as_u64().unwrap();
    assert!(offset > 0 && offset < raw.len() as u64, "{c}");
    assert!(e["instance"].as_u64().unwrap() < 30, "{c}");
    let (code, i, _) = run(&["inspect", "--json", bad.to_str().unwrap()]);
    if code == 0 {
        // Still decodable: a different stream, so a different F3 CID.
        assert_ne!(i["f3"]["cid"], v["f3"]["cid"]);
    }
}

#[test]
fn huge_declared_length_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.f3");
    // 20 bytes: a varint declaring 2^62 bytes, then filler.
    let mut b = Vec::new();
    frc0108::framing::encode_uvarint(1 << 62, &mut b);
    b.resize(20, 0x84);
    std::fs::write(&path, &b).unwrap();
    let (code, v, _) = run(&["check", "--json", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["errors"][0]["code"], "block-too-large");
    assert_eq!(v["errors"][0]["offset"], 0);
}

#[test]
fn usage_and_io_errors_exit_2() {
    let (code, _, _) = run(&["check", "/nonexistent/file"]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&["check", "--level", "nope", "x"]);
    assert_eq!(code, 2);
}

#[test]
fn synth_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = synth(dir.path(), "s.f3", false);
    let before = std::fs::read(&path).unwrap();
    let status = bin()
        .args(["synth", "--out", path.to_str().unwrap(), "--seed", "99"])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// synth writes like the other writers: a `.zst` name gives a zstd stream, and nothing but the
/// output appears in the directory.
#[test]
fn synth_compresses_a_zst_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.car.zst");
    let status = bin()
        .args(["synth", "--car", "--out", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(std::fs::read(&out).unwrap()[..4], [0x28, 0xb5, 0x2f, 0xfd]);
    let (code, v, _) = run(&["check", "--json", out.to_str().unwrap()]);
    assert_eq!((code, v["compression"].as_str()), (0, Some("zstd")), "{v}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn synth_refuses_instances_past_the_largest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.f3");
    let last = u64::MAX.to_string();
    let synth_at = |n: &str| {
        bin()
            .args(["synth", "--out", out.to_str().unwrap()])
            .args(["--first-instance", &last, "--instances", n])
            .output()
            .unwrap()
    };
    let o = synth_at("2");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--first-instance") && err.contains(&last),
        "{err}"
    );
    assert!(!out.exists());
    // One certificate at the largest instance is fine.
    assert_eq!(synth_at("1").status.code(), Some(0));
    let (code, v, _) = run(&["check", "--json", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn stdin_is_read_with_dash() {
    let dir = tempfile::tempdir().unwrap();
    let f3 = synth(dir.path(), "s.f3", false);
    let out = bin()
        .args(["inspect", "--json", "-"])
        .stdin(std::fs::File::open(&f3).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["f3"]["certificates"], 30);
}

#[test]
fn mainnet_shaped_synth_is_valid_at_the_crypto_level_and_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.f3");
    let p = path.to_str().unwrap();
    let args = [
        "synth",
        "--shape",
        "mainnet",
        "--churn-percent",
        "80",
        "--instances",
        "6",
        "--sign-for",
        "net",
        "--out",
        p,
    ];
    assert!(bin().args(args).status().unwrap().success());
    let before = std::fs::read(&path).unwrap();
    assert_eq!(bin().args(args).status().unwrap().code(), Some(2));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let (code, v, _) = run(&["inspect", "--json", p]);
    assert_eq!(code, 0);
    assert_eq!(v["f3"]["certificates"], 6);
    assert_eq!(v["f3"]["header"]["initial_power_table"]["entries"], 1560);
    for batch in ["0", "1"] {
        let check = [
            "check",
            "--json",
            "--level",
            "crypto",
            "--network",
            "net",
            "--signature-batch",
            batch,
            p,
        ];
        let (code, v, out) = run(&check);
        assert_eq!((code, &v["result"]), (0, &Value::from("valid")), "{out}");
    }
    let (code, v, _) = run(&[
        "check",
        "--json",
        "--level",
        "crypto",
        "--network",
        "other",
        p,
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["errors"][0]["code"], "signature-invalid");
    assert_eq!(v["errors"][0]["instance"], 0);
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/go-f3")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_network_without_a_level_checks_signatures() {
    let tiny = fixture("tiny.f3");
    // The fixtures are signed for a custom network: signatures only, and the output says so.
    let (code, v, _) = run(&["check", "--json", "--network", "frc0108-vectors", &tiny]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["level"], "crypto");
    assert_eq!(v["network"]["name"], "frc0108-vectors");
    assert_eq!(v["network"]["known"], false);
    assert_eq!(v["network"]["source"], "unknown");
    let (code, _, text) = run(&["check", "--network", "frc0108-vectors", &tiny]);
    assert_eq!(code, 0);
    assert!(text.contains("is not a known network"), "{text}");
    assert!(
        text.contains("valid (crypto level, network frc0108-vectors)"),
        "{text}"
    );
    // Without a network the default stays the chain level.
    let (code, v, _) = run(&["check", "--json", &tiny]);
    assert_eq!(code, 0);
    assert_eq!(v["level"], "chain");
    assert_eq!(v["network"], Value::Null);
}

#[test]
fn a_known_network_holds_the_header_to_its_manifest() {
    let tiny = fixture("tiny.f3");
    for name in [
        "filecoin",
        "mainnet",
        "calibnet",
        "calibrationnet2",
        "calibrationnet",
    ] {
        let (code, v, _) = run(&["check", "--json", "--network", name, &tiny]);
        assert_eq!(code, 1, "{name}: {v}");
        assert_eq!(v["errors"][0]["code"], "network-mismatch", "{name}");
        assert_eq!(v["network"]["known"], true);
        // Aliases resolve to the network's own name, which the message names.
        let own = v["network"]["name"].as_str().unwrap().to_string();
        assert!(
            v["errors"][0]["message"].as_str().unwrap().contains(&own),
            "{v}"
        );
    }
    let (code, v, _) = run(&["check", "--json", "--network", "calibnet", &tiny]);
    assert_eq!(code, 1);
    assert_eq!(v["network"]["name"], "calibrationnet2");
    assert_eq!(
        v["network"]["initial_power_table"],
        "bafy2bzacednijkh5dhb6jb7snxhhtjt7zuqaydlewoha3ordhy76dhgwtmptg"
    );
    // inspect reports the network and whether the header starts where it does.
    let (code, v, _) = run(&["inspect", "--json", "--network", "filecoin", &tiny]);
    assert_eq!(code, 0);
    assert_eq!(v["network"]["header_matches"], false);
}

#[test]
fn a_manifest_file_names_the_network_and_its_faults() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = fixture("tiny.f3");
    let good = dir.path().join("good.json");
    // A devnet manifest for the fixtures' network, with no initial table: signatures checked.
    std::fs::write(
        &good,
        r#"{"NetworkName": "frc0108-vectors", "BootstrapEpoch": 1000, "InitialInstance": 0,
            "InitialPowerTable": null, "Pause": false}"#,
    )
    .unwrap();
    let (code, v, _) = run(&[
        "check",
        "--json",
        "--manifest",
        good.to_str().unwrap(),
        &tiny,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["level"], "crypto");
    assert_eq!(v["network"]["source"], "manifest");
    assert_eq!(v["network"]["bootstrap_epoch"], 1000);
    // A manifest with another first instance: the snapshot is not of that network.
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        r#"{"NetworkName": "frc0108-vectors", "BootstrapEpoch": 1000, "InitialInstance": 7}"#,
    )
    .unwrap();
    let (code, v, _) = run(&[
        "check",
        "--json",
        "--manifest",
        other.to_str().unwrap(),
        &tiny,
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["errors"][0]["code"], "network-mismatch");
    // A malformed manifest is a usage error naming the field.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"NetworkName": "x", "BootstrapEpoch": "soon"}"#).unwrap();
    let out = bin()
        .args(["check", "--manifest", bad.to_str().unwrap(), &tiny])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("BootstrapEpoch"), "{err}");
    assert!(out.stdout.is_empty());
    // --network and --manifest are one choice.
    let (code, _, _) = run(&[
        "check",
        "--network",
        "filecoin",
        "--manifest",
        good.to_str().unwrap(),
        &tiny,
    ]);
    assert_eq!(code, 2);
}

#[test]
fn an_unreadable_input_is_not_called_invalid() {
    let dir = tempfile::tempdir().unwrap();
    // A directory opens but cannot be read: an I/O error, exit 2, nothing on stdout.
    let out = bin()
        .args(["check", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read") && !err.contains("invalid"),
        "{err}"
    );
}

/// Mainnet's first ten certificates, as go-f3 exported them from Lotus's RPC JSON: checked by
/// network name at the crypto level. The CIDs come from outside the project (the network's
/// manifest and the certificates themselves).
#[test]
fn mainnet_certificates_check_by_network_name() {
    for file in ["mainnet-0-9.f3", "car-v2-mainnet-0-9.car"] {
        let path = fixture(file);
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/real-data/f3manifest-filecoin.json");
        assert!(
            manifest.exists(),
            "../shared/real-data must sit beside the repository"
        );
        for args in [
            vec!["--network", "filecoin"],
            vec!["--network", "mainnet"],
            vec!["--manifest", manifest.to_str().unwrap()],
        ] {
            let mut all = vec!["check", "--json"];
            all.extend(&args);
            all.push(&path);
            let (code, v, _) = run(&all);
            assert_eq!(code, 0, "{file} {args:?}: {v}");
            assert_eq!(v["level"], "crypto");
            assert_eq!(v["network"]["name"], "filecoin");
            assert_eq!(
                v["f3"]["cid"],
                "bafk2bzaceag56eznuqwekomqjstvvpnox24knrpnvevuujtxkuwblruf4dmp2"
            );
            assert_eq!(v["f3"]["certificates"], 10);
            assert_eq!(
                v["final_power_table"],
                "bafy2bzaceb5yxdkkdomvwpfejeie5iagpx6ete6qnaaq7x4gt4w7isdi6xp2i"
            );
        }
        for name in ["calibnet", "calibrationnet2"] {
            let (code, v, _) = run(&["check", "--json", "--network", name, &path]);
            assert_eq!(code, 1, "{file} {name}: {v}");
            assert_eq!(v["errors"][0]["code"], "network-mismatch");
            let msg = v["errors"][0]["message"].as_str().unwrap();
            assert!(
                msg.contains("bafy2bzacednijkh5dhb6jb7snxhhtjt7zuqaydlewoha3ordhy76dhgwtmptg"),
                "{msg}"
            );
        }
    }
}

/// `check` reports the F3 data against the chain: what it found on a chain of block headers
/// (text and JSON), and why it did not run on a stand-in chain, a v1 snapshot, `F3Data: null`
/// or bare F3 data.
#[test]
fn consistency_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.car");
    let p = path.to_str().unwrap();
    let args = ["synth", "--car", "--chain-epochs", "40", "--out", p];
    assert!(bin().args(args).status().unwrap().success());
    let (code, v, _) = run(&["check", "--json", p]);
    assert_eq!(code, 0, "{v}");
    let c = &v["consistency"];
    assert_eq!(c["checked"], true);
    let (fin, head) = (
        c["finalized"]["epoch"].as_i64(),
        c["head"]["epoch"].as_i64(),
    );
    assert_eq!(head, Some(40));
    assert!(fin.unwrap() < 40);
    assert!(c["finalized"]["key"][0]
        .as_str()
        .unwrap()
        .starts_with("bafy2bzace"));
    assert_eq!(c["tipsets_walked"], 2);
    let (_, _, text) = run(&["check", p]);
    assert!(
        text.contains("consistency: the F3 data finalizes epoch"),
        "{text}"
    );
    // Below `chain` it does not run.
    let (_, v, _) = run(&["check", "--json", "--level", "import", p]);
    assert_eq!(v["consistency"], serde_json::Value::Null);

    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/cases/valid");
    for (file, why) in [
        ("car-v2-tiny.car", "not Filecoin block headers"),
        ("car-v1.car", "v1 snapshot"),
        ("car-v2-no-f3.car", "F3Data is null"),
        ("tiny.f3", "F3 data alone"),
    ] {
        let f = vectors.join(file);
        let (code, v, _) = run(&["check", "--json", f.to_str().unwrap()]);
        assert_eq!(code, 0);
        assert_eq!(v["consistency"]["checked"], false, "{file}");
        let skipped = v["consistency"]["skipped"].as_str().unwrap();
        assert!(skipped.contains(why), "{file}: {skipped}");
        let (_, _, text) = run(&["check", f.to_str().unwrap()]);
        assert!(text.contains("consistency: not checked:"), "{file}: {text}");
    }

    // An inconsistent case: exit 1, the code in the errors, what was found in `consistency`.
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors/cases/consistency/finalized-above-head.car");
    let (code, v, _) = run(&["check", "--json", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(v["errors"][0]["code"], "consistency-finalized-above-head");
    assert_eq!(v["consistency"]["finalized"]["epoch"], 110);
    assert_eq!(v["consistency"]["head"]["epoch"], 108);
}

/// A corrupt zstd stream (a frame cut short) is the input's fault, whichever command reads
/// it: exit 1 with the code `zstd`, never "cannot read" (exit 2).
#[test]
fn corrupt_zstd_is_a_verdict_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let f3 = std::fs::read(fixture("churn.f3")).unwrap();
    // A frame cut short: the decoder, not the file, fails.
    let mut z = zstd::encode_all(&f3[..], 3).unwrap();
    z.truncate(z.len() * 2 / 3);
    let bad = dir.path().join("bad.f3.zst");
    std::fs::write(&bad, &z).unwrap();
    let bad = bad.to_str().unwrap();
    let (code, v, _) = run(&["check", "--json", bad]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["errors"][0]["code"], "zstd");
    let out = bin().args(["dump", bad]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("zstd"), "{err}");
    let car = dir.path().join("v1.car.zst");
    let chain = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/export40-headers.car"),
    )
    .unwrap();
    let mut z = zstd::encode_all(&chain[..], 3).unwrap();
    z.truncate(z.len() * 2 / 3);
    std::fs::write(&car, &z).unwrap();
    let out_path = dir.path().join("out.car");
    let out = bin()
        .args([
            "merge",
            "--level",
            "structure",
            "--v1",
            car.to_str().unwrap(),
            "--f3",
            &fixture("churn.f3"),
            "--out",
            out_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("zstd"), "{err}");
    assert!(!out_path.exists());
}

/// An output that is one of the command's inputs is refused, even with --force: the rename
/// into place would replace the file being read.
#[test]
fn an_output_is_never_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let f3 = dir.path().join("data.f3");
    std::fs::copy(fixture("churn.f3"), &f3).unwrap();
    let before = std::fs::read(&f3).unwrap();
    let chain = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/export40-headers.car");
    let out = bin()
        .args([
            "merge",
            "--force",
            "--level",
            "structure",
            "--v1",
            chain.to_str().unwrap(),
            "--f3",
            f3.to_str().unwrap(),
            "--out",
            f3.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is an input"), "{err}");
    assert_eq!(std::fs::read(&f3).unwrap(), before);
}
