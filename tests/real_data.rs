//! The networks' own numbers: the initial power tables of mainnet and calibration net, taken
//! from live networks, must encode to the CIDs their F3 manifests publish. Nothing here was
//! produced by this project, so a mismatch means our encoding is wrong.

use std::path::PathBuf;

use base64::Engine;
use frc0108::types::{Cbor, PowerEntries, PowerEntry};
use frc0108::validate::power::check_table;
use num_bigint::BigInt;

fn real_data(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real-data")
        .join(name);
    p.exists().then_some(p)
}

fn load(name: &str) -> PowerEntries {
    let path = real_data(name).unwrap_or_else(|| {
        panic!("{name} not found: ../shared/real-data must sit beside the repository")
    });
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let entries = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| PowerEntry {
            id: e["ID"].as_u64().unwrap(),
            power: e["Power"].as_str().unwrap().parse::<BigInt>().unwrap(),
            pub_key: base64::engine::general_purpose::STANDARD
                .decode(e["PubKey"].as_str().unwrap())
                .unwrap(),
        })
        .collect();
    PowerEntries(entries)
}

fn check(name: &str, entries: usize, cid: &str, encoded_len: Option<usize>) {
    let table = load(name);
    assert_eq!(table.0.len(), entries);
    let bytes = table.to_cbor();
    if let Some(len) = encoded_len {
        assert_eq!(bytes.len(), len);
    }
    assert_eq!(table.cid().to_string(), cid);
    // The table meets every rule a snapshot header's table must meet, and decodes back
    // to itself from its encoding.
    check_table(&table).unwrap();
    assert_eq!(PowerEntries::from_cbor(&bytes).unwrap(), table);
}

#[test]
fn mainnet_initial_power_table_cid() {
    check(
        "filecoin-initial-power-table.json",
        1560,
        "bafy2bzacecklgxd2eksmodvhgurqvorkg3wamgqkrunir3al2gchv2cikgmbu",
        Some(101_235),
    );
}

#[test]
fn calibrationnet_initial_power_table_cid() {
    check(
        "calibrationnet-initial-power-table.json",
        20,
        "bafy2bzaceab236vmmb3n4q4tkvua2n4dphcbzzxerxuey3mot4g3cov5j3r2c",
        None,
    );
}

/// The networks the reference knows agree with the manifests Lotus ships (name, initial
/// instance, bootstrap epoch, initial power table CID), and the tables in real-data hash to
/// the CIDs the known networks hold snapshots to: a change to either shows up here.
#[test]
fn known_networks_agree_with_the_manifests() {
    use frc0108::networks::{by_name, Network, KNOWN};
    let manifest = |file: &str| {
        let path = real_data(file).unwrap_or_else(|| panic!("{file} not found"));
        Network::from_manifest_json(&std::fs::read(path).unwrap()).unwrap()
    };
    for (file, known) in [
        ("f3manifest-filecoin.json", "filecoin"),
        ("f3manifest-calibrationnet2.json", "calibrationnet2"),
    ] {
        let m = manifest(file);
        assert_eq!(m.name, known, "{file}");
        let k = by_name(&m.name).unwrap_or_else(|| panic!("{} is not known", m.name));
        assert!(!k.retired);
        assert_eq!(k.network(), m, "{file}");
    }
    for (table, known) in [
        ("filecoin-initial-power-table.json", "filecoin"),
        ("calibrationnet-initial-power-table.json", "calibrationnet"),
    ] {
        let k = by_name(known).unwrap();
        assert_eq!(
            k.network().initial_power_table,
            Some(load(table).cid()),
            "{table}"
        );
    }
    assert!(by_name("calibrationnet").unwrap().retired);
    assert_eq!(by_name("mainnet").unwrap().name, "filecoin");
    assert_eq!(by_name("calibnet").unwrap().name, "calibrationnet2");
    assert_eq!(KNOWN.len(), 3);
}
