//! The F3 data against the chain it ships with, on a real chain: the 49 block headers of
//! Forest's `src/genesis/export40.car` (heights 0 to 39 on mainnet's genesis, tipsets of up to
//! three blocks, null rounds; see tests/data/README.md), joined with F3 data that finalizes
//! one of its tipsets, a tipset of another chain, or mainnet's real first certificates.

use std::path::PathBuf;

use base64::Engine;
use cid::Cid;
use frc0108::car::CarReader;
use frc0108::chain::consistency::{check_car, Checker, TipsetRef, MAX_LAG};
use frc0108::chain::key_cids;
use frc0108::chain::BlockHeader;
use frc0108::report::analyze;
use frc0108::snapshot::write_v2_snapshot;
use frc0108::synth::{build_finalizing, Params};
use frc0108::types::{F3SnapshotHeader, SupplementalData, TipSet};
use frc0108::types::{FinalityCertificate, PowerEntries, PowerEntry, PowerTableDelta, Signers};
use frc0108::validate::{Level, Manifest, Options};
use num_bigint::BigInt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real chain: roots and blocks, in the file's (Lotus's export) order.
fn real_chain() -> (Vec<Cid>, Vec<(Cid, Vec<u8>)>) {
    let bytes = std::fs::read(root().join("tests/data/export40-headers.car")).unwrap();
    let mut car = CarReader::new(&bytes[..]).unwrap();
    let roots = car.header().roots.clone();
    let mut blocks = Vec::new();
    while let Some(s) = car.next_section().unwrap() {
        let mut data = Vec::new();
        car.read_section(1 << 20, &mut data).unwrap();
        blocks.push((s.cid, data));
    }
    (roots, blocks)
}

/// The real chain's tipsets, lowest first: (epoch, key), the key as the children's `Parents`
/// name it (Lotus's canonical order), and the head from the CAR roots.
fn real_tipsets() -> Vec<(i64, Vec<u8>)> {
    let (roots, blocks) = real_chain();
    let mut heights = std::collections::HashMap::new();
    let mut keys = std::collections::BTreeMap::new();
    for (cid, data) in &blocks {
        if let Ok(h) = BlockHeader::decode(data) {
            heights.insert(*cid, h.height);
            keys.insert(h.height, h.parents_key());
        }
    }
    let mut out: Vec<(i64, Vec<u8>)> = keys
        .values()
        .filter_map(|k| {
            let first = key_cids(k)?.into_iter().next()?;
            Some((*heights.get(&first)?, k.clone()))
        })
        .collect();
    out.sort();
    out.dedup();
    let head: Vec<u8> = roots.iter().flat_map(|c| c.to_bytes()).collect();
    out.push((39, head));
    out
}

/// F3 data signed for `network` whose last certificate finalizes the last of `tipsets`.
fn f3_finalizing(tipsets: &[(i64, Vec<u8>)], network: &str) -> (Vec<u8>, Cid) {
    let p = Params {
        seed: 40,
        participants: 5,
        instances: 4,
        sign_for: Some(network.into()),
        ..Params::default()
    };
    let (header, certs) = build_finalizing(&p, tipsets);
    frc0108::f3data::encode(&header, &certs)
}

fn v2_car(f3: &(Vec<u8>, Cid)) -> Vec<u8> {
    let (roots, blocks) = real_chain();
    write_v2_snapshot(Vec::new(), &roots, Some((&f3.1, &f3.0)), &blocks)
        .unwrap()
        .0
}

fn check(car: &[u8], level: Level, network: &str) -> frc0108::report::Analysis {
    let opts = Options {
        level,
        network: network.into(),
        threads: 1,
        ..Options::default()
    };
    analyze(car, Some(opts), &mut |_| {})
}

fn code(a: &frc0108::report::Analysis) -> Option<&'static str> {
    a.error.as_ref().map(|e| e.code())
}

#[test]
fn real_chain_is_read_as_lotus_wrote_it() {
    let ts = real_tipsets();
    // Heights 0 to 39, null rounds at 4, 7, 10 and 24 to 27.
    let epochs: Vec<i64> = ts.iter().map(|t| t.0).collect();
    let nulls: Vec<i64> = (0..=39).filter(|e| !epochs.contains(e)).collect();
    assert_eq!(nulls, [4, 7, 10, 24, 25, 26, 27]);
    let three = ts.iter().filter(|t| t.1.len() == 3 * 38).count();
    assert!(three >= 4, "{three} tipsets of three blocks");
}

