//! The CBOR types of an FRC-0108 snapshot, encoded exactly as go-f3's and Lotus's cbor-gen code
//! encodes them: tuple structs as arrays in field order, Filecoin big integers as byte strings,
//! CIDs as tag 42, the signer set as an RLE+ bitfield, and `SnapshotMetadata` as a map.
//!
//! Decoding is strict: anything that does not re-encode to the same bytes is an error with its
//! own code. Limits are go-f3's (see [`limits`]).

use cid::Cid;
use num_bigint::{BigInt, Sign};

use crate::cbor::{Decoder, Encoder};
use crate::cids::{expect_blake2b_cid, DAG_CBOR, RAW};
use crate::error::{Error, ErrorKind, Result};

/// Size limits of go-f3's and Lotus's cbor-gen schemas.
pub mod limits {
    /// cbor-gen's default maximum array length (`cbg.MaxLength`).
    pub const MAX_ARRAY: u64 = 8192;
    /// cbor-gen's default maximum byte-string length (`cbg.ByteArrayMaxLen`, 2 MiB).
    pub const MAX_BYTES: u64 = 2 << 20;
    /// `maxlen=48`: a compressed BLS12-381 G1 public key.
    pub const PUBKEY: u64 = 48;
    /// `maxlen=760` on `TipSet.Key`: 20 block CIDs of 38 bytes.
    pub const TIPSET_KEY: u64 = 760;
    /// Filecoin's `BigIntMaxSerializedLen`.
    pub const BIGINT: u64 = 128;
    /// go-bitfield's bound on an encoded bitfield.
    pub const BITFIELD: u64 = 32 << 10;
    /// Keys of a map such as `SnapshotMetadata`.
    pub const MAP_KEY: u64 = 8192;
}

/// A type with a canonical CBOR form.
pub trait Cbor: Sized {
    /// Decodes one item from `d`, leaving the cursor after it.
    fn decode(d: &mut Decoder<'_>) -> Result<Self>;
    /// Appends the canonical encoding to `e`.
    fn encode(&self, e: &mut Encoder);

    /// Decodes a whole block: one item and nothing after it.
    fn from_cbor(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let v = Self::decode(&mut d)?;
        d.finish()?;
        Ok(v)
    }

    /// The canonical encoding.
    fn to_cbor(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.encode(&mut e);
        e.into_bytes()
    }
}

/// Attaches a field path to errors from `f`.
fn field<T>(name: &'static str, r: Result<T>) -> Result<T> {
    r.map_err(|e| e.in_field(name))
}

/// A Filecoin big integer (`big.Int`): empty bytes for zero, else a sign byte (0x00 positive,
/// 0x01 negative) and the big-endian magnitude without leading zeros.
pub fn decode_bigint(d: &mut Decoder<'_>) -> Result<BigInt> {
    Ok(bigint_from_canonical(decode_bigint_bytes(d)?))
}

/// A Filecoin big integer's canonical bytes, checked as [`decode_bigint`] checks them, in place.
pub fn decode_bigint_bytes<'a>(d: &mut Decoder<'a>) -> Result<&'a [u8]> {
    let at = d.position() as u64;
    let bytes = d.bytes(limits::MAX_BYTES)?;
    if bytes.len() as u64 > limits::BIGINT {
        return Err(Error::at(ErrorKind::BigIntTooLong(bytes.len() as u64), at));
    }
    let Some((&sign, magnitude)) = bytes.split_first() else {
        return Ok(bytes);
    };
    if sign > 1 {
        return Err(Error::at(ErrorKind::BigIntSign(sign), at));
    }
    // go-state-types accepts [0x00], [0x01] and leading zero bytes and reads them as the
    // same number; none of them re-encodes to itself, so the strict reader refuses them.
    if magnitude.first().is_none_or(|&b| b == 0) {
        return Err(Error::at(ErrorKind::BigIntNonCanonical, at));
    }
    Ok(bytes)
}

/// The value of canonical big-integer bytes (from [`decode_bigint_bytes`]).
pub fn bigint_from_canonical(bytes: &[u8]) -> BigInt {
    match bytes.split_first() {
        None => BigInt::default(),
        Some((&sign, magnitude)) => {
            let sign = if sign == 1 { Sign::Minus } else { Sign::Plus };
            BigInt::from_bytes_be(sign, magnitude)
        }
    }
}

