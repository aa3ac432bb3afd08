//! The borrowed certificate view against the owned decoder: the same verdict on every block,
//! the same error (code, offset, field path) on every rejected one, the same values on every
//! accepted one. Blocks come from the whole corpus (`vectors/`, every case and fixture, which
//! are also the fuzz seeds), the fuzz regressions, and random mutations of those blocks.

use std::path::PathBuf;

use frc0108::f3data::F3DataReader;
use frc0108::fuzzing::{blocks, certificate_view, seed_files};
use frc0108::validate::{Level, Options, Summary, Validator};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every certificate block of every file under `vectors/` and `fuzz/regressions/`, once each.
fn corpus_blocks() -> Vec<Vec<u8>> {
    let mut files = seed_files(&root().join("vectors"));
    files.extend(seed_files(&root().join("fuzz/regressions")));
    let mut out = std::collections::BTreeSet::new();
    for p in files {
        let data = std::fs::read(&p).unwrap();
        for (kind, block) in blocks(&data) {
            if kind == "certificate" {
                out.insert(block);
            }
        }
    }
    out.into_iter().collect()
}

fn pool() -> &'static [Vec<u8>] {
    static POOL: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    POOL.get_or_init(corpus_blocks)
}

#[test]
fn every_corpus_block_reads_the_same() {
    let blocks = pool();
    // The corpus holds thousands of certificates (the go-f3 fixtures), the invalid cases among
    // them; a small count would mean the files were not found.
    assert!(blocks.len() > 1000, "only {} blocks", blocks.len());
    for b in blocks {
        certificate_view(b);
    }
    // Whole files read as one block, too: almost all rejected, each with the same error.
    for p in seed_files(&root().join("vectors")) {
        certificate_view(&std::fs::read(&p).unwrap());
    }
}