/// Certificates finalizing the real tipset at epoch 37 (a three-block tipset): valid at every
/// level, and the report says what was checked.
#[test]
fn f3_data_finalizing_the_real_chain_is_consistent() {
    let ts = real_tipsets();
    let upto: Vec<_> = ts.iter().filter(|t| t.0 <= 37).cloned().collect();
    let car = v2_car(&f3_finalizing(&upto, "frc0108-test"));
    for level in [Level::Chain, Level::Crypto] {
        let a = check(&car, level, "frc0108-test");
        assert_eq!(code(&a), None, "{level:?}: {:?}", a.error);
        let c = a.consistency.unwrap();
        assert!(c.checked);
        assert_eq!(c.finalized.as_ref().unwrap().epoch, 37);
        assert_eq!(c.finalized.unwrap().cids().unwrap().len(), 3);
        assert_eq!(c.head.unwrap().epoch, 39);
        assert_eq!(c.tipsets_walked, 2);
        // The tipsets at 37 to 39: six headers (the state object is not one).
        assert_eq!(c.headers_kept, 6);
    }
    // Below `chain` the check does not run.
    let a = check(&car, Level::Import, "frc0108-test");
    assert_eq!(code(&a), None);
    assert!(a.consistency.is_none());
}

/// Calibration net's genesis block: F3 data finalizing it belongs to another chain.
const CALIBNET_GENESIS: &str = "bafy2bzacecyaggy24wol5ruvs6qm73gjibs2l2iyhcqmvi7r7a4ph7zx3yqd4";

/// The real mainnet chain with F3 data finalizing calibration net's genesis tipset at
/// epoch 0: the walk reaches mainnet's genesis there instead.
#[test]
fn f3_data_of_another_chain_is_another_fork() {
    let calib: Cid = CALIBNET_GENESIS.parse().unwrap();
    let car = v2_car(&f3_finalizing(&[(0, calib.to_bytes())], "frc0108-test"));
    // Every other level passes.
    assert_eq!(code(&check(&car, Level::Import, "frc0108-test")), None);
    let a = check(&car, Level::Chain, "frc0108-test");
    assert_eq!(code(&a), Some("consistency-other-fork"), "{:?}", a.error);
    let msg = a.error.unwrap().to_string();
    assert!(msg.contains(CALIBNET_GENESIS), "{msg}");
    // Mainnet's genesis block.
    assert!(
        msg.contains("bafy2bzacecnamqgqmifpluoeldx7zzglxcljo6oja4vrmtj7432rphldpdmm2"),
        "{msg}"
    );
    let c = a.consistency.unwrap();
    assert_eq!(c.tipsets_walked, 32);
}

/// The real tipset at epoch 38 with its blocks listed in another order is not the tipset
/// Lotus names: keys must match byte for byte.
#[test]
fn key_order_matters() {
    let ts = real_tipsets();
    let mut upto: Vec<_> = ts.iter().filter(|t| t.0 <= 38).cloned().collect();
    let last = upto.last_mut().unwrap();
    let mut cids = key_cids(&last.1).unwrap();
    assert!(cids.len() >= 2);
    cids.reverse();
    last.1 = cids.iter().flat_map(|c| c.to_bytes()).collect();
    let a = check(&v2_car(&f3_finalizing(&upto, "n")), Level::Chain, "n");
    assert_eq!(code(&a), Some("consistency-other-fork"));
    assert!(a.error.unwrap().to_string().contains("another order"));
}