/// Encodes a Filecoin big integer.
pub fn encode_bigint(v: &BigInt, e: &mut Encoder) {
    let (sign, mag) = v.to_bytes_be();
    match sign {
        Sign::NoSign => e.bytes(&[]),
        Sign::Plus | Sign::Minus => {
            let mut out = Vec::with_capacity(mag.len() + 1);
            out.push(u8::from(sign == Sign::Minus));
            out.extend_from_slice(&mag);
            e.bytes(&out);
        }
    }
}

/// A power table CID: CIDv1, DAG-CBOR, blake2b-256, as `certs.MakePowerTableCID` makes it.
pub(crate) fn decode_power_table_cid(d: &mut Decoder<'_>) -> Result<Cid> {
    let at = d.position() as u64;
    let cid = d.cid()?;
    expect_blake2b_cid(&cid, DAG_CBOR).map_err(|e| e.at_offset(at))?;
    Ok(cid)
}

/// One participant of a power table (`gpbft.PowerEntry`): `[ID, Power, PubKey]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerEntry {
    /// Actor ID.
    pub id: u64,
    /// Storage power, positive in a valid table.
    pub power: BigInt,
    /// BLS public key, 48 bytes in a valid table.
    pub pub_key: Vec<u8>,
}

impl Cbor for PowerEntry {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        field("PowerEntry", d.tuple("PowerEntry", 3))?;
        Ok(PowerEntry {
            id: field("PowerEntry.ID", d.u64())?,
            power: field("PowerEntry.Power", decode_bigint(d))?,
            pub_key: field("PowerEntry.PubKey", d.bytes(limits::PUBKEY))?.to_vec(),
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(3);
        e.u64(self.id);
        encode_bigint(&self.power, e);
        e.bytes(&self.pub_key);
    }
}

/// A power table (`gpbft.PowerEntries`), in go-f3's order: power descending, then ID ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PowerEntries(pub Vec<PowerEntry>);

impl Cbor for PowerEntries {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let n = field("PowerEntries", d.array(limits::MAX_ARRAY))?;
        // `n` is bounded by MAX_ARRAY and every entry takes at least four bytes, so the
        // decoder runs out of input long before a hostile count costs memory.
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(PowerEntry::decode(d)?);
        }
        Ok(PowerEntries(v))
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(self.0.len() as u64);
        for p in &self.0 {
            p.encode(e);
        }
    }
}

impl PowerEntries {
    /// The table's CID: CIDv1, DAG-CBOR, blake2b-256 of its encoding (`certs.MakePowerTableCID`).
    pub fn cid(&self) -> Cid {
        crate::cids::cid_of(DAG_CBOR, &self.to_cbor())
    }
}

/// One EC tipset (`gpbft.TipSet`): `[Epoch, Key, PowerTable, Commitments]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipSet {
    /// EC epoch.
    pub epoch: i64,
    /// Concatenated block-header CIDs.
    pub key: Vec<u8>,
    /// CID of the power table of this tipset.
    pub power_table: Cid,
    /// Root of the commitments merkle tree.
    pub commitments: [u8; 32],
}

impl Cbor for TipSet {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        field("TipSet", d.tuple("TipSet", 4))?;
        Ok(TipSet {
            epoch: field("TipSet.Epoch", d.i64())?,
            key: field("TipSet.Key", d.bytes(limits::TIPSET_KEY))?.to_vec(),
            power_table: field("TipSet.PowerTable", decode_power_table_cid(d))?,
            commitments: field("TipSet.Commitments", d.bytes_fixed::<32>())?,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(4);
        e.i64(self.epoch);
        e.bytes(&self.key);
        e.cid(&self.power_table);
        e.bytes(&self.commitments);
    }
}

/// Data the participants sign besides the chain (`gpbft.SupplementalData`):
/// `[Commitments, PowerTable]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplementalData {
    /// Instance-specific commitments (all zero today).
    pub commitments: [u8; 32],
    /// CID of the power table for the next instance.
    pub power_table: Cid,
}

impl Cbor for SupplementalData {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        field("SupplementalData", d.tuple("SupplementalData", 2))?;
        Ok(SupplementalData {
            commitments: field("SupplementalData.Commitments", d.bytes_fixed::<32>())?,
            power_table: field("SupplementalData.PowerTable", decode_power_table_cid(d))?,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(2);
        e.bytes(&self.commitments);
        e.cid(&self.power_table);
    }
}

/// One power change (`certs.PowerTableDelta`): `[ParticipantID, PowerDelta, SigningKey]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerTableDelta {
    /// Participant whose entry changes.
    pub participant_id: u64,
    /// Signed change of power.
    pub power_delta: BigInt,
    /// New key, or empty for no change.
    pub signing_key: Vec<u8>,
}

