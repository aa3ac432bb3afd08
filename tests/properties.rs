//! Properties of the codec over generated values and whole generated snapshots:
//! value → bytes → value, bytes → value → bytes, chunking does not change what is read, and
//! every truncation is an error (or, at a block boundary, a shorter stream `check` rejects).

use std::io::Read;

use frc0108::f3data::{self, F3DataReader};
use frc0108::report::analyze;
use frc0108::synth;
use frc0108::types::*;
use frc0108::validate::{Level, Options};
use num_bigint::BigInt;
use proptest::prelude::*;

fn bigint() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        any::<i64>().prop_map(BigInt::from),
        any::<i128>().prop_map(BigInt::from),
        (
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..127)
        )
            .prop_map(|(neg, mag)| {
                let v = BigInt::from_bytes_be(num_bigint::Sign::Plus, &mag);
                if neg {
                    -v
                } else {
                    v
                }
            }),
    ]
}

fn cid() -> impl Strategy<Value = cid::Cid> {
    any::<[u8; 32]>().prop_map(|d| frc0108::cids::cid_from_digest(frc0108::cids::DAG_CBOR, &d))
}

fn power_entry() -> impl Strategy<Value = PowerEntry> {
    (
        any::<u64>(),
        bigint(),
        proptest::collection::vec(any::<u8>(), 0..=48),
    )
        .prop_map(|(id, power, pub_key)| PowerEntry { id, power, pub_key })
}

fn tipset() -> impl Strategy<Value = TipSet> {
    (
        any::<i64>(),
        proptest::collection::vec(any::<u8>(), 0..120),
        cid(),
        any::<[u8; 32]>(),
    )
        .prop_map(|(epoch, key, power_table, commitments)| TipSet {
            epoch,
            key,
            power_table,
            commitments,
        })
}

fn delta() -> impl Strategy<Value = PowerTableDelta> {
    (
        any::<u64>(),
        bigint(),
        proptest::collection::vec(any::<u8>(), 0..=48),
    )
        .prop_map(
            |(participant_id, power_delta, signing_key)| PowerTableDelta {
                participant_id,
                power_delta,
                signing_key,
            },
        )
}

fn certificate() -> impl Strategy<Value = FinalityCertificate> {
    (
        any::<u64>(),
        proptest::option::of(proptest::collection::vec(tipset(), 0..4)),
        (any::<[u8; 32]>(), cid()),
        proptest::collection::btree_set(0u64..5000, 0..50),
        proptest::collection::vec(any::<u8>(), 0..120),
        proptest::collection::vec(delta(), 0..4),
    )
        .prop_map(
            |(
                instance,
                ec_chain,
                (commitments, power_table),
                signers,
                signature,
                power_table_delta,
            )| {
                FinalityCertificate {
                    instance,
                    ec_chain,
                    supplemental_data: SupplementalData {
                        commitments,
                        power_table,
                    },
                    signers: Signers::from_indexes(signers),
                    signature,
                    power_table_delta,
                }
            },
        )
}

fn header() -> impl Strategy<Value = F3SnapshotHeader> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        proptest::collection::vec(power_entry(), 0..6),
    )
        .prop_map(
            |(version, first_instance, latest_instance, t)| F3SnapshotHeader {
                version,
                first_instance,
                latest_instance,
                initial_power_table: PowerEntries(t),
            },
        )
}

fn metadata() -> impl Strategy<Value = SnapshotMetadata> {
    (
        any::<u64>(),
        proptest::collection::vec(cid(), 0..4),
        proptest::option::of(any::<[u8; 32]>()),
    )
        .prop_map(|(version, head_tipset_key, f3)| SnapshotMetadata {
            version,
            head_tipset_key,
            f3_data: f3.map(|d| frc0108::cids::cid_from_digest(frc0108::cids::RAW, &d)),
        })
}

fn round_trip<T: Cbor + PartialEq + std::fmt::Debug>(v: &T) {
    let bytes = v.to_cbor();
    let back = T::from_cbor(&bytes).unwrap_or_else(|e| panic!("{e}: {v:?}"));
    assert_eq!(&back, v);
    assert_eq!(back.to_cbor(), bytes);
}

/// A reader that hands out the input in the given chunk sizes, cycling.
struct Chunked<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    i: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.i % self.sizes.len()].max(1);
        self.i += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn read_all(r: impl Read) -> (F3SnapshotHeader, Vec<FinalityCertificate>, cid::Cid) {
    let mut reader = F3DataReader::new(r).unwrap();
    let header = reader.header().value.clone();
    let certs: Vec<_> = reader.by_ref().map(|b| b.unwrap().value).collect();
    (header, certs, reader.cid())
}

