//! Lotus's RPC JSON in and out: `assemble` against the networks' own numbers and go-f3's
//! fixtures, `dump` against the RPC's output, and errors that name the certificate and the
//! field.
//!
//! With the harness (`FRC0108_F3HARNESS`, as `scripts/test.sh` sets; ignored otherwise): the
//! bytes `assemble` writes equal go-f3's certstore export of the same JSON, and `dump` prints
//! what go-f3's own types print through Go's `encoding/json`.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use frc0108::json::{assemble_json, dump, initial_power_table, AssembleError};
use frc0108::report::analyze;
use frc0108::validate::{Level, Manifest, Options};
use serde_json::Value;

fn real_data(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real-data")
        .join(name);
    assert!(
        p.exists(),
        "{name} not found: ../shared/real-data must sit beside the repository"
    );
    p
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn opts(level: Level) -> Options {
    Options {
        level,
        network: "frc0108-vectors".into(),
        ..Options::default()
    }
}

/// Assembles F3 data in memory.
fn assemble(
    table: Option<&Value>,
    certificates: &[u8],
    first: Option<u64>,
    opts: Options,
) -> Result<(Vec<u8>, String), AssembleError> {
    let table = table.map(|t| initial_power_table(t).unwrap());
    let mut a = assemble_json(table, certificates, first, Cursor::new(Vec::new()), opts)?;
    let bytes = a.write_f3(Vec::new()).unwrap();
    Ok((bytes, a.cid.to_string()))
}

/// The lines `dump` prints for `input`, parsed.
fn dump_lines(input: &[u8]) -> (Vec<u8>, Vec<Value>) {
    let mut out = Vec::new();
    dump(input, &mut out, 0, u64::MAX).unwrap();
    let lines = String::from_utf8(out.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out, lines)
}

/// go-f3 v0.8.14 leaves an empty `PowerTableDelta` out (`omitempty`); the RPC file, from an
/// older release, writes `[]`. Both say the same: the comparison treats them as one.
fn without_empty_delta(mut c: Value) -> Value {
    let empty = match c.get("PowerTableDelta") {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        c.as_object_mut().unwrap().remove("PowerTableDelta");
    }
    c
}

const MAINNET_F3_CID: &str = "bafk2bzaceag56eznuqwekomqjstvvpnox24knrpnvevuujtxkuwblruf4dmp2";

fn mainnet() -> (Vec<u8>, String) {
    let table = read_json(&real_data("filecoin-initial-power-table.json"));
    let certs = std::fs::read(real_data("filecoin-certificates-0-9.json")).unwrap();
    let known = frc0108::networks::by_name("filecoin").unwrap().network();
    let opts = Options {
        level: Level::Crypto,
        network: known.name.clone(),
        manifest: Manifest {
            initial_instance: Some(known.initial_instance),
            initial_power_table: known.initial_power_table,
        },
        ..Options::default()
    };
    assemble(Some(&table), &certs, None, opts).unwrap()
}

/// The mainnet table and certificates 0 to 9, as the RPC gives them, assemble to the F3 data
/// CID go-f3's certstore export has (real-data README), valid down to the signatures.
#[test]
fn mainnet_certificates_assemble_to_go_f3s_cid() {
    let (bytes, cid) = mainnet();
    assert_eq!(cid, MAINNET_F3_CID);
    assert_eq!(bytes.len(), 161_776);
    // The fixture go-f3's certstore exported from the same JSON.
    let go = std::fs::read(fixtures_dir().join("mainnet-0-9.f3")).unwrap();
    assert!(bytes == go, "go-f3's export differs");
}

/// `dump` of that F3 data, and of go-f3's v2 snapshot of it, is the RPC's JSON: the header
/// carries the table exactly as the manifest publishes it, and every certificate equals the
/// RPC's as a JSON value.
#[test]
fn dump_equals_the_rpc_json() {
    let (bytes, _) = mainnet();
    let car = std::fs::read(fixtures_dir().join("car-v2-mainnet-0-9.car")).unwrap();
    let (from_f3, _) = dump_lines(&bytes);
    let (from_car, lines) = dump_lines(&car);
    assert!(from_f3 == from_car);
    let table = read_json(&real_data("filecoin-initial-power-table.json"));
    let rpc = read_json(&real_data("filecoin-certificates-0-9.json"));
    let rpc = rpc.as_array().unwrap();
    assert_eq!(lines.len(), 11);
    assert_eq!(lines[0]["Version"], 1);
    assert_eq!(lines[0]["FirstInstance"], 0);
    assert_eq!(lines[0]["LatestInstance"], 9);
    assert_eq!(lines[0]["InitialPowerTable"], table);
    for (i, (ours, theirs)) in lines[1..].iter().zip(rpc).enumerate() {
        assert_eq!(
            without_empty_delta(ours.clone()),
            without_empty_delta(theirs.clone()),
            "certificate {i}"
        );
    }
    // Instance 9 carries seven power changes: written in full, SigningKey null included.
    assert_eq!(lines[10], rpc[9]);
    assert_eq!(lines[10]["PowerTableDelta"].as_array().unwrap().len(), 7);
    assert!(lines[1].get("PowerTableDelta").is_none());
}

/// Every fixture go-f3 wrote that is valid comes back byte for byte through `dump` then
/// `assemble` (the NDJSON with its header line, no other input).
#[test]
fn dump_then_assemble_gives_back_every_valid_fixture() {
    let index = read_json(&fixtures_dir().join("index.json"));
    let mut n = 0;
    for name in index["fixtures"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        let side = read_json(&fixtures_dir().join(format!("{name}.json")));
        let bytes = std::fs::read(fixtures_dir().join(side["file"].as_str().unwrap())).unwrap();
        let a = analyze(&bytes[..], Some(opts(Level::Chain)), &mut |_| {});
        if side["go_f3_import"]["result"] != "accept" || a.error.is_some() {
            continue;
        }
        let Some(f3) = f3_bytes(&bytes) else { continue };
        let (dumped, _) = dump_lines(&bytes);
        let (again, cid) = assemble(None, &dumped, None, opts(Level::Chain)).unwrap();
        assert!(again == f3, "{name}: assemble of the dump differs");
        assert_eq!(Some(cid.as_str()), side["f3_cid"].as_str(), "{name}");
        n += 1;
    }
    assert!(n >= 8, "only {n} fixtures");
}

/// The F3 data of a fixture: the file itself, or the F3 block of a v2 CAR (none for others).
fn f3_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    if !frc0108::report::is_car(bytes) {
        return Some(bytes.to_vec());
    }
    let mut f3 = Vec::new();
    frc0108::merge::extract(bytes, &mut f3, None).ok()?;
    Some(f3)
}

