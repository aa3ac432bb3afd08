//! The bodies of the fuzz targets in `fuzz/`, kept in the library so that a plain `cargo test`
//! replays every seed and every past crash through exactly the code the fuzzer runs.
//!
//! Each function must not panic for any input; where a property is checked (round trips), a
//! violation is a panic on purpose, for the fuzzer to catch.

pub mod crypto;

use crate::f3data::{self, F3DataReader};
use crate::types::{Cbor, F3SnapshotHeader, FinalityCertificate};
use crate::validate::{Level, Options};
use crate::view::CertificateRef;

/// Every file under `dir` that can seed a target (not the JSON sidecars or Markdown).
pub fn seed_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !matches!(p.extension().and_then(|e| e.to_str()), Some("json" | "md")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Names of the targets, as in `fuzz/fuzz_targets/`.
pub const TARGETS: &[&str] = &[
    "f3data_stream",
    "certificate",
    "header",
    "car_snapshot",
    "check",
    "round_trip",
    "structured",
    "certificate_view",
];

/// Runs the target `name` on `data`; returns false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "f3data_stream" => f3data_stream(data),
        "certificate" => certificate(data),
        "header" => header(data),
        "car_snapshot" => car_snapshot(data),
        "check" => check(data),
        "round_trip" => round_trip(data),
        "structured" => structured_bytes(data),
        "certificate_view" => certificate_view(data),
        _ => return false,
    }
    true
}

/// Splits an F3 data stream (or the F3 block of a CAR snapshot, found by its header's shape)
/// into `("header" | "certificate", body)` pairs, for seeding the block targets.
pub fn blocks(data: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(mut r) = F3DataReader::new(data) {
        out.push(("header", r.last_block_bytes().to_vec()));
        while let Some(Ok(_)) = r.next() {
            out.push(("certificate", r.last_block_bytes().to_vec()));
        }
    }
    out
}

/// The F3Data stream reader, no validation.
pub fn f3data_stream(data: &[u8]) {
    if let Ok(r) = F3DataReader::new(data) {
        for b in r {
            if b.is_err() {
                break;
            }
        }
    }
}

/// One certificate block; whatever decodes must re-encode to the same bytes.
pub fn certificate(data: &[u8]) {
    if let Ok(c) = FinalityCertificate::from_cbor(data) {
        assert_eq!(
            c.to_cbor(),
            data,
            "certificate does not re-encode to its input"
        );
    }
}

/// One certificate block through both decoders: the borrowed view accepts exactly what the
/// owned decoder accepts, rejects the rest with the same error (code, offset, field), and reads
/// the same values through every accessor.
pub fn certificate_view(data: &[u8]) {
    let owned = FinalityCertificate::from_cbor(data);
    let view = CertificateRef::from_cbor(data);
    // The view's fast path accepts nothing its full decoder does not, and reads it alike.
    let full = CertificateRef::from_cbor_full(data);
    match (&view, &full) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the fast path reads another view"),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("the fast path and the full decoder disagree"),
    }
    let (c, v) = match (owned, view) {
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "the view's error differs from the owned decoder's");
            return;
        }
        (Ok(c), Ok(v)) => (c, v),
        (a, b) => panic!(
            "the decoders disagree: owned {:?}, view {:?}",
            a.map(drop),
            b.map(drop)
        ),
    };
    assert_eq!(v.to_certificate(), c, "the view reads other values");
    assert_eq!(v.encoding(), data);
    assert_eq!(v.instance(), c.instance);
    assert_eq!(v.is_null_chain(), c.ec_chain.is_none());
    assert_eq!(v.tipset_count(), c.tipsets().len() as u64);
    assert!(v
        .tipsets()
        .map(|t| t.to_tipset())
        .eq(c.tipsets().iter().cloned()));
    let encoded = |t: Option<&crate::types::TipSet>| t.map(Cbor::to_cbor);
    assert_eq!(
        v.base_encoding().map(<[u8]>::to_vec),
        encoded(c.tipsets().first())
    );
    assert_eq!(
        v.head_encoding().map(<[u8]>::to_vec),
        encoded(c.tipsets().last())
    );
    assert!(v
        .tipsets()
        .all(|t| t.power_table() == t.to_tipset().power_table));
    let s = v.supplemental_data();
    assert_eq!(s.power_table(), c.supplemental_data.power_table);
    assert_eq!(*s.commitments, c.supplemental_data.commitments);
    let signers = v.signers();
    assert_eq!(signers.rle(), c.signers.to_rle());
    assert_eq!(signers.len(), c.signers.len());
    assert_eq!(signers.is_empty(), c.signers.is_empty());
    assert_eq!(signers.last(), c.signers.last());
    assert!(signers
        .iter()
        .take(1 << 16)
        .eq(c.signers.iter().take(1 << 16)));
    assert_eq!(v.signature(), c.signature);
    assert_eq!(v.delta_count(), c.power_table_delta.len() as u64);
    for (d, o) in v.power_table_delta().zip(&c.power_table_delta) {
        assert_eq!(d.to_delta(), *o);
        assert_eq!(d.power_delta.sign(), o.power_delta.sign());
        assert_eq!(
            d.power_delta.to_i128(),
            num_traits::ToPrimitive::to_i128(&o.power_delta)
        );
    }
}