impl Cbor for PowerTableDelta {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        field("PowerTableDelta", d.tuple("PowerTableDelta", 3))?;
        Ok(PowerTableDelta {
            participant_id: field("PowerTableDelta.ParticipantID", d.u64())?,
            power_delta: field("PowerTableDelta.PowerDelta", decode_bigint(d))?,
            signing_key: field("PowerTableDelta.SigningKey", d.bytes(limits::PUBKEY))?.to_vec(),
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(3);
        e.u64(self.participant_id);
        encode_bigint(&self.power_delta, e);
        e.bytes(&self.signing_key);
    }
}

/// The signer set: an RLE+ bitfield of indexes into the power table in force.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signers(pub crate::bitfield::Runs);

impl Signers {
    /// Decodes and checks RLE+ bytes, which must be in canonical form.
    pub fn from_rle(bytes: &[u8]) -> Result<Self> {
        crate::bitfield::Runs::decode(bytes).map(Signers)
    }

    /// A signer set from indexes.
    pub fn from_indexes(iter: impl IntoIterator<Item = u64>) -> Self {
        Signers(crate::bitfield::Runs::from_indexes(iter))
    }

    /// The canonical RLE+ bytes.
    pub fn to_rle(&self) -> Vec<u8> {
        self.0.encode()
    }

    /// Number of signers.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// Whether no one signed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The largest index, if any.
    pub fn last(&self) -> Option<u64> {
        self.0.last()
    }

    /// The signer indexes in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter()
    }
}

/// A finality certificate (`certs.FinalityCertificate`):
/// `[GPBFTInstance, ECChain, SupplementalData, Signers, Signature, PowerTableDelta]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalityCertificate {
    /// The GPBFT instance.
    pub instance: u64,
    /// The finalized chain, base first; `None` is the CBOR `null` of a nil pointer.
    pub ec_chain: Option<Vec<TipSet>>,
    /// Signed supplemental data.
    pub supplemental_data: SupplementalData,
    /// Indexes of the signers in the power table in force.
    pub signers: Signers,
    /// Aggregated BLS signature.
    pub signature: Vec<u8>,
    /// Changes to the power table for the next instance, sorted by participant.
    pub power_table_delta: Vec<PowerTableDelta>,
}

impl FinalityCertificate {
    /// The chain's tipsets (empty for a null chain).
    pub fn tipsets(&self) -> &[TipSet] {
        self.ec_chain.as_deref().unwrap_or_default()
    }
}

impl Cbor for FinalityCertificate {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        field("FinalityCertificate", d.tuple("FinalityCertificate", 6))?;
        let instance = field("FinalityCertificate.GPBFTInstance", d.u64())?;
        let ec_chain = if d.null() {
            None
        } else {
            let n = field("FinalityCertificate.ECChain", d.array(limits::MAX_ARRAY))?;
            let mut v = Vec::new();
            for _ in 0..n {
                v.push(TipSet::decode(d)?);
            }
            Some(v)
        };
        let supplemental_data = SupplementalData::decode(d)?;
        let signers = field("FinalityCertificate.Signers", {
            let at = d.position() as u64;
            d.bytes(limits::BITFIELD)
                .and_then(|b| Signers::from_rle(b).map_err(|e| e.at_offset(at)))
        })?;
        let signature =
            field("FinalityCertificate.Signature", d.bytes(limits::MAX_BYTES))?.to_vec();
        let n = field(
            "FinalityCertificate.PowerTableDelta",
            d.array(limits::MAX_ARRAY),
        )?;
        let mut power_table_delta = Vec::new();
        for _ in 0..n {
            power_table_delta.push(PowerTableDelta::decode(d)?);
        }
        Ok(FinalityCertificate {
            instance,
            ec_chain,
            supplemental_data,
            signers,
            signature,
            power_table_delta,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(6);
        e.u64(self.instance);
        match &self.ec_chain {
            None => e.null(),
            Some(ts) => {
                e.array(ts.len() as u64);
                for t in ts {
                    t.encode(e);
                }
            }
        }
        self.supplemental_data.encode(e);
        e.bytes(&self.signers.to_rle());
        e.bytes(&self.signature);
        e.array(self.power_table_delta.len() as u64);
        for d in &self.power_table_delta {
            d.encode(e);
        }
    }
}

/// The first block of F3 data (certstore's `SnapshotHeader`):
/// `[Version, FirstInstance, LatestInstance, InitialPowerTable]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct F3SnapshotHeader {
    /// Format version; go-f3 writes 1.
    pub version: u64,
    /// Instance of the first certificate.
    pub first_instance: u64,
    /// Instance of the last certificate.
    pub latest_instance: u64,
    /// Power table in force at FirstInstance.
    pub initial_power_table: PowerEntries,
}