/// Bytes that matter to CBOR and to the schema: headers of each size, `null`, tag 42,
/// indefinite lengths, reserved values, array and byte-string headers.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x40, 0x41, 0x57, 0x58, 0x59, 0x5f,
    0x60, 0x80, 0x81, 0x83, 0x84, 0x86, 0x98, 0x99, 0x9f, 0xa0, 0xd8, 0x2a, 0xf6, 0xf7, 0xff,
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    SetInteresting(usize, usize),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    /// Copies a span of the block over another place.
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>();
    prop_oneof![
        (i, 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        (i, any::<u8>()).prop_map(|(i, x)| Mutation::Set(i, x)),
        (i, any::<usize>()).prop_map(|(i, x)| Mutation::SetInteresting(i, x)),
        (i, any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        i.prop_map(Mutation::Delete),
        i.prop_map(Mutation::Truncate),
        (i, i, 1usize..64).prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
    ]
}

fn apply(b: &mut Vec<u8>, m: &Mutation) {
    let n = b.len().max(1);
    match *m {
        Mutation::Flip(i, x) => {
            if let Some(v) = b.get_mut(i % n) {
                *v ^= x;
            }
        }
        Mutation::Set(i, x) => {
            if let Some(v) = b.get_mut(i % n) {
                *v = x;
            }
        }
        Mutation::SetInteresting(i, x) => {
            if let Some(v) = b.get_mut(i % n) {
                *v = INTERESTING[x % INTERESTING.len()];
            }
        }
        Mutation::Insert(i, x) => b.insert(i % (b.len() + 1), x),
        Mutation::Delete(i) => {
            if !b.is_empty() {
                b.remove(i % n);
            }
        }
        Mutation::Truncate(i) => b.truncate(i % n),
        Mutation::Splice(from, to, len) => {
            let from = from % n;
            let span: Vec<u8> = b.iter().skip(from).take(len).copied().collect();
            let to = to % n;
            for (k, x) in span.into_iter().enumerate() {
                if let Some(v) = b.get_mut(to + k) {
                    *v = x;
                }
            }
        }
    }
}

/// Where each CBOR item of a well-formed block starts, and for byte strings where their bytes
/// start: the places structure-aware mutations aim at.
fn items(block: &[u8]) -> (Vec<usize>, Vec<usize>) {
    let mut d = frc0108::cbor::Decoder::new(block);
    let (mut heads, mut payloads) = (Vec::new(), Vec::new());
    while d.position() < block.len() {
        heads.push(d.position());
        let Ok((major, arg)) = d.header() else { break };
        if major == 2 || major == 3 {
            payloads.push(d.position());
            d.skip(arg as usize);
        }
    }
    (heads, payloads)
}

/// A change at an item: its header written in a longer form, its major type changed, or one of
/// its first bytes of payload (a big integer's sign or leading byte, a bitfield's first bits,
/// a CID's prefix) set to a chosen value.
#[derive(Debug, Clone)]
enum Aimed {
    LongerHeader(usize),
    OtherMajor(usize, u8),
    Payload(usize, usize, u8),
}

fn aimed() -> impl Strategy<Value = Aimed> {
    prop_oneof![
        any::<usize>().prop_map(Aimed::LongerHeader),
        (any::<usize>(), 0u8..8).prop_map(|(i, m)| Aimed::OtherMajor(i, m)),
        (
            any::<usize>(),
            0usize..3,
            prop_oneof![
                Just(0u8),
                Just(1),
                Just(2),
                Just(0x80),
                Just(0xff),
                any::<u8>()
            ]
        )
            .prop_map(|(i, k, v)| Aimed::Payload(i, k, v)),
    ]
}

fn apply_aimed(b: &mut Vec<u8>, m: &Aimed) {
    let (heads, payloads) = items(b);
    match *m {
        Aimed::LongerHeader(i) if !heads.is_empty() => {
            let at = heads[i % heads.len()];
            let initial = b[at];
            if initial & 0x1f < 24 {
                b[at] = (initial & 0xe0) | 24;
                b.insert(at + 1, initial & 0x1f);
            } else if initial & 0x1f == 24 {
                b[at] = (initial & 0xe0) | 25;
                b.insert(at + 1, 0);
            }
        }
        Aimed::OtherMajor(i, m) if !heads.is_empty() => {
            let at = heads[i % heads.len()];
            b[at] = (b[at] & 0x1f) | (m << 5);
        }
        Aimed::Payload(i, k, v) if !payloads.is_empty() => {
            let at = payloads[i % payloads.len()] + k;
            if let Some(x) = b.get_mut(at) {
                *x = v;
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Mutations aimed at the items of corpus blocks: headers in longer forms, other types,
    /// payloads starting otherwise.
    #[test]
    fn aimed_mutations_read_the_same(
        pick in any::<prop::sample::Index>(),
        ms in proptest::collection::vec(aimed(), 1..3),
    ) {
        let blocks = pool();
        let mut b = blocks[pick.index(blocks.len())].clone();
        for m in &ms {
            apply_aimed(&mut b, m);
        }
        certificate_view(&b);
    }

    /// Random mutations of corpus blocks: both decoders agree on every one.
    #[test]
    fn mutated_blocks_read_the_same(
        pick in any::<prop::sample::Index>(),
        ms in proptest::collection::vec(mutation(), 1..4),
    ) {
        let blocks = pool();
        let mut b = blocks[pick.index(blocks.len())].clone();
        for m in &ms {
            apply(&mut b, m);
        }
        certificate_view(&b);
    }

    /// Short random byte strings, most rejected early, each with the same error.
    #[test]
    fn random_bytes_read_the_same(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        certificate_view(&bytes);
    }
}

/// One F3 stream through the validator, every certificate owned or every one a view; the
/// outcome (summary, or error with its location) and the certificates accepted.
fn validate(data: &[u8], level: Level, views: bool) -> (Result<Summary, frc0108::Error>, u64) {
    let mut r = match F3DataReader::new(data) {
        Ok(r) => r,
        Err(e) => return (Err(e), 0),
    };
    let opts = Options {
        level,
        threads: 1,
        ..Options::default()
    };
    let mut v = match Validator::new(opts, r.header()) {
        Ok(v) => v,
        Err(e) => return (Err(e), 0),
    };
    let mut step = || -> Result<(), frc0108::Error> {
        if views {
            while let Some(b) = r.next_view() {
                v.certificate_view(&b?)?;
            }
        } else {
            for b in r.by_ref() {
                v.certificate(&b?)?;
            }
        }
        Ok(())
    };
    let r = step().and_then(|()| v.finish());
    (r, v.certificates())
}

fn same_verdicts(data: &[u8]) {
    for level in [Level::Structure, Level::Import, Level::Chain] {
        let owned = validate(data, level, false);
        let view = validate(data, level, true);
        assert_eq!(owned, view, "level {}", level.name());
    }
}

/// The validator reaches the same verdict, with the same error, on views as on owned
/// certificates: every F3 stream of the corpus at every level below `crypto`.
#[test]
fn validator_reads_views_as_it_reads_owned_certificates() {
    let mut streams = 0;
    for p in seed_files(&root().join("vectors")) {
        let data = std::fs::read(&p).unwrap();
        if F3DataReader::new(&data[..]).is_ok() {
            same_verdicts(&data);
            streams += 1;
        }
    }
    assert!(streams > 50, "only {streams} F3 streams");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Synthetic chains with semantic mutations (the structure-aware fuzz target's), which
    /// reach the sequence, chain, delta and commitment rules.
    #[test]
    fn validator_agrees_on_mutated_chains(bytes in proptest::collection::vec(any::<u8>(), 64..256)) {
        let mut u = arbitrary::Unstructured::new(&bytes);
        if let Ok(case) = <frc0108::fuzzing::structured::Case as arbitrary::Arbitrary>::arbitrary(&mut u) {
            same_verdicts(&frc0108::fuzzing::structured::build(&case));
        }
    }
}
