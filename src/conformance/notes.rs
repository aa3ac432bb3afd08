//! The flags a case carries: the rule classes it concerns, so that a runner can skip a class
//! it does not implement.

use serde::{Deserialize, Serialize};

/// A rule class a case concerns; a runner can skip a class it does not implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Flag {
    /// The uvarint length prefix of a block.
    LengthPrefix,
    /// The CBOR encoding of a block.
    Cbor,
    /// A CID inside a block.
    Cid,
    /// The Filecoin big integer encoding.
    BigInt,
    /// The RLE+ signer bitfield.
    Bitfield,
    /// One of go-f3's size limits.
    SizeLimit,
    /// The certificate sequence against the header.
    Sequence,
    /// The F3 snapshot header.
    Header,
    /// The header's initial power table.
    PowerTable,
    /// A power table delta.
    PowerDelta,
    /// `SupplementalData.PowerTable` against the computed table.
    PowerTableCid,
    /// A rule go-f3's import checks only at its power-table checkpoints.
    Checkpoint,
    /// A certificate's ECChain.
    EcChain,
    /// Needs BLS signature verification to judge.
    Signature,
    /// The CAR container or the v2 snapshot layout.
    Car,
    /// zstd-compressed input.
    Zstd,
    /// go-f3 accepts it on import.
    GoF3Lenient,
    /// go-f3's import (or Lotus's around it) crashes on it.
    GoF3Crash,
    /// go-f3 allocates the declared block length.
    GoF3Allocates,
}

impl Flag {
    /// Every flag, in the order the manifest and the README list them.
    pub const ALL: [Flag; 19] = [
        Flag::LengthPrefix,
        Flag::Cbor,
        Flag::Cid,
        Flag::BigInt,
        Flag::Bitfield,
        Flag::SizeLimit,
        Flag::Sequence,
        Flag::Header,
        Flag::PowerTable,
        Flag::PowerDelta,
        Flag::PowerTableCid,
        Flag::Checkpoint,
        Flag::EcChain,
        Flag::Signature,
        Flag::Car,
        Flag::Zstd,
        Flag::GoF3Lenient,
        Flag::GoF3Crash,
        Flag::GoF3Allocates,
    ];

    /// The flag's name in the manifest and for `--skip-flag`.
    pub fn name(self) -> &'static str {
        match self {
            Flag::LengthPrefix => "LengthPrefix",
            Flag::Cbor => "Cbor",
            Flag::Cid => "Cid",
            Flag::BigInt => "BigInt",
            Flag::Bitfield => "Bitfield",
            Flag::SizeLimit => "SizeLimit",
            Flag::Sequence => "Sequence",
            Flag::Header => "Header",
            Flag::PowerTable => "PowerTable",
            Flag::PowerDelta => "PowerDelta",
            Flag::PowerTableCid => "PowerTableCid",
            Flag::Checkpoint => "Checkpoint",
            Flag::EcChain => "EcChain",
            Flag::Signature => "Signature",
            Flag::Car => "Car",
            Flag::Zstd => "Zstd",
            Flag::GoF3Lenient => "GoF3Lenient",
            Flag::GoF3Crash => "GoF3Crash",
            Flag::GoF3Allocates => "GoF3Allocates",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names `name()` gives (README, `--skip-flag`) are the ones serde writes.
    #[test]
    fn names_are_the_serialized_names() {
        for f in Flag::ALL {
            assert_eq!(
                serde_json::to_value(f).ok(),
                Some(serde_json::json!(f.name()))
            );
        }
    }
}
