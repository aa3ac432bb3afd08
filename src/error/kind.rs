//! [`ErrorKind`]: every rule an input can break, each with its stable code.

/// Everything that can be wrong with an input, one variant per rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    // --- length-prefixed framing ---
    /// The input ends inside a varint length prefix.
    #[error("length prefix is truncated")]
    VarintTruncated,
    /// A varint with redundant trailing zero groups (Go's ReadUvarint accepts these).
    #[error("length prefix is not minimally encoded")]
    VarintOverlong,
    /// A varint that does not fit in 64 bits.
    #[error("length prefix does not fit in 64 bits")]
    VarintOverflow,
    /// A block whose declared length is zero.
    #[error("block has a declared length of zero")]
    BlockEmpty,
    /// The input ends before the declared block length.
    #[error("block declares {declared} bytes but the input ends after {available}")]
    BlockTruncated {
        /// Declared length.
        declared: u64,
        /// Bytes actually present.
        available: u64,
    },
    /// A declared length larger than any valid block of that kind can encode to.
    #[error(
        "block declares {declared} bytes, more than the {limit} bytes any valid {what} can take"
    )]
    BlockTooLarge {
        /// Declared length.
        declared: u64,
        /// The largest valid encoding.
        limit: u64,
        /// What kind of block was expected.
        what: &'static str,
    },

    // --- CBOR ---
    /// The block ends inside a CBOR item.
    #[error("CBOR item is truncated")]
    CborTruncated,
    /// A CBOR item of the wrong major type (or a wrong simple value).
    #[error("expected {expected}, found {found}")]
    CborUnexpectedType {
        /// What the schema requires.
        expected: &'static str,
        /// What the input has.
        found: &'static str,
    },
    /// An integer or length not in its shortest form.
    #[error("CBOR integer or length is not minimally encoded")]
    CborNonMinimal,
    /// An indefinite-length item (DAG-CBOR and cbor-gen allow only definite lengths).
    #[error("CBOR indefinite-length item")]
    CborIndefiniteLength,
    /// Additional-information values 28..30, reserved by RFC 8949.
    #[error("CBOR reserved additional information {0}")]
    CborReserved(u8),
    /// A tuple struct with the wrong number of fields.
    #[error("{what} must have {expected} fields, found {found}")]
    CborWrongArity {
        /// The struct.
        what: &'static str,
        /// Fields the schema has.
        expected: u64,
        /// Fields in the input.
        found: u64,
    },
    /// Bytes left in a block after its CBOR item.
    #[error("{count} trailing bytes after the CBOR item")]
    CborTrailingBytes {
        /// How many bytes are left.
        count: u64,
    },
    /// A byte string longer than go-f3's schema allows.
    #[error("byte string of {len} bytes exceeds the maximum of {max}")]
    CborBytesTooLong {
        /// Declared length.
        len: u64,
        /// The schema's maximum.
        max: u64,
    },
    /// A fixed-size byte string of the wrong size.
    #[error("byte string must be exactly {expected} bytes, found {len}")]
    CborBytesWrongLength {
        /// Declared length.
        len: u64,
        /// Required length.
        expected: u64,
    },
    /// An array longer than go-f3's schema allows.
    #[error("array of {len} elements exceeds the maximum of {max}")]
    CborArrayTooLong {
        /// Declared length.
        len: u64,
        /// The schema's maximum.
        max: u64,
    },
    /// A map with more entries than the schema allows.
    #[error("map of {len} entries exceeds the maximum of {max}")]
    CborMapTooLong {
        /// Declared number of entries.
        len: u64,
        /// The schema's maximum.
        max: u64,
    },
    /// A signed integer outside the range of int64.
    #[error("integer is outside the range of int64")]
    CborIntegerOverflow,
    /// A map key the schema does not have, or one repeated.
    #[error("unexpected map key {0:?}")]
    CborUnexpectedKey(String),
    /// A map key the schema requires but the input lacks.
    #[error("missing map key {0:?}")]
    CborMissingKey(&'static str),
    /// Map keys not in DAG-CBOR canonical (length-first) order.
    #[error("map keys are not in canonical order")]
    CborKeyOrder,
    /// A text string that is not UTF-8.
    #[error("text string is not valid UTF-8")]
    CborInvalidUtf8,

    // --- CIDs ---
    /// A CID without tag 42, or tag 42 on something that is not a CID.
    #[error("expected a CID (tag 42), found {0}")]
    CidTag(&'static str),
    /// Tag 42 content without the leading 0x00 (identity multibase) byte.
    #[error("CID bytes must start with the 0x00 multibase prefix")]
    CidPrefix,
    /// CID bytes that do not parse as a CID.
    #[error("malformed CID: {0}")]
    CidMalformed(String),
    /// A CID of the wrong version.
    #[error("CID must be version 1, found version {0}")]
    CidVersion(u64),
    /// A CID with the wrong codec.
    #[error("CID must have codec {expected:#x}, found {found:#x}")]
    CidCodec {
        /// Required multicodec.
        expected: u64,
        /// Found multicodec.
        found: u64,
    },
    /// A CID with the wrong multihash.
    #[error("CID must use blake2b-256 (0xb220, 32 bytes), found hash {code:#x} of {size} bytes")]
    CidHash {
        /// Found multihash code.
        code: u64,
        /// Found digest size.
        size: u64,
    },
    /// A CID that does not match the content it names.
    #[error("{what} CID mismatch: expected {expected}, computed {computed}")]
    CidMismatch {
        /// What was named.
        what: &'static str,
        /// The CID the input names.
        expected: String,
        /// The CID of the bytes.
        computed: String,
    },

    // --- Filecoin big integers and bitfields ---
    /// A big integer whose first byte is neither 0x00 nor 0x01.
    #[error("big integer sign byte must be 0x00 or 0x01, found {0:#04x}")]
    BigIntSign(u8),
    /// A big integer with a leading zero magnitude byte, or a sign byte with no magnitude.
    #[error("big integer is not canonical (leading zero byte or sign byte without magnitude)")]
    BigIntNonCanonical,
    /// A big integer encoding longer than Filecoin allows.
    #[error("big integer of {0} bytes exceeds the 128-byte maximum")]
    BigIntTooLong(u64),
    /// An RLE+ bitfield that does not decode.
    #[error("malformed RLE+ bitfield: {0}")]
    BitfieldMalformed(String),
    /// An RLE+ bitfield that decodes but is not in its canonical encoding.
    #[error("RLE+ bitfield is not canonically encoded")]
    BitfieldNonCanonical,

    // --- F3 snapshot header ---
    /// An F3SnapshotHeader version other than 1.
    #[error("F3 snapshot header version must be 1, found {0}")]
    HeaderVersion(u64),
    /// FirstInstance greater than LatestInstance.
    #[error("FirstInstance {first} is greater than LatestInstance {latest}")]
    HeaderInstanceRange {
        /// FirstInstance.
        first: u64,
        /// LatestInstance.
        latest: u64,
    },

    // --- power tables ---
    /// A power table with no entries.
    #[error("power table is empty")]
    PowerTableEmpty,
    /// A power table not in go-f3's order (power descending, then ID ascending).
    #[error("power table is not sorted (power descending, then participant ID ascending) at participant {0}")]
    PowerTableUnsorted(u64),
    /// A participant listed twice.
    #[error("participant {0} appears twice in the power table")]
    PowerTableDuplicate(u64),
    /// An entry with zero or negative power.
    #[error("participant {0} has non-positive power")]
    PowerTableNonPositive(u64),
    /// An entry whose public key is not 48 bytes.
    #[error("participant {0} has a public key of {1} bytes, not 48")]
    PowerTableKeyLength(u64, u64),
    /// The power table's CID differs from the one the certificate commits to.
    #[error("power table CID mismatch: certificate commits to {expected}, computed {computed}")]
    PowerTableCidMismatch {
        /// SupplementalData.PowerTable.
        expected: String,
        /// The CID of the table after applying the delta.
        computed: String,
    },

    /// The header does not start where the network's manifest says (its first instance or its
    /// initial power table differ).
    #[error("snapshot does not match {0}")]
    NetworkMismatch(String),

    // --- power table deltas ---
    /// Deltas not strictly ascending by participant.
    #[error("power table delta is not sorted by participant at participant {0}")]
    DeltaUnsorted(u64),
    /// A delta that changes neither power nor key.
    #[error("power table delta for participant {0} changes nothing")]
    DeltaZero(u64),
    /// A delta that leaves a participant with negative power.
    #[error("power table delta leaves participant {0} with negative power")]
    DeltaNegativePower(u64),
    /// A new participant without a signing key.
    #[error("new participant {0} has no signing key")]
    DeltaNewWithoutKey(u64),
    /// A new participant whose power is not positive.
    #[error("new participant {0} has non-positive power")]
    DeltaNewNonPositive(u64),
    /// A delta that sets the key a participant already has.
    #[error("power table delta sets participant {0}'s key to the key it already has")]
    DeltaUnchangedKey(u64),
    /// A delta that removes a participant and also sets its key.
    #[error("power table delta removes participant {0} and also sets its key")]
    DeltaKeyOnRemoval(u64),

    // --- certificate sequence ---
    /// The F3 data holds no certificate.
    #[error("F3 data holds no finality certificate")]
    SequenceEmpty,
    /// The first certificate is not FirstInstance.
    #[error("first certificate is instance {found}, header says FirstInstance is {expected}")]
    SequenceFirst {
        /// FirstInstance.
        expected: u64,
        /// Instance found.
        found: u64,
    },
    /// A certificate that does not follow its predecessor.
    #[error("certificate for instance {found} where instance {expected} was expected")]
    SequenceGap {
        /// The next instance.
        expected: u64,
        /// Instance found.
        found: u64,
    },
    /// A certificate repeating the one before it.
    #[error("certificate for instance {found} repeats the previous one")]
    SequenceDuplicate {
        /// Instance found.
        found: u64,
    },
    /// A certificate for an instance already passed.
    #[error("certificate for instance {found} comes after instance {previous}")]
    SequenceOutOfOrder {
        /// The instance before it.
        previous: u64,
        /// Instance found.
        found: u64,
    },
    /// A certificate beyond LatestInstance.
    #[error("certificate for instance {found} is beyond LatestInstance {latest}")]
    SequenceBeyondLatest {
        /// LatestInstance.
        latest: u64,
        /// Instance found.
        found: u64,
    },
    /// The stream ends before LatestInstance.
    #[error("F3 data ends at instance {last}, before LatestInstance {latest}")]
    SequenceShort {
        /// Last instance read.
        last: u64,
        /// LatestInstance.
        latest: u64,
    },

    // --- EC chains ---
    /// A certificate with no tipset.
    #[error("certificate's ECChain is empty")]
    ChainEmpty,
    /// A chain whose epochs do not strictly increase.
    #[error("ECChain epochs do not strictly increase at tipset {index}")]
    ChainEpochs {
        /// Index of the offending tipset.
        index: u64,
    },
    /// A chain longer than go-f3 allows.
    #[error("ECChain has {len} tipsets, more than the maximum of {max}")]
    ChainTooLong {
        /// Tipsets.
        len: u64,
        /// Maximum.
        max: u64,
    },
    /// A tipset with an empty key.
    #[error("tipset {index} of the ECChain has an empty key")]
    ChainEmptyKey {
        /// Index of the tipset.
        index: u64,
    },
    /// A chain whose base is not the previous certificate's head.
    #[error("ECChain base is not the previous certificate's head")]
    ChainBase,

    // --- CAR ---
    /// A CAR header that is not the expected map.
    #[error("malformed CAR header: {0}")]
    CarHeader(String),
    /// A CARv1 header version other than 1.
    #[error("CAR header version must be 1, found {0}")]
    CarVersion(u64),
    /// A CAR whose header lists no root.
    #[error("CAR header has no roots")]
    CarNoRoots,
    /// A CARv2 header that is inconsistent.
    #[error("malformed CARv2 header: {0}")]
    Carv2Header(String),
    /// A CAR section that is malformed.
    #[error("malformed CAR section: {0}")]
    CarSection(String),
    /// A CAR ending early.
    #[error("CAR ends before the section it declares")]
    CarTruncated,
    /// SnapshotMetadata version other than 2.
    #[error("SnapshotMetadata version must be 2, found {0}")]
    MetadataVersion(u64),
    /// The first block is not the metadata block the root names.
    #[error("the first CAR section is {found}, not the root {root}")]
    MetadataNotFirst {
        /// The root CID.
        root: String,
        /// The first section's CID.
        found: String,
    },
    /// SnapshotMetadata names F3 data but the next section is not it.
    #[error("metadata names F3 data {expected} but the next section is {found}")]
    F3BlockMissing {
        /// The CID the metadata names.
        expected: String,
        /// What is there instead.
        found: String,
    },
    /// A block the snapshot names (a v1 root, a v2 head tipset block) that is not in the CAR.
    #[error("the {what} {cid} is not in the CAR")]
    CarBlockMissing {
        /// What names it.
        what: &'static str,
        /// Its CID.
        cid: String,
    },
    /// The metadata's HeadTipsetKey is empty.
    #[error("SnapshotMetadata HeadTipsetKey is empty")]
    MetadataEmptyHead,

    // --- signatures (structure-level facts) ---
    /// A signer index beyond the power table.
    #[error("signer index {index} is beyond the power table of {len} entries")]
    SignerOutOfRange {
        /// The index.
        index: u64,
        /// The table size.
        len: u64,
    },

    /// A power table entry whose key is not a valid BLS12-381 G1 point.
    #[error("participant {0}'s public key is not a valid BLS12-381 G1 point")]
    SignatureBadKey(u64),
    /// Signers whose scaled power is not a strong quorum.
    #[error(
        "signers hold {signed} of {total} scaled power, below the strong quorum of two thirds"
    )]
    SignatureQuorum {
        /// Scaled power of the signers.
        signed: u64,
        /// Scaled power of the table.
        total: u64,
    },
    /// A signer with no power after scaling.
    #[error("signer index {0} has no power after scaling")]
    SignatureZeroPower(u64),
    /// An aggregate signature that does not verify.
    #[error("aggregate signature does not verify for network {network:?}")]
    SignatureInvalid {
        /// The network name signed over.
        network: String,
    },
    /// A signature that is not a valid G2 point encoding.
    #[error("signature is not a valid BLS12-381 G2 point: {0}")]
    SignatureMalformed(String),

    /// The F3 data does not finalize a tipset of the snapshot's chain (see
    /// [`crate::chain::consistency`], whose enum holds the codes).
    #[error(transparent)]
    Consistency(Box<crate::chain::consistency::ConsistencyError>),

    // --- input and output ---
    /// Reading the input (or writing the output) failed: the input could not be judged.
    #[error("I/O error: {0}")]
    Io(String),
    /// The zstd stream is corrupt or asks for more than the decoder allows.
    #[error("zstd decompression failed: {0}")]
    Zstd(String),
    /// A bug in this reader, never an input's doing: the input could not be judged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ErrorKind {
    /// Whether this is a verdict on the input (it breaks a rule), rather than a failure to read
    /// or judge it ([`ErrorKind::Io`], [`ErrorKind::Internal`]).
    pub fn is_verdict(&self) -> bool {
        !matches!(self, ErrorKind::Io(_) | ErrorKind::Internal(_))
    }

    /// The stable machine-readable code of this kind of error.
    pub fn code(&self) -> &'static str {
        use ErrorKind::*;
        match self {
            VarintTruncated => "varint-truncated",
            VarintOverlong => "varint-overlong",
            VarintOverflow => "varint-overflow",
            BlockEmpty => "block-empty",
            BlockTruncated { .. } => "block-truncated",
            BlockTooLarge { .. } => "block-too-large",
            CborTruncated => "cbor-truncated",
            CborUnexpectedType { .. } => "cbor-unexpected-type",
            CborNonMinimal => "cbor-non-minimal",
            CborIndefiniteLength => "cbor-indefinite-length",
            CborReserved(_) => "cbor-reserved",
            CborWrongArity { .. } => "cbor-wrong-arity",
            CborTrailingBytes { .. } => "cbor-trailing-bytes",
            CborBytesTooLong { .. } => "cbor-bytes-too-long",
            CborBytesWrongLength { .. } => "cbor-bytes-wrong-length",
            CborArrayTooLong { .. } => "cbor-array-too-long",
            CborMapTooLong { .. } => "cbor-map-too-long",
            CborIntegerOverflow => "cbor-integer-overflow",
            CborUnexpectedKey(_) => "cbor-unexpected-key",
            CborMissingKey(_) => "cbor-missing-key",
            CborKeyOrder => "cbor-key-order",
            CborInvalidUtf8 => "cbor-invalid-utf8",
            CidTag(_) => "cid-tag",
            CidPrefix => "cid-prefix",
            CidMalformed(_) => "cid-malformed",
            CidVersion(_) => "cid-version",
            CidCodec { .. } => "cid-codec",
            CidHash { .. } => "cid-hash",
            CidMismatch { .. } => "cid-mismatch",
            BigIntSign(_) => "bigint-sign",
            BigIntNonCanonical => "bigint-non-canonical",
            BigIntTooLong(_) => "bigint-too-long",
            BitfieldMalformed(_) => "bitfield-malformed",
            BitfieldNonCanonical => "bitfield-non-canonical",
            HeaderVersion(_) => "header-version",
            HeaderInstanceRange { .. } => "header-instance-range",
            PowerTableEmpty => "power-table-empty",
            PowerTableUnsorted(_) => "power-table-unsorted",
            PowerTableDuplicate(_) => "power-table-duplicate",
            PowerTableNonPositive(_) => "power-table-non-positive",
            PowerTableKeyLength(..) => "power-table-key-length",
            PowerTableCidMismatch { .. } => "power-table-cid-mismatch",
            NetworkMismatch(_) => "network-mismatch",
            DeltaUnsorted(_) => "delta-unsorted",
            DeltaZero(_) => "delta-zero",
            DeltaNegativePower(_) => "delta-negative-power",
            DeltaNewWithoutKey(_) => "delta-new-without-key",
            DeltaNewNonPositive(_) => "delta-new-non-positive",
            DeltaUnchangedKey(_) => "delta-unchanged-key",
            DeltaKeyOnRemoval(_) => "delta-key-on-removal",
            SequenceEmpty => "sequence-empty",
            SequenceFirst { .. } => "sequence-first",
            SequenceGap { .. } => "sequence-gap",
            SequenceDuplicate { .. } => "sequence-duplicate",
            SequenceOutOfOrder { .. } => "sequence-out-of-order",
            SequenceBeyondLatest { .. } => "sequence-beyond-latest",
            SequenceShort { .. } => "sequence-short",
            ChainEmpty => "chain-empty",
            ChainEpochs { .. } => "chain-epochs",
            ChainTooLong { .. } => "chain-too-long",
            ChainEmptyKey { .. } => "chain-empty-key",
            ChainBase => "chain-base",
            CarHeader(_) => "car-header",
            CarVersion(_) => "car-version",
            CarNoRoots => "car-no-roots",
            Carv2Header(_) => "carv2-header",
            CarSection(_) => "car-section",
            CarTruncated => "car-truncated",
            MetadataVersion(_) => "metadata-version",
            MetadataNotFirst { .. } => "metadata-not-first",
            F3BlockMissing { .. } => "f3-block-missing",
            CarBlockMissing { .. } => "car-block-missing",
            MetadataEmptyHead => "metadata-empty-head",
            SignerOutOfRange { .. } => "signer-out-of-range",
            SignatureBadKey(_) => "signature-bad-key",
            SignatureQuorum { .. } => "signature-quorum",
            SignatureZeroPower(_) => "signature-zero-power",
            SignatureInvalid { .. } => "signature-invalid",
            SignatureMalformed(_) => "signature-malformed",
            Consistency(e) => e.code(),
            Io(_) => "io",
            Zstd(_) => "zstd",
            Internal(_) => "internal",
        }
    }
}
