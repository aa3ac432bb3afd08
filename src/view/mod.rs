//! A borrowed view of a certificate block: every field a slice of the block, tipsets, power
//! table deltas and signers decoded on demand, and no allocation per certificate.
//!
//! [`CertificateRef::from_cbor`] walks the whole block once and enforces every rule of
//! [`FinalityCertificate::from_cbor`](crate::FinalityCertificate) with the same error (code,
//! offset and field path), so the two accept exactly the same blocks; `tests/view.rs` checks
//! this over the corpus and over mutations. After that walk the lazy accessors cannot meet a
//! broken encoding: they decode again what was checked.
//!
//! The streaming reader hands out views with
//! [`F3DataReader::next_view`](crate::f3data::F3DataReader::next_view), and the validator takes them
//! ([`Validator::certificate_view`](crate::validate::Validator::certificate_view)).

mod fast;

use cid::Cid;
use num_bigint::{BigInt, Sign};

use crate::bitfield::{self, RunIter, Summary};
use crate::cbor::Decoder;
use crate::cids::{cid_from_digest, DAG_CBOR};
use crate::error::{Error, Result};
use crate::types::{
    bigint_from_canonical, decode_bigint_bytes, limits, FinalityCertificate, PowerTableDelta,
    Signers, SupplementalData, TipSet,
};

/// Attaches a field path to errors from `r`, as the owned decoder does.
fn field<T>(name: &'static str, r: Result<T>) -> Result<T> {
    r.map_err(|e| e.in_field(name))
}

/// The one encoding a power table CID can have (CIDv1, DAG-CBOR, blake2b-256): tag 42, a
/// 39-byte string, the 0x00 prefix, then `01 71 a0e402 20` and the 32-byte digest.
const POWER_TABLE_CID_PREFIX: [u8; 11] = [
    0xd8, 0x2a, 0x58, 0x27, 0x00, 0x01, 0x71, 0xa0, 0xe4, 0x02, 0x20,
];

/// A power table CID, returning its digest. The common, canonical form is recognised by its
/// bytes; anything else goes through the owned decoder's own CID rules, for their errors.
fn power_table_digest<'a>(d: &mut Decoder<'a>) -> Result<&'a [u8; 32]> {
    let rest = d.remaining();
    if let (Some(prefix), Some(digest)) = (rest.get(..11), rest.get(11..43)) {
        if prefix == POWER_TABLE_CID_PREFIX {
            if let Ok(digest) = <&[u8; 32]>::try_from(digest) {
                d.skip(43);
                return Ok(digest);
            }
        }
    }
    let start = d.position();
    let cid = crate::types::decode_power_table_cid(d)?;
    // Only the form above passes those rules; were another to pass, it names the same digest.
    let digest = d
        .since(start)
        .get(11..43)
        .and_then(|s| <&[u8; 32]>::try_from(s).ok());
    match digest {
        Some(digest) if crate::cids::cid_from_digest(DAG_CBOR, digest) == cid => Ok(digest),
        _ => Err(Error::new(crate::error::ErrorKind::Internal(
            "a power table CID in an unexpected form passed the checks".into(),
        ))),
    }
}

/// A Filecoin big integer in place: canonical bytes, empty for zero, else a sign byte and the
/// big-endian magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BigIntRef<'a>(&'a [u8]);

impl<'a> BigIntRef<'a> {
    /// The encoded bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The sign.
    pub fn sign(&self) -> Sign {
        match self.0.first() {
            None => Sign::NoSign,
            Some(1) => Sign::Minus,
            Some(_) => Sign::Plus,
        }
    }

    /// The value, when it fits an `i128` (as every real power and delta does).
    pub fn to_i128(&self) -> Option<i128> {
        let (&sign, magnitude) = match self.0.split_first() {
            None => return Some(0),
            Some(v) => v,
        };
        if magnitude.len() > 16 {
            return None;
        }
        let mut be = [0u8; 16];
        be.get_mut(16 - magnitude.len()..)?
            .copy_from_slice(magnitude);
        let m = u128::from_be_bytes(be);
        if sign == 1 {
            0i128.checked_sub_unsigned(m)
        } else {
            i128::try_from(m).ok()
        }
    }

    /// The value.
    pub fn to_bigint(&self) -> BigInt {
        bigint_from_canonical(self.0)
    }
}

/// Encodings of `len` items of one type, one after another, checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Items<'a> {
    bytes: &'a [u8],
    len: u64,
}

/// One tipset (`gpbft.TipSet`) in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TipSetRef<'a> {
    /// The tipset's whole canonical encoding (equal encodings, equal tipsets).
    pub encoding: &'a [u8],
    /// EC epoch.
    pub epoch: i64,
    /// Concatenated block-header CIDs.
    pub key: &'a [u8],
    /// The blake2b-256 digest in the power table CID.
    pub power_table_digest: &'a [u8; 32],
    /// Root of the commitments merkle tree.
    pub commitments: &'a [u8; 32],
}