/// One header block; whatever decodes must re-encode to the same bytes.
pub fn header(data: &[u8]) {
    if let Ok(h) = F3SnapshotHeader::from_cbor(data) {
        assert_eq!(h.to_cbor(), data, "header does not re-encode to its input");
    }
}

/// The whole input path: zstd detection, CAR v1/v2, F3 data, at the `structure` level.
pub fn car_snapshot(data: &[u8]) {
    let opts = Options {
        level: Level::Structure,
        ..Options::default()
    };
    let _ = analyze_fuzz(data, opts);
}

/// [`crate::report::analyze`] with a zstd window bound under the fuzzer's 64 MiB allocation limit: a window
/// of 2^27 bytes is within the library's default but would trip the fuzzer on a legitimate
/// allocation; the code path is the same with a smaller window.
fn analyze_fuzz(data: &[u8], opts: Options) -> crate::report::Analysis {
    let limits = crate::report::Limits {
        zstd_window_log_max: 24,
    };
    crate::report::analyze_limited(data, Some(opts), limits, &mut |_| {})
}

/// `check` at the default level.
pub fn check(data: &[u8]) {
    let _ = analyze_fuzz(data, Options::default());
}

/// A stream the reader accepts re-encodes to itself and decodes again to the same values.
pub fn round_trip(data: &[u8]) {
    let Ok(mut r) = F3DataReader::new(data) else {
        return;
    };
    let h = r.header().clone();
    let mut certs = Vec::new();
    for b in r.by_ref() {
        match b {
            Ok(b) => certs.push(b.value),
            Err(_) => return,
        }
    }
    let (bytes, cid) = f3data::encode(&h.value, &certs);
    assert_eq!(
        bytes, data,
        "accepted stream does not re-encode to its input"
    );
    assert_eq!(cid, r.cid(), "CID differs between reader and writer");
}

/// The structure-aware target on raw bytes (what `cargo test` replays): the bytes are read as
/// an [`structured::Case`] the way `arbitrary` reads them.
pub fn structured_bytes(data: &[u8]) {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(case) = <structured::Case as arbitrary::Arbitrary>::arbitrary(&mut u) {
        structured::run(&case);
    }
}

/// A valid snapshot from a seed, then semantic mutations, so the fuzzer reaches the deep rules
/// (sequence, deltas, power table CIDs, chain links) and not only the parser.
pub mod structured {
    use num_bigint::BigInt;

    use crate::f3data;
    use crate::report::analyze;
    use crate::synth;
    use crate::types::{PowerTableDelta, Signers};
    use crate::validate::Options;

    /// What to build and how to break it.
    #[derive(Debug, Clone, arbitrary::Arbitrary)]
    pub struct Case {
        /// Seed of the base snapshot.
        pub seed: u64,
        /// Participants (1..=16).
        pub participants: u8,
        /// Certificates (1..=40).
        pub instances: u8,
        /// First instance.
        pub first_instance: u16,
        /// Churn percentage.
        pub churn: u8,
        /// Mutations, applied in order.
        pub mutations: Vec<Mutation>,
    }

    /// A semantic change to a certificate chain.
    #[derive(Debug, Clone, arbitrary::Arbitrary)]
    pub enum Mutation {
        /// Remove a certificate.
        Drop(u8),
        /// Exchange two certificates.
        Swap(u8, u8),
        /// Repeat a certificate.
        Duplicate(u8),
        /// Change a certificate's instance.
        ShiftInstance(u8, i8),
        /// Add a delta entry.
        AddDelta(u8, u64, i64, bool),
        /// Remove a delta entry.
        DropDelta(u8, u8),
        /// Change a delta's power.
        EditDeltaPower(u8, u8, i64),
        /// Change the header's LatestInstance.
        ShiftLatest(i8),
        /// Set a signer index.
        AddSigner(u8, u16),
        /// Remove the chain's tipsets after the base.
        TruncateChain(u8),
        /// Change a tipset epoch.
        EditEpoch(u8, u8, i64),
        /// Flip a byte of the encoded stream.
        FlipByte(u16, u8),
    }

