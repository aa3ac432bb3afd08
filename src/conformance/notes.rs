//! The flags a case carries and what each means, as data: modelled on Project Wycheproof's
//! `notes`, every flag has a bug type (the kind of defect a reader that gets such a case
//! wrong has), a description (the rule concerned) and an effect (what that defect means for a
//! node). The manifest carries them as its `notes` object; vectors/README.md shows them as a
//! table ([`notes_markdown`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The kind of defect a reader that mishandles a case has ([`BugType::description`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BugType {
    /// Bytes that are not the format.
    MalformedInput,
    /// An item beyond a size limit.
    SizeLimit,
    /// Well-formed data that breaks a rule of F3's state.
    InvalidState,
    /// Signatures that do not give finality.
    Signature,
    /// A damaged container.
    Container,
    /// What go-f3 accepts and the rules do not.
    LenientImplementation,
    /// A crash.
    Crash,
    /// Memory sized by a declared length.
    Allocation,
}

impl BugType {
    /// Every bug type, in order.
    pub const ALL: [BugType; 8] = [
        BugType::MalformedInput,
        BugType::SizeLimit,
        BugType::InvalidState,
        BugType::Signature,
        BugType::Container,
        BugType::LenientImplementation,
        BugType::Crash,
        BugType::Allocation,
    ];

    /// The name the manifest uses.
    pub fn name(self) -> &'static str {
        self.data().0
    }

    /// What a reader that gets a case of this type wrong does.
    pub fn description(self) -> &'static str {
        self.data().1
    }

    fn data(self) -> (&'static str, &'static str) {
        match self {
            BugType::MalformedInput => ("MALFORMED_INPUT", "accepts bytes that are not the format (framing, CBOR, CIDs, integers, bitfields), or reads them differently from other readers"),
            BugType::SizeLimit => ("SIZE_LIMIT", "accepts an item beyond one of go-f3's size limits"),
            BugType::InvalidState => ("INVALID_STATE", "accepts well-formed data that breaks a rule of F3's state: the header, the certificate sequence, the power table and its changes, the finalized chain"),
            BugType::Signature => ("SIGNATURE", "accepts certificates whose signatures do not give them finality"),
            BugType::Container => ("CONTAINER", "accepts a damaged container: the CAR, its blocks and their CIDs, the snapshot layout, the compression"),
            BugType::LenientImplementation => ("LENIENT_IMPLEMENTATION", "behaves as go-f3, which accepts what the spec or the canonical encoding rules out"),
            BugType::Crash => ("CRASH", "crashes, as go-f3 or the node around it does"),
            BugType::Allocation => ("ALLOCATION", "allocates memory for a length the input declares before reading it, as go-f3 does"),
        }
    }
}

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
    /// The F3 data against the snapshot's chain of block headers.
    Consistency,
    /// zstd-compressed input.
    Zstd,
    /// go-f3 accepts it on import.
    GoF3Lenient,
    /// go-f3's import (or Lotus's around it) crashes on it.
    GoF3Crash,
    /// go-f3 allocates the declared block length.
    GoF3Allocates,
}

/// What a flag means: the manifest's `notes` entry for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The kind of defect a reader that gets such a case wrong has.
    pub bug_type: BugType,
    /// The rule concerned.
    pub description: String,
    /// What getting it wrong means for a node.
    pub effect: String,
}

impl Flag {
    /// Every flag, in the order the manifest and the README list them.
    pub const ALL: [Flag; 20] = [
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
        Flag::Consistency,
        Flag::Zstd,
        Flag::GoF3Lenient,
        Flag::GoF3Crash,
        Flag::GoF3Allocates,
    ];