impl<'a> TipSetRef<'a> {
    fn decode(d: &mut Decoder<'a>) -> Result<Self> {
        let start = d.position();
        field("TipSet", d.tuple("TipSet", 4))?;
        let epoch = field("TipSet.Epoch", d.i64())?;
        let key = field("TipSet.Key", d.bytes(limits::TIPSET_KEY))?;
        let power_table_digest = field("TipSet.PowerTable", power_table_digest(d))?;
        let commitments = field("TipSet.Commitments", d.bytes_fixed_ref::<32>())?;
        Ok(TipSetRef {
            encoding: d.since(start),
            epoch,
            key,
            power_table_digest,
            commitments,
        })
    }

    /// The CID of this tipset's power table.
    pub fn power_table(&self) -> Cid {
        cid_from_digest(DAG_CBOR, self.power_table_digest)
    }

    /// An owned copy.
    pub fn to_tipset(&self) -> TipSet {
        TipSet {
            epoch: self.epoch,
            key: self.key.to_vec(),
            power_table: self.power_table(),
            commitments: *self.commitments,
        }
    }
}

/// One power change (`certs.PowerTableDelta`) in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerTableDeltaRef<'a> {
    /// Participant whose entry changes.
    pub participant_id: u64,
    /// Signed change of power.
    pub power_delta: BigIntRef<'a>,
    /// New key, or empty for no change.
    pub signing_key: &'a [u8],
}

impl<'a> PowerTableDeltaRef<'a> {
    fn decode(d: &mut Decoder<'a>) -> Result<Self> {
        field("PowerTableDelta", d.tuple("PowerTableDelta", 3))?;
        Ok(PowerTableDeltaRef {
            participant_id: field("PowerTableDelta.ParticipantID", d.u64())?,
            power_delta: BigIntRef(field("PowerTableDelta.PowerDelta", decode_bigint_bytes(d))?),
            signing_key: field("PowerTableDelta.SigningKey", d.bytes(limits::PUBKEY))?,
        })
    }

    /// An owned copy.
    pub fn to_delta(&self) -> PowerTableDelta {
        PowerTableDelta {
            participant_id: self.participant_id,
            power_delta: self.power_delta.to_bigint(),
            signing_key: self.signing_key.to_vec(),
        }
    }
}

/// The items of a checked list, decoded one at a time.
#[derive(Debug, Clone)]
pub struct Iter<'a, T> {
    d: fast::Fast<'a>,
    left: u64,
    decode: fn(&mut fast::Fast<'a>) -> Option<T>,
}

impl<'a, T> Iter<'a, T> {
    fn new(items: Items<'a>, decode: fn(&mut fast::Fast<'a>) -> Option<T>) -> Self {
        Iter {
            d: fast::Fast::new(items.bytes),
            left: items.len,
            decode,
        }
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The list was checked whole when the view was made: decoding it again cannot fail,
        // and were it to, the list would end here.
        let item = (self.decode)(&mut self.d);
        if item.is_none() {
            self.left = 0;
        }
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, usize::try_from(self.left).ok())
    }
}

/// The tipsets of a view.
pub type TipSets<'a> = Iter<'a, TipSetRef<'a>>;
/// The power table deltas of a view.
pub type Deltas<'a> = Iter<'a, PowerTableDeltaRef<'a>>;

/// Signed data besides the chain (`gpbft.SupplementalData`) in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupplementalDataRef<'a> {
    /// Instance-specific commitments.
    pub commitments: &'a [u8; 32],
    /// The blake2b-256 digest in the CID of the power table for the next instance.
    pub power_table_digest: &'a [u8; 32],
}

impl<'a> SupplementalDataRef<'a> {
    fn decode(d: &mut Decoder<'a>) -> Result<Self> {
        field("SupplementalData", d.tuple("SupplementalData", 2))?;
        Ok(SupplementalDataRef {
            commitments: field("SupplementalData.Commitments", d.bytes_fixed_ref::<32>())?,
            power_table_digest: field("SupplementalData.PowerTable", power_table_digest(d))?,
        })
    }

    /// The CID of the power table for the next instance.
    pub fn power_table(&self) -> Cid {
        cid_from_digest(DAG_CBOR, self.power_table_digest)
    }
}

/// The signer set: canonical RLE+ bytes in place, with what checking them found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignersRef<'a> {
    rle: &'a [u8],
    summary: Summary,
}

impl<'a> SignersRef<'a> {
    /// The RLE+ bytes.
    pub fn rle(&self) -> &'a [u8] {
        self.rle
    }

    /// Number of signers.
    pub fn len(&self) -> u64 {
        self.summary.count
    }

    /// Whether no one signed.
    pub fn is_empty(&self) -> bool {
        self.summary.count == 0
    }

    /// The largest index, if any.
    pub fn last(&self) -> Option<u64> {
        self.summary.last
    }

    /// The runs of signers, as ranges of indexes, ascending.
    pub fn runs(&self) -> RunIter<'a> {
        RunIter::new(self.rle)
    }

    /// The signer indexes in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + 'a {
        self.runs().flatten()
    }
}