    fn pick<T>(v: &mut [T], i: u8) -> Option<&mut T> {
        let len = v.len();
        if len == 0 {
            return None;
        }
        v.get_mut(usize::from(i) % len)
    }

    /// Builds, mutates, encodes and checks; without mutations the snapshot must be valid.
    pub fn run(case: &Case) {
        let bytes = build(case);
        let a = analyze(&bytes[..], Some(Options::default()), &mut |_| {});
        if case.mutations.is_empty() {
            assert!(
                a.error.is_none(),
                "an unmutated synthetic snapshot must be valid: {:?}",
                a.error
            );
        }
    }

    /// The F3 data of a case: the seeded snapshot with its mutations applied.
    pub fn build(case: &Case) -> Vec<u8> {
        let p = synth::Params {
            seed: case.seed,
            participants: usize::from(case.participants % 16) + 1,
            instances: u64::from(case.instances % 40) + 1,
            first_instance: u64::from(case.first_instance),
            churn_percent: u64::from(case.churn % 101),
            ..Default::default()
        };
        let (mut header, mut certs) = synth::build(&p);
        let mut flips = Vec::new();
        for m in case.mutations.iter().take(8) {
            match *m {
                Mutation::Drop(i) => {
                    if !certs.is_empty() {
                        let n = certs.len();
                        certs.remove(usize::from(i) % n);
                    }
                }
                Mutation::Swap(a, b) => {
                    let n = certs.len();
                    if n > 0 {
                        certs.swap(usize::from(a) % n, usize::from(b) % n);
                    }
                }
                Mutation::Duplicate(i) => {
                    if let Some(c) = pick(&mut certs, i).cloned() {
                        let n = certs.len();
                        certs.insert(usize::from(i) % n, c);
                    }
                }
                Mutation::ShiftInstance(i, by) => {
                    if let Some(c) = pick(&mut certs, i) {
                        c.instance = c.instance.wrapping_add_signed(i64::from(by));
                    }
                }
                Mutation::AddDelta(i, id, power, key) => {
                    if let Some(c) = pick(&mut certs, i) {
                        c.power_table_delta.push(PowerTableDelta {
                            participant_id: id % 2000,
                            power_delta: BigInt::from(power),
                            signing_key: if key { vec![7; 48] } else { Vec::new() },
                        });
                    }
                }
                Mutation::DropDelta(i, j) => {
                    if let Some(c) = pick(&mut certs, i) {
                        let n = c.power_table_delta.len();
                        if n > 0 {
                            c.power_table_delta.remove(usize::from(j) % n);
                        }
                    }
                }
                Mutation::EditDeltaPower(i, j, power) => {
                    if let Some(c) = pick(&mut certs, i) {
                        if let Some(d) = pick(&mut c.power_table_delta, j) {
                            d.power_delta = BigInt::from(power);
                        }
                    }
                }
                Mutation::ShiftLatest(by) => {
                    header.latest_instance =
                        header.latest_instance.wrapping_add_signed(i64::from(by));
                }
                Mutation::AddSigner(i, s) => {
                    if let Some(c) = pick(&mut certs, i) {
                        let mut idx: Vec<u64> = c.signers.iter().collect();
                        idx.push(u64::from(s));
                        c.signers = Signers::from_indexes(idx);
                    }
                }
                Mutation::TruncateChain(i) => {
                    if let Some(c) = pick(&mut certs, i) {
                        if let Some(ts) = c.ec_chain.as_mut() {
                            ts.truncate(1);
                        }
                    }
                }
                Mutation::EditEpoch(i, j, epoch) => {
                    if let Some(c) = pick(&mut certs, i) {
                        if let Some(ts) = c.ec_chain.as_mut() {
                            if let Some(t) = pick(ts, j) {
                                t.epoch = epoch;
                            }
                        }
                    }
                }
                Mutation::FlipByte(at, x) => flips.push((at, x)),
            }
        }
        let (mut bytes, _) = f3data::encode(&header, &certs);
        for (at, x) in flips {
            let n = bytes.len();
            if let Some(b) = bytes.get_mut(usize::from(at) % n.max(1)) {
                *b ^= x;
            }
        }
        bytes
    }
}