fn params() -> impl Strategy<Value = synth::Params> {
    // First instances near the end of the range too: the last one is then u64::MAX.
    let first = prop_oneof![0u64..3000, u64::MAX - 30..=u64::MAX];
    (any::<u64>(), 1usize..12, 1u64..25, first, 0u64..=100).prop_map(
        |(seed, participants, instances, first_instance, churn_percent)| synth::Params {
            seed,
            participants,
            instances,
            first_instance,
            churn_percent,
            ..Default::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn power_entries_round_trip(v in proptest::collection::vec(power_entry(), 0..8)) {
        round_trip(&PowerEntries(v));
    }

    #[test]
    fn tipset_round_trip(v in tipset()) { round_trip(&v); }

    #[test]
    fn delta_round_trip(v in delta()) { round_trip(&v); }

    #[test]
    fn certificate_round_trip(v in certificate()) { round_trip(&v); }

    #[test]
    fn header_round_trip(v in header()) { round_trip(&v); }

    #[test]
    fn metadata_round_trip(v in metadata()) { round_trip(&v); }

    /// Any bytes that decode re-encode to themselves.
    #[test]
    fn accepted_bytes_re_encode(v in certificate(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = v.to_cbor();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(c) = FinalityCertificate::from_cbor(&bytes) {
            prop_assert_eq!(c.to_cbor(), bytes);
        }
    }

    #[test]
    fn whole_snapshot_round_trip_and_chunking(p in params(), sizes in proptest::collection::vec(1usize..700, 1..8)) {
        let (header, certs) = synth::build(&p);
        let (bytes, cid) = f3data::encode(&header, &certs);
        let (h1, c1, cid1) = read_all(&bytes[..]);
        prop_assert_eq!(&h1, &header);
        prop_assert_eq!(&c1, &certs);
        prop_assert_eq!(cid1, cid);
        let (h2, c2, cid2) = read_all(Chunked { data: &bytes, sizes, i: 0 });
        prop_assert_eq!(h2, h1);
        prop_assert_eq!(c2, c1);
        prop_assert_eq!(cid2, cid);
        // The streaming writer and the in-memory encoder agree.
        let mut w = f3data::F3DataWriter::new(Vec::new(), &header).unwrap();
        for c in &certs { w.write_certificate(c).unwrap(); }
        let (out, wcid) = w.finish().unwrap();
        prop_assert_eq!(out, bytes.clone());
        prop_assert_eq!(wcid, cid);
        // Generated snapshots pass the deepest non-crypto level.
        let a = analyze(&bytes[..], Some(Options::default()), &mut |_| {});
        prop_assert!(a.error.is_none(), "{:?}", a.error);
    }
}

/// Instance u64::MAX is the last there can be: a stream may end there, and a certificate after
/// it is a duplicate (no next instance exists), not an accepted repeat.
#[test]
fn the_largest_instance_ends_the_sequence() {
    let p = synth::Params {
        first_instance: u64::MAX - 1,
        instances: 2,
        churn_percent: 0,
        ..Default::default()
    };
    let (header, certs) = synth::build(&p);
    assert_eq!(certs[1].instance, u64::MAX);
    let ok = f3data::encode(&header, &certs).0;
    let a = analyze(&ok[..], Some(Options::default()), &mut |_| {});
    assert!(a.error.is_none(), "{:?}", a.error);
    let mut again = certs.clone();
    again.push(certs[1].clone());
    let bad = f3data::encode(&header, &again).0;
    let e = analyze(&bad[..], Some(Options::default()), &mut |_| {});
    assert_eq!(e.error.map(|e| e.code()), Some("sequence-duplicate"));
}

/// Cutting a valid snapshot anywhere gives an error, never a panic; a cut exactly at a block
/// boundary gives a shorter stream that `check` rejects.
#[test]
fn every_truncation_is_rejected() {
    for (seed, car) in [(3u64, false), (4, true)] {
        let p = synth::Params {
            seed,
            participants: 5,
            instances: 12,
            ..Default::default()
        };
        let (header, certs) = synth::build(&p);
        let (f3, cid) = f3data::encode(&header, &certs);
        let bytes = if car {
            let (head, block) = frc0108::snapshot::placeholder_block(b"head");
            frc0108::snapshot::write_v2_snapshot(
                Vec::new(),
                &[head],
                Some((&cid, &f3)),
                &[(head, block)],
            )
            .unwrap()
            .0
        } else {
            f3.clone()
        };
        assert!(analyze(&bytes[..], Some(Options::default()), &mut |_| {})
            .error
            .is_none());
        for cut in 0..bytes.len() {
            for level in [Level::Structure, Level::Chain] {
                let opts = Options {
                    level,
                    ..Options::default()
                };
                let a = analyze(&bytes[..cut], Some(opts), &mut |_| {});
                assert!(
                    a.error.is_some(),
                    "cut at {cut} of {} (car: {car}) accepted",
                    bytes.len()
                );
            }
        }
    }
}