/// A finality certificate (`certs.FinalityCertificate`) read in place from its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateRef<'a> {
    encoding: &'a [u8],
    instance: u64,
    ec_chain: Option<Items<'a>>,
    base: Option<&'a [u8]>,
    head: Option<&'a [u8]>,
    supplemental_data: SupplementalDataRef<'a>,
    signers: SignersRef<'a>,
    signature: &'a [u8],
    power_table_delta: Items<'a>,
}

impl<'a> CertificateRef<'a> {
    /// Checks a whole block (one certificate, nothing after it) and returns a view of it.
    pub fn from_cbor(bytes: &'a [u8]) -> Result<Self> {
        if let Some(v) = fast::Fast::certificate(bytes) {
            return Ok(v);
        }
        Self::from_cbor_full(bytes)
    }

    /// [`CertificateRef::from_cbor`] without its fast path: the full decoder, which says what
    /// is wrong where (for the tests that hold the fast path to it).
    #[doc(hidden)]
    pub fn from_cbor_full(bytes: &'a [u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let v = Self::decode(&mut d)?;
        d.finish()?;
        Ok(v)
    }

    /// Checks one certificate at `d`'s position, leaving the cursor after it.
    pub fn decode(d: &mut Decoder<'a>) -> Result<Self> {
        let start = d.position();
        field("FinalityCertificate", d.tuple("FinalityCertificate", 6))?;
        let instance = field("FinalityCertificate.GPBFTInstance", d.u64())?;
        let (mut base, mut head) = (None, None);
        let ec_chain = if d.null() {
            None
        } else {
            let len = field("FinalityCertificate.ECChain", d.array(limits::MAX_ARRAY))?;
            let from = d.position();
            for i in 0..len {
                let t = TipSetRef::decode(d)?;
                if i == 0 {
                    base = Some(t.encoding);
                }
                head = Some(t.encoding);
            }
            Some(Items {
                bytes: d.since(from),
                len,
            })
        };
        let supplemental_data = SupplementalDataRef::decode(d)?;
        let signers = field("FinalityCertificate.Signers", {
            let at = d.position() as u64;
            d.bytes(limits::BITFIELD).and_then(|rle| {
                bitfield::check(rle)
                    .map(|summary| SignersRef { rle, summary })
                    .map_err(|e| e.at_offset(at))
            })
        })?;
        let signature = field("FinalityCertificate.Signature", d.bytes(limits::MAX_BYTES))?;
        let len = field(
            "FinalityCertificate.PowerTableDelta",
            d.array(limits::MAX_ARRAY),
        )?;
        let from = d.position();
        for _ in 0..len {
            PowerTableDeltaRef::decode(d)?;
        }
        let power_table_delta = Items {
            bytes: d.since(from),
            len,
        };
        Ok(CertificateRef {
            encoding: d.since(start),
            instance,
            ec_chain,
            base,
            head,
            supplemental_data,
            signers,
            signature,
            power_table_delta,
        })
    }

    /// The certificate's encoding.
    pub fn encoding(&self) -> &'a [u8] {
        self.encoding
    }

    /// The GPBFT instance.
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// Whether the chain is the CBOR `null` of a nil pointer.
    pub fn is_null_chain(&self) -> bool {
        self.ec_chain.is_none()
    }

    /// Number of tipsets (zero for a null chain).
    pub fn tipset_count(&self) -> u64 {
        self.ec_chain.map_or(0, |c| c.len)
    }

    /// The chain's tipsets, base first (none for a null chain).
    pub fn tipsets(&self) -> TipSets<'a> {
        Iter::new(self.ec_chain.unwrap_or_default(), fast::Fast::tipset)
    }

    /// The encoding of the chain's base, its first tipset.
    pub fn base_encoding(&self) -> Option<&'a [u8]> {
        self.base
    }

    /// The encoding of the chain's head, its last tipset.
    pub fn head_encoding(&self) -> Option<&'a [u8]> {
        self.head
    }

    /// Signed supplemental data.
    pub fn supplemental_data(&self) -> SupplementalDataRef<'a> {
        self.supplemental_data
    }

    /// The signers.
    pub fn signers(&self) -> SignersRef<'a> {
        self.signers
    }

    /// The aggregated BLS signature.
    pub fn signature(&self) -> &'a [u8] {
        self.signature
    }

    /// Number of power table deltas.
    pub fn delta_count(&self) -> u64 {
        self.power_table_delta.len
    }

    /// The power table deltas, in order.
    pub fn power_table_delta(&self) -> Deltas<'a> {
        Iter::new(self.power_table_delta, fast::Fast::delta)
    }

    /// An owned copy (allocates), for the API that works on [`FinalityCertificate`].
    pub fn to_certificate(&self) -> FinalityCertificate {
        let s = self.supplemental_data;
        FinalityCertificate {
            instance: self.instance,
            ec_chain: self
                .ec_chain
                .map(|_| self.tipsets().map(|t| t.to_tipset()).collect()),
            supplemental_data: SupplementalData {
                commitments: *s.commitments,
                power_table: s.power_table(),
            },
            signers: Signers(crate::bitfield::Runs::from_runs(self.signers.runs())),
            signature: self.signature.to_vec(),
            power_table_delta: self.power_table_delta().map(|d| d.to_delta()).collect(),
        }
    }
}
