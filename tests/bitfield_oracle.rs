//! The RLE+ codec against fvm_ipld_bitfield, the Filecoin implementation used by the FVM:
//! both encode every set to the same bytes, and the strict decoder accepts exactly the byte
//! strings that fvm_ipld_bitfield decodes and re-encodes to themselves.

use frc0108::bitfield::{self, RunIter, Runs, Summary};
use fvm_ipld_bitfield::BitField;
use proptest::prelude::*;

fn set() -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        proptest::collection::vec(0u64..64, 0..40),
        proptest::collection::vec(0u64..3000, 0..400),
        proptest::collection::vec(any::<u64>().prop_map(|x| x >> 2), 0..5),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn same_encoding_as_fvm(v in set()) {
        let ours = Runs::from_indexes(v.iter().copied());
        let mut theirs = BitField::new();
        for &i in &v { theirs.set(i); }
        let bytes = theirs.to_bytes();
        prop_assert_eq!(ours.encode(), bytes.clone());
        let back = Runs::decode(&bytes).unwrap();
        prop_assert_eq!(back.iter().collect::<Vec<_>>(), theirs.iter().collect::<Vec<_>>());
    }

    #[test]
    fn accepts_exactly_the_canonical_encodings(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
        let canonical = BitField::from_bytes(&bytes).map(|b| b.to_bytes() == bytes).unwrap_or(false);
        let ours = Runs::decode(&bytes);
        prop_assert_eq!(ours.is_ok(), canonical, "{:02x?}: ours {:?}", bytes, ours);
        if let Ok(r) = ours {
            // Canonical encodings are unique, so equal bytes mean equal sets (which may hold
            // billions of indexes here, too many to list).
            prop_assert_eq!(r.encode(), bytes.clone());
        }
    }

    /// Mutations of valid encodings, which reach far more accepted inputs than random bytes.
    #[test]
    fn mutated_encodings_agree(v in set(), at in any::<prop::sample::Index>(), x in 1u8..=255) {
        let mut bytes = Runs::from_indexes(v).encode();
        if bytes.is_empty() { return Ok(()); }
        let i = at.index(bytes.len());
        bytes[i] ^= x;
        let canonical = BitField::from_bytes(&bytes).map(|b| b.to_bytes() == bytes).unwrap_or(false);
        prop_assert_eq!(Runs::decode(&bytes).is_ok(), canonical, "{:02x?}", bytes);
    }

    /// The allocation-free check and the lazy runs agree with the decoder: same verdict, same
    /// error, same set.
    #[test]
    fn check_and_lazy_runs_agree_with_decode(v in set(), at in any::<prop::sample::Index>(), x in any::<u8>(), raw in proptest::collection::vec(any::<u8>(), 0..12)) {
        let mut mutated = Runs::from_indexes(v.clone()).encode();
        if !mutated.is_empty() {
            let i = at.index(mutated.len());
            mutated[i] ^= x;
        }
        for bytes in [Runs::from_indexes(v.clone()).encode(), mutated, raw.clone()] {
            let decoded = Runs::decode(&bytes);
            let checked = bitfield::check(&bytes);
            match (&decoded, &checked) {
                (Ok(r), Ok(s)) => {
                    prop_assert_eq!(*s, Summary { count: r.len(), last: r.last() });
                    let lazy: Vec<u64> = RunIter::new(&bytes).flatten().take(100_000).collect();
                    let owned: Vec<u64> = r.iter().take(100_000).collect();
                    prop_assert_eq!(lazy, owned);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "{:02x?}: decode {:?}, check {:?}", bytes, decoded, checked),
            }
        }
    }
}

/// The one-loop check (with its two-run table) against the run-at-a-time decoder: every
/// string of up to two bytes, and three-byte strings with every middle byte.
#[test]
fn check_agrees_with_runs_exhaustively() {
    let mut inputs: Vec<Vec<u8>> = vec![vec![]];
    for a in 0..=255u8 {
        inputs.push(vec![a]);
        for b in 0..=255u8 {
            inputs.push(vec![a, b]);
        }
    }
    for m in 0..=255u8 {
        for (a, c) in [(0x0c, 0x01), (0x94, 0x80), (0x03, 0x40), (0xfc, 0x05)] {
            inputs.push(vec![a, m, c]);
        }
    }
    for bytes in inputs {
        let mut runs = RunIter::new(&bytes);
        let mut reference = Summary::default();
        let reference = loop {
            match runs.next_run() {
                Ok(Some(r)) => {
                    reference.count += r.end - r.start;
                    reference.last = Some(r.end - 1);
                }
                Ok(None) => break Ok(reference),
                Err(e) => break Err(e),
            }
        };
        assert_eq!(bitfield::check(&bytes), reference, "{bytes:02x?}");
    }
}