/// Mainnet's real first ten certificates (instances 0 to 9, epochs 4,919,580 to 4,919,771),
/// exported as go-f3 exports them, joined with the real chain of epochs 0 to 39: valid F3
/// data, a valid chain, and a snapshot that is not consistent.
#[test]
fn real_mainnet_certificates_with_the_real_chain() {
    let f3 = real_mainnet_f3();
    // go-f3's export of the same certificates has this CID (shared/real-data/README.md).
    assert_eq!(
        f3.1.to_string(),
        "bafk2bzaceag56eznuqwekomqjstvvpnox24knrpnvevuujtxkuwblruf4dmp2"
    );
    let car = v2_car(&f3);
    let filecoin = frc0108::networks::by_name("filecoin").unwrap().network();
    let opts = |level| Options {
        level,
        network: filecoin.name.clone(),
        manifest: Manifest {
            initial_instance: Some(filecoin.initial_instance),
            initial_power_table: filecoin.initial_power_table,
        },
        threads: 1,
        ..Options::default()
    };
    let a = analyze(&car[..], Some(opts(Level::Import)), &mut |_| {});
    assert_eq!(code(&a), None, "{:?}", a.error);
    // At `crypto` every signature verifies first (mainnet's real BLS aggregates).
    for level in [Level::Chain, Level::Crypto] {
        let a = analyze(&car[..], Some(opts(level)), &mut |_| {});
        assert_eq!(
            code(&a),
            Some("consistency-finalized-above-head"),
            "{level:?}"
        );
        let c = a.consistency.unwrap();
        assert_eq!(c.finalized.unwrap().epoch, 4_919_771);
        assert_eq!(c.head.unwrap().epoch, 39);
    }
}

fn real_data(name: &str) -> serde_json::Value {
    let p = root().join("../shared/real-data").join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: ../shared/real-data must sit beside the repository",
            p.display()
        )
    });
    serde_json::from_slice(&bytes).unwrap()
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    v.as_str()
        .map(|s| base64::engine::general_purpose::STANDARD.decode(s).unwrap())
        .unwrap_or_default()
}

fn cid(v: &serde_json::Value) -> Cid {
    v["/"].as_str().unwrap().parse().unwrap()
}

