//! The RLE+ codec against fvm_ipld_bitfield, the Filecoin implementation used by the FVM:
//! both encode every set to the same bytes, and the strict decoder accepts exactly the byte
//! strings that fvm_ipld_bitfield decodes and re-encodes to themselves.

use frc0108::bitfield::Runs;
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
}