    /// The flag's name in the manifest and for `--skip-flag`.
    pub fn name(self) -> &'static str {
        self.data().0
    }

    /// The flag's note.
    pub fn note(self) -> Note {
        let (_, bug_type, description, effect) = self.data();
        Note {
            bug_type,
            description: description.into(),
            effect: effect.into(),
        }
    }

    /// (name, bug type, description, effect).
    fn data(self) -> (&'static str, BugType, &'static str, &'static str) {
        use BugType::*;
        match self {
            Flag::LengthPrefix => ("LengthPrefix", MalformedInput,
                "the uvarint length prefix of a block",
                "the node cuts the stream into blocks differently from other nodes: it reads past a block, takes a cut file as complete, or accepts byte-different files with the same certificates"),
            Flag::Cbor => ("Cbor", MalformedInput,
                "the CBOR encoding of a block (major types, lengths, minimal forms)",
                "the node accepts blocks other nodes refuse, or byte-different encodings of one certificate, so hashes over the file no longer identify its content"),
            Flag::Cid => ("Cid", MalformedInput,
                "a CID inside a block (tag 42, prefix, version, codec, hash)",
                "the node stores and serves a reference that no block of the expected kind can have"),
            Flag::BigInt => ("BigInt", MalformedInput,
                "the Filecoin big integer encoding",
                "the node reads a power from an encoding other nodes refuse, or as a different number"),
            Flag::Bitfield => ("Bitfield", MalformedInput,
                "the RLE+ signer bitfield",
                "the node reads a signer set from a bitfield other nodes refuse or read differently"),
            Flag::SizeLimit => ("SizeLimit", SizeLimit,
                "one of go-f3's size limits (array lengths, byte-string maxlen)",
                "the node accepts an item go-f3's own decoder refuses; one that sizes buffers by such lengths can be made to exhaust its memory"),
            Flag::Sequence => ("Sequence", InvalidState,
                "the certificate sequence against the header",
                "the node stores a certificate chain with a hole, a repeat or an extra instance and serves it as complete"),
            Flag::Header => ("Header", InvalidState,
                "the F3 snapshot header",
                "the node imports a snapshot whose header it cannot vouch for: an unknown version, an impossible instance range, a bad initial power table"),
            Flag::PowerTable => ("PowerTable", InvalidState,
                "the header's initial power table",
                "the node starts from a power table that is not well formed; its CID and every quorum computed from it are in doubt"),
            Flag::PowerDelta => ("PowerDelta", InvalidState,
                "a power table delta, as go-f3's ApplyPowerTableDiffs judges it",
                "the node applies a power change go-f3 refuses and ends up with a power table other nodes do not have"),
            Flag::PowerTableCid => ("PowerTableCid", InvalidState,
                "SupplementalData.PowerTable against the computed table",
                "the node keeps a power table other than the one the certificates commit to, and judges later certificates against the wrong participants"),
            Flag::Checkpoint => ("Checkpoint", InvalidState,
                "a rule go-f3's import checks only at its power-table checkpoints",
                "a node that checks only at checkpoints stores a wrong power table for the instances between them"),
            Flag::EcChain => ("EcChain", InvalidState,
                "a certificate's ECChain",
                "the node stores and serves as final a chain that is empty, not increasing, too long or not linked to the one before"),
            Flag::Signature => ("Signature", Signature,
                "needs BLS signature verification to judge (skip without it)",
                "the node takes certificates that nobody, or too few, signed as final: anyone can forge finality"),
            Flag::Car => ("Car", Container,
                "the CAR container or the v2 snapshot layout",
                "the node imports a snapshot whose blocks do not match their CIDs or whose layout is wrong: a tampered or incomplete snapshot passes"),
            Flag::Consistency => ("Consistency", InvalidState,
                "the F3 data against the snapshot's chain of block headers (no node checks this)",
                "the node imports F3 data that finalizes a tipset its chain does not have, or one far from its head: finality that belongs to another chain, as joining the wrong files produces"),
            Flag::Zstd => ("Zstd", Container,
                "zstd-compressed input",
                "the node reads a compressed snapshot differently, or exhausts memory decompressing it"),
            Flag::GoF3Lenient => ("GoF3Lenient", LenientImplementation,
                "go-f3 accepts this on import; the spec or canonical encoding rules it out",
                "the node follows go-f3 rather than the rules: it stores what a strict implementation refuses, and the two disagree on the same snapshot"),
            Flag::GoF3Crash => ("GoF3Crash", Crash,
                "go-f3's import (or Lotus's snapshot import around it) crashes on this input",
                "one small file takes a node down on import, or at its next start"),
            Flag::GoF3Allocates => ("GoF3Allocates", Allocation,
                "go-f3 allocates the declared block length before reading a byte of it",
                "a small file makes the node reserve as much memory as it declares"),
        }
    }
}

/// Every flag's note, as the manifest's `notes` object.
pub fn notes() -> BTreeMap<Flag, Note> {
    Flag::ALL.iter().map(|&f| (f, f.note())).collect()
}

/// The bug types and the flags as the Markdown tables of vectors/README.md.
pub fn notes_markdown() -> String {
    let mut s = String::from("| bug type | a reader that gets such a case wrong |\n|---|---|\n");
    for b in BugType::ALL {
        s.push_str(&format!("| `{}` | {} |\n", b.name(), b.description()));
    }
    s.push_str("\n| flag | bug type | the rule concerned | effect on a node that gets it wrong |\n|---|---|---|---|\n");
    for f in Flag::ALL {
        let n = f.note();
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} |\n",
            f.name(),
            n.bug_type.name(),
            n.description,
            n.effect
        ));
    }
    s
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
        for b in BugType::ALL {
            assert_eq!(
                serde_json::to_value(b).ok(),
                Some(serde_json::json!(b.name()))
            );
        }
    }

    /// `ALL` lists every flag once, so the notes cover every flag.
    #[test]
    fn every_flag_has_one_note() {
        let n = notes();
        assert_eq!(n.len(), Flag::ALL.len());
        let json = serde_json::to_value(&n).unwrap_or_default();
        assert_eq!(json["GoF3Crash"]["bug_type"], "CRASH");
        assert_eq!(json["Signature"]["bug_type"], "SIGNATURE");
    }
}