/// The F3 data go-f3's certstore exports for mainnet's first ten certificates, built from
/// Lotus's RPC JSON of them and the network's initial power table.
fn real_mainnet_f3() -> (Vec<u8>, Cid) {
    let table = real_data("filecoin-initial-power-table.json");
    let entries = table
        .as_array()
        .unwrap()
        .iter()
        .map(|e| PowerEntry {
            id: e["ID"].as_u64().unwrap(),
            power: e["Power"].as_str().unwrap().parse::<BigInt>().unwrap(),
            pub_key: b64(&e["PubKey"]),
        })
        .collect();
    let certs: Vec<FinalityCertificate> = real_data("filecoin-certificates-0-9.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            // RLE runs, alternately unset and set, starting with unset.
            let mut signers = Vec::new();
            let mut at = 0u64;
            for (i, run) in c["Signers"].as_array().unwrap().iter().enumerate() {
                let run = run.as_u64().unwrap();
                if i % 2 == 1 {
                    signers.extend(at..at + run);
                }
                at += run;
            }
            let ec_chain = c["ECChain"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| TipSet {
                    epoch: t["Epoch"].as_i64().unwrap(),
                    key: t["Key"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .flat_map(|k| cid(k).to_bytes())
                        .collect(),
                    power_table: cid(&t["PowerTable"]),
                    commitments: b64(&t["Commitments"]).try_into().unwrap(),
                })
                .collect();
            let deltas = c["PowerTableDelta"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .map(|d| PowerTableDelta {
                            participant_id: d["ParticipantID"].as_u64().unwrap(),
                            power_delta: d["PowerDelta"].as_str().unwrap().parse().unwrap(),
                            signing_key: b64(&d["SigningKey"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            FinalityCertificate {
                instance: c["GPBFTInstance"].as_u64().unwrap(),
                ec_chain: Some(ec_chain),
                supplemental_data: SupplementalData {
                    commitments: b64(&c["SupplementalData"]["Commitments"])
                        .try_into()
                        .unwrap(),
                    power_table: cid(&c["SupplementalData"]["PowerTable"]),
                },
                signers: Signers::from_indexes(signers),
                signature: b64(&c["Signature"]),
                power_table_delta: deltas,
            }
        })
        .collect();
    let header = F3SnapshotHeader {
        version: 1,
        first_instance: 0,
        latest_instance: 9,
        initial_power_table: PowerEntries(entries),
    };
    frc0108::f3data::encode(&header, &certs)
}

/// The reference for a merge: a chain CAR (here the real v1 file) against the finalized
/// tipset of the F3 data to be joined with it.
#[test]
fn check_car_takes_a_v1_chain() {
    let bytes = std::fs::read(root().join("tests/data/export40-headers.car")).unwrap();
    let ts = real_tipsets();
    let at_33 = ts.iter().find(|t| t.0 == 33).unwrap();
    let finalized = TipsetRef {
        epoch: at_33.0,
        key: at_33.1.clone(),
    };
    let c = check_car(&bytes[..], &finalized).unwrap();
    assert!(c.checked);
    assert_eq!(c.tipsets_walked, 6);
    let calib: Cid = CALIBNET_GENESIS.parse().unwrap();
    let other = TipsetRef {
        epoch: 0,
        key: calib.to_bytes(),
    };
    let e = check_car(&bytes[..], &other).unwrap_err();
    assert_eq!(e.code(), "consistency-other-fork");
    let above = TipsetRef {
        epoch: 40,
        key: calib.to_bytes(),
    };
    let e = check_car(&bytes[..], &above).unwrap_err();
    assert_eq!(e.code(), "consistency-finalized-above-head");
}

/// The lag bound: a head exactly 900 epochs above the finalized tipset is checked, 901 is
/// too far.
#[test]
fn lag_bound() {
    use frc0108::chain::build::{ChainBuilder, Style};
    for (gap, ok) in [(MAX_LAG, true), (MAX_LAG + 1, false)] {
        let mut c = ChainBuilder::new(1, Style::Compact, vec![]);
        c.push(10, 2);
        c.push(10 + gap, 1);
        let fin = &c.tipsets()[0];
        let mut checker = Checker::new(TipsetRef {
            epoch: fin.epoch,
            key: fin.key(),
        });
        let head = c.tipsets()[1].cids();
        checker.set_head(&head);
        for (cid, data) in c.export_order() {
            checker.block(&cid, &data, 0).unwrap();
        }
        let r = checker.finish();
        assert_eq!(r.is_ok(), ok, "gap {gap}: {r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().code(), "consistency-too-far");
        }
    }
}

/// The memory bound: headers that share their tipset's parent list cost little (20,000 are
/// held), headers with distinct long parent lists reach the bound and are refused when the one
/// over it arrives, at its offset.
#[test]
fn memory_bound() {
    use frc0108::chain::build::{encode_header, ChainBuilder, Style};
    use frc0108::chain::consistency::{KEPT_HEADER_COST, MAX_KEPT_BYTES};
    let mut c = ChainBuilder::new(2, Style::Compact, vec![]);
    c.push(500, 1);
    let fin = c.tipsets()[0].clone();
    let mut fields = c.fields(600, fin.cids());
    let new_checker = || {
        let mut checker = Checker::new(TipsetRef {
            epoch: fin.epoch,
            key: fin.key(),
        });
        checker.set_head(&fin.cids());
        checker
    };
    let header = |fields: &frc0108::chain::build::HeaderFields| {
        let data = encode_header(fields);
        (frc0108::cids::cid_of(frc0108::cids::DAG_CBOR, &data), data)
    };

    let mut checker = new_checker();
    for i in 0..20_000u64 {
        fields.timestamp = i;
        let (cid, data) = header(&fields);
        checker.block(&cid, &data, i).unwrap();
    }
    assert_eq!(checker.summary().headers_kept, 20_000);

    let mut checker = new_checker();
    let per_header = KEPT_HEADER_COST + 100 * 38;
    let fits = (MAX_KEPT_BYTES / per_header) as u64;
    for i in 0..=fits {
        fields.parents = (0..100u64)
            .map(|j| frc0108::cids::cid_of(frc0108::cids::DAG_CBOR, &(i * 100 + j).to_le_bytes()))
            .collect();
        let (cid, data) = header(&fields);
        let r = checker.block(&cid, &data, i);
        if i < fits {
            r.unwrap();
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.code(), "consistency-too-far");
            assert_eq!(e.location.offset, Some(i));
        }
    }
    assert_eq!(checker.summary().headers_kept, fits);
}

/// On random chains: F3 data finalizing any tipset within reach of the head is consistent
/// whatever the order of the chain blocks in the CAR; without one of the headers from the
/// finalized tipset up, it is not (or the head itself is missing).
#[test]
fn random_chains_in_any_order() {
    use frc0108::chain::build::{ChainBuilder, Style};
    use frc0108::synth::Rng;
    let mut rng = Rng::new(16);
    for seed in 0..24 {
        let chain = ChainBuilder::synthetic(seed, Style::Compact, 30);
        let ts = chain.tipsets();
        let i = rng.below(ts.len() as u64) as usize;
        let finalized: Vec<(i64, Vec<u8>)> = ts[..=i].iter().map(|t| (t.epoch, t.key())).collect();
        let p = Params {
            seed,
            instances: 3,
            ..Params::default()
        };
        let (header, certs) = build_finalizing(&p, &finalized);
        let (f3, f3_cid) = frc0108::f3data::encode(&header, &certs);
        let head = ts.last().unwrap().cids();
        let mut blocks = chain.export_order();
        for j in (1..blocks.len()).rev() {
            blocks.swap(j, rng.below(j as u64 + 1) as usize);
        }
        let car = |blocks: &[(Cid, Vec<u8>)]| {
            write_v2_snapshot(Vec::new(), &head, Some((&f3_cid, &f3)), blocks)
                .unwrap()
                .0
        };
        let a = check(&car(&blocks), Level::Chain, "");
        assert_eq!(code(&a), None, "seed {seed}: {:?}", a.error);
        let c = a.consistency.unwrap();
        assert_eq!(c.finalized.unwrap().epoch, ts[i].epoch);
        assert_eq!(c.tipsets_walked, (ts.len() - 1 - i) as u64);

        let kept: Vec<usize> = (0..blocks.len())
            .filter(|&j| ts[i..].iter().any(|t| t.cids().contains(&blocks[j].0)))
            .collect();
        let drop = kept[rng.below(kept.len() as u64) as usize];
        let mut fewer = blocks.clone();
        let gone = fewer.remove(drop).0;
        let a = check(&car(&fewer), Level::Chain, "");
        let want = if head.contains(&gone) {
            "car-block-missing"
        } else {
            "consistency-finalized-missing"
        };
        assert_eq!(code(&a), Some(want), "seed {seed}: {:?}", a.error);
    }
}

/// `merge` runs the consistency check before writing: a real chain joined with F3 data that
/// finalizes another chain's tipset (calibration net's genesis) is refused with the check's
/// code and nothing is written, even with `--force`; `--allow-inconsistent` writes it with a warning, and `check` gives the
/// output the verdict `merge` gave the inputs. F3 data that finalizes the chain's own tipsets
/// merges into a snapshot valid at the crypto level.
#[test]
fn merge_refuses_f3_data_of_another_chain() {
    let bin = env!("CARGO_BIN_EXE_frc0108");
    let dir = tempfile::tempdir().unwrap();
    let chain = root().join("tests/data/export40-headers.car");
    let network = "frc0108-test";
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();

    let calib: Cid = CALIBNET_GENESIS.parse().unwrap();
    let other = dir.path().join("other.f3");
    std::fs::write(&other, f3_finalizing(&[(0, calib.to_bytes())], network).0).unwrap();
    let out = dir.path().join("out.car");
    let (chain, other, out_s) = (
        chain.to_str().unwrap(),
        other.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let merged = run(&["merge", "--v1", chain, "--f3", other, "--out", out_s]);
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert_eq!(merged.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("consistency-other-fork"), "{stderr}");
    assert!(!out.exists(), "a refused merge leaves no output");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );

    // --force only replaces outputs; it does not let an inconsistent snapshot through.
    let forced = run(&[
        "merge", "--force", "--v1", chain, "--f3", other, "--out", out_s,
    ]);
    assert_eq!(forced.status.code(), Some(1));
    assert!(!out.exists());
    let forced = run(&[
        "merge",
        "--allow-inconsistent",
        "--v1",
        chain,
        "--f3",
        other,
        "--out",
        out_s,
    ]);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert_eq!(forced.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning") && stderr.contains("consistency-other-fork"),
        "{stderr}"
    );
    let checked = run(&["check", "--json", "--network", network, out_s]);
    assert_eq!(checked.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(v["errors"][0]["code"], "consistency-other-fork", "{v}");

    let own = dir.path().join("own.f3");
    let tipsets = real_tipsets();
    let upto: Vec<_> = tipsets.iter().filter(|(e, _)| *e <= 37).cloned().collect();
    std::fs::write(&own, f3_finalizing(&upto, network).0).unwrap();
    let good = dir.path().join("good.car");
    let merged = run(&[
        "merge",
        "--v1",
        chain,
        "--f3",
        own.to_str().unwrap(),
        "--out",
        good.to_str().unwrap(),
    ]);
    assert_eq!(
        merged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let checked = run(&[
        "check",
        "--json",
        "--network",
        network,
        good.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(checked.status.code(), Some(0), "{v}");
    assert_eq!(v["level"], "crypto");
    assert_eq!(v["consistency"]["checked"], true, "{v}");
}