fn rpc_certificates() -> Vec<Value> {
    read_json(&real_data("filecoin-certificates-0-9.json"))
        .as_array()
        .unwrap()
        .clone()
}

fn assemble_mainnet(certs: &[Value]) -> Result<(Vec<u8>, String), AssembleError> {
    let table = read_json(&real_data("filecoin-initial-power-table.json"));
    let json = serde_json::to_vec(certs).unwrap();
    assemble(Some(&table), &json, None, opts(Level::Chain))
}

fn json_error(r: Result<(Vec<u8>, String), AssembleError>) -> (u64, String, &'static str) {
    match r {
        Err(AssembleError::Json(e)) => (e.index.unwrap(), e.field.clone().unwrap(), e.code()),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

/// Bad JSON is refused with the certificate's index (in the input) and the field.
#[test]
fn bad_json_names_the_certificate_and_the_field() {
    let mut certs = rpc_certificates();
    certs[4]["ECChain"][1]["Epoch"] = Value::from("4919585");
    assert_eq!(
        json_error(assemble_mainnet(&certs)),
        (4, "ECChain[1].Epoch".into(), "json-type")
    );
    let mut certs = rpc_certificates();
    certs[9]["PowerTableDelta"][6]["PowerDelta"] = Value::from("1.5");
    assert_eq!(
        json_error(assemble_mainnet(&certs)),
        (9, "PowerTableDelta[6].PowerDelta".into(), "json-value")
    );
    let mut certs = rpc_certificates();
    certs[2].as_object_mut().unwrap().remove("Signature");
    assert_eq!(
        json_error(assemble_mainnet(&certs)),
        (2, "Signature".into(), "json-missing-field")
    );
    let mut certs = rpc_certificates();
    certs[0]["SupplementalData"]["PowerTable"]["/"] = Value::from("bafy-not-a-cid");
    assert_eq!(
        json_error(assemble_mainnet(&certs)),
        (0, "SupplementalData.PowerTable./".into(), "json-value")
    );
    // As NDJSON the same: the index counts certificates, not lines.
    let (bytes, _) = mainnet();
    let (dumped, _) = dump_lines(&bytes);
    let text = String::from_utf8(dumped).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[4] = lines[4].replace("\"Signers\":[0,", "\"Signers\":[1,0,");
    match assemble(None, lines.join("\n").as_bytes(), None, opts(Level::Chain)) {
        Err(AssembleError::Json(e)) => {
            assert_eq!((e.index, e.field.as_deref()), (Some(3), Some("Signers")));
            assert!(
                e.to_string().contains("certificate 3, field Signers"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Not JSON at all, and JSON after the array.
    let e = assemble(None, b"{\"GPBFTInstance\": 1,", None, opts(Level::Chain)).unwrap_err();
    assert_eq!(e.code(), "json-syntax");
    let json = format!("{} x", serde_json::to_string(&rpc_certificates()).unwrap());
    let table = read_json(&real_data("filecoin-initial-power-table.json"));
    let e = assemble(Some(&table), json.as_bytes(), None, opts(Level::Chain)).unwrap_err();
    assert_eq!(e.code(), "json-syntax");
    let e = assemble(Some(&table), b"[]", None, opts(Level::Chain)).unwrap_err();
    assert_eq!(e.code(), "json-no-certificates");
}

/// Certificates that are good JSON but do not make valid F3 data are refused with the
/// certificate's index and the rule's code.
#[test]
fn invalid_certificates_are_refused_with_their_index() {
    let invalid = |r: Result<(Vec<u8>, String), AssembleError>| match r {
        Err(AssembleError::Invalid { index, error }) => (index, error.code()),
        other => panic!("expected an invalid certificate, got {other:?}"),
    };
    let mut certs = rpc_certificates();
    certs.remove(5);
    assert_eq!(invalid(assemble_mainnet(&certs)), (Some(5), "sequence-gap"));
    let mut certs = rpc_certificates();
    certs[9]["PowerTableDelta"].as_array_mut().unwrap().pop();
    assert_eq!(
        invalid(assemble_mainnet(&certs)),
        (Some(9), "power-table-cid-mismatch")
    );
    let mut certs = rpc_certificates();
    certs[0]["GPBFTInstance"] = Value::from(3);
    let table = read_json(&real_data("filecoin-initial-power-table.json"));
    let json = serde_json::to_vec(&certs).unwrap();
    assert_eq!(
        invalid(assemble(Some(&table), &json, Some(0), opts(Level::Chain))),
        (Some(0), "sequence-first")
    );
    // A header in the certificates and a table besides: which one is meant is unclear.
    let (bytes, _) = mainnet();
    let (dumped, _) = dump_lines(&bytes);
    let e = assemble(Some(&table), &dumped, None, opts(Level::Chain)).unwrap_err();
    assert_eq!(e.code(), "assemble-power-table-twice");
    let e = assemble(
        None,
        &serde_json::to_vec(&rpc_certificates()).unwrap(),
        None,
        opts(Level::Chain),
    )
    .unwrap_err();
    assert_eq!(e.code(), "assemble-no-power-table");
}

/// `dump` of a v2 snapshot prints its F3 data; `--from`/`--to` choose instances.
#[test]
fn dump_of_a_snapshot_and_a_range() {
    let car = std::fs::read(fixtures_dir().join("car-v2-tiny.car")).unwrap();
    let f3 = f3_bytes(&car).unwrap();
    let (from_car, lines) = dump_lines(&car);
    let (from_f3, _) = dump_lines(&f3);
    assert_eq!(from_car, from_f3);
    assert_eq!(lines.len(), 13);
    let mut out = Vec::new();
    let s = dump(&car[..], &mut out, 3, 5).unwrap();
    assert_eq!(s.written, 3);
    let text = String::from_utf8(out).unwrap();
    let instances: Vec<u64> = text
        .lines()
        .skip(1)
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["GPBFTInstance"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(instances, [3, 4, 5]);
    assert_eq!(
        text.lines().next(),
        std::str::from_utf8(&from_car).unwrap().lines().next()
    );
    // A v1 snapshot has no F3 data to show.
    let v1 = std::fs::read(fixtures_dir().join("car-v1.car")).unwrap();
    let e = dump(&v1[..], &mut Vec::new(), 0, u64::MAX).unwrap_err();
    assert_eq!(e.code(), "not-v2-snapshot");
}

// ---------------------------------------------------------------------------------------------
// go-f3 as the judge

fn harness() -> PathBuf {
    let p = std::env::var_os("FRC0108_F3HARNESS")
        .map(PathBuf::from)
        .expect("FRC0108_F3HARNESS must name the built harness (scripts/test.sh sets it)");
    assert!(p.exists(), "{} does not exist", p.display());
    p
}

fn harness_run(args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new(harness()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "harness {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// go-f3's certstore export of the mainnet JSON is byte for byte what `assemble` writes.
#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn assemble_equals_go_f3s_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("go.f3");
    harness_run(&[
        "assemble".as_ref(),
        "--initial-power-table".as_ref(),
        real_data("filecoin-initial-power-table.json").as_os_str(),
        "--certificates".as_ref(),
        real_data("filecoin-certificates-0-9.json").as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let go = std::fs::read(&out).unwrap();
    let (ours, cid) = mainnet();
    assert!(go == ours, "go-f3's export differs from ours");
    assert_eq!(cid, MAINNET_F3_CID);
}

/// go-f3's types through Go's `encoding/json` print exactly the bytes `dump` prints, for the
/// mainnet data and every fixture, invalid ones included (both print what decodes before the
/// error, and fail where the other fails), except where the strict reader stops at a
/// documented go-f3 leniency: there it prints a prefix of go-f3's lines.
#[test]
#[ignore = "needs the go-f3 harness: run through scripts/test.sh"]
fn dump_equals_go_f3s_json() {
    let dir = tempfile::tempdir().unwrap();
    let mainnet_path = dir.path().join("mainnet.f3");
    std::fs::write(&mainnet_path, mainnet().0).unwrap();
    let mut files = vec![mainnet_path];
    let index = read_json(&fixtures_dir().join("index.json"));
    for name in index["fixtures"].as_array().unwrap() {
        let side = read_json(&fixtures_dir().join(format!("{}.json", name.as_str().unwrap())));
        files.push(fixtures_dir().join(side["file"].as_str().unwrap()));
    }
    let (mut same, mut lenient) = (0, 0);
    for path in files {
        let go = Command::new(harness())
            .arg("dump")
            .arg(&path)
            .output()
            .unwrap();
        let mut ours = Vec::new();
        let res = dump(&std::fs::read(&path).unwrap()[..], &mut ours, 0, u64::MAX);
        let name = path.display();
        match &res {
            Err(e) if go.status.success() => {
                assert!(
                    frc0108::conformance::GO_F3_LENIENT.contains(&e.code()),
                    "{name}: go-f3 prints it all, we stop at {e}"
                );
                assert!(
                    go.stdout.starts_with(&ours),
                    "{name}: the lines before differ"
                );
                lenient += 1;
            }
            _ => {
                assert_eq!(res.is_ok(), go.status.success(), "{name}: {res:?}");
                assert!(
                    go.stdout == ours,
                    "{name}: dump differs from go-f3's encoding/json"
                );
                same += 1;
            }
        }
    }
    assert!(
        same >= 20 && lenient >= 2,
        "{same} the same, {lenient} lenient"
    );
}