impl Cbor for F3SnapshotHeader {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        field("F3SnapshotHeader", d.tuple("F3SnapshotHeader", 4))?;
        Ok(F3SnapshotHeader {
            version: field("F3SnapshotHeader.Version", d.u64())?,
            first_instance: field("F3SnapshotHeader.FirstInstance", d.u64())?,
            latest_instance: field("F3SnapshotHeader.LatestInstance", d.u64())?,
            initial_power_table: field(
                "F3SnapshotHeader.InitialPowerTable",
                PowerEntries::decode(d),
            )?,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.array(4);
        e.u64(self.version);
        e.u64(self.first_instance);
        e.u64(self.latest_instance);
        self.initial_power_table.encode(e);
    }
}

/// The block a v2 snapshot's CAR root names (Lotus's `SnapshotMetadata`), a map whose keys
/// Lotus writes in DAG-CBOR canonical order: `F3Data`, `Version`, `HeadTipsetKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotMetadata {
    /// Metadata format version; only 2 is defined.
    pub version: u64,
    /// CIDs of the head tipset's block headers.
    pub head_tipset_key: Vec<Cid>,
    /// CID of the F3 block (raw codec), when the snapshot carries F3 data.
    pub f3_data: Option<Cid>,
}

const KEY_F3DATA: &str = "F3Data";
const KEY_VERSION: &str = "Version";
const KEY_HEAD: &str = "HeadTipsetKey";

fn metadata_key(d: &mut Decoder<'_>, want: &'static str) -> Result<()> {
    let at = d.position() as u64;
    let k = field("SnapshotMetadata", d.text(limits::MAP_KEY))?;
    if k == want {
        return Ok(());
    }
    let kind = if [KEY_F3DATA, KEY_VERSION, KEY_HEAD].contains(&k) {
        ErrorKind::CborKeyOrder
    } else {
        ErrorKind::CborUnexpectedKey(k.to_string())
    };
    Err(Error::at(kind, at).in_field("SnapshotMetadata"))
}

impl Cbor for SnapshotMetadata {
    fn decode(d: &mut Decoder<'_>) -> Result<Self> {
        let at = d.position() as u64;
        let n = field("SnapshotMetadata", d.map(limits::MAX_ARRAY))?;
        if n != 3 {
            return Err(Error::at(
                ErrorKind::CborWrongArity {
                    what: "SnapshotMetadata",
                    expected: 3,
                    found: n,
                },
                at,
            ));
        }
        // The strict form is exactly the three keys in canonical order.
        metadata_key(d, KEY_F3DATA)?;
        let f3_data = if d.null() {
            None
        } else {
            let at = d.position() as u64;
            let cid = field("SnapshotMetadata.F3Data", d.cid())?;
            field(
                "SnapshotMetadata.F3Data",
                expect_blake2b_cid(&cid, RAW).map_err(|e| e.at_offset(at)),
            )?;
            Some(cid)
        };
        metadata_key(d, KEY_VERSION)?;
        let version = field("SnapshotMetadata.Version", d.u64())?;
        metadata_key(d, KEY_HEAD)?;
        let n = field("SnapshotMetadata.HeadTipsetKey", d.array(limits::MAX_ARRAY))?;
        let mut head_tipset_key = Vec::new();
        for _ in 0..n {
            head_tipset_key.push(field("SnapshotMetadata.HeadTipsetKey", d.cid())?);
        }
        Ok(SnapshotMetadata {
            version,
            head_tipset_key,
            f3_data,
        })
    }

    fn encode(&self, e: &mut Encoder) {
        e.map(3);
        e.text(KEY_F3DATA);
        match &self.f3_data {
            None => e.null(),
            Some(c) => e.cid(c),
        }
        e.text(KEY_VERSION);
        e.u64(self.version);
        e.text(KEY_HEAD);
        e.array(self.head_tipset_key.len() as u64);
        for c in &self.head_tipset_key {
            e.cid(c);
        }
    }
}

impl SnapshotMetadata {
    /// The metadata block's CID (DAG-CBOR, blake2b-256), the v2 CAR's root.
    pub fn cid(&self) -> Cid {
        crate::cids::cid_of(DAG_CBOR, &self.to_cbor())
    }
}
