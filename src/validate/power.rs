//! Power tables: the rules a table must meet, and power table deltas applied with every
//! rejection of go-f3's `certs.ApplyPowerTableDiffs`.

use std::cmp::Ordering;
use std::cmp::Reverse;
use std::collections::HashMap;

use cid::Cid;
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{limits, PowerEntries, PowerEntry, PowerTableDelta};
use crate::view::PowerTableDeltaRef;

use super::order::{Order, Snapshot};

/// go-f3's table order: power descending, then participant ID ascending.
pub fn table_order(a: &PowerEntry, b: &PowerEntry) -> Ordering {
    b.power.cmp(&a.power).then(a.id.cmp(&b.id))
}

/// Checks a power table as a snapshot header must carry it: not empty, in go-f3's order, each
/// participant once, every power positive and every key 48 bytes.
pub fn check_table(table: &PowerEntries) -> Result<()> {
    if table.0.is_empty() {
        return Err(Error::new(ErrorKind::PowerTableEmpty));
    }
    let mut seen = std::collections::HashSet::with_capacity(table.0.len());
    let mut prev: Option<&PowerEntry> = None;
    for e in &table.0 {
        if !seen.insert(e.id) {
            return Err(Error::new(ErrorKind::PowerTableDuplicate(e.id)));
        }
        if e.power.sign() != Sign::Plus {
            return Err(Error::new(ErrorKind::PowerTableNonPositive(e.id)));
        }
        if e.pub_key.len() as u64 != limits::PUBKEY {
            return Err(Error::new(ErrorKind::PowerTableKeyLength(
                e.id,
                e.pub_key.len() as u64,
            )));
        }
        if let Some(p) = prev {
            if table_order(p, e) != Ordering::Less {
                return Err(Error::new(ErrorKind::PowerTableUnsorted(e.id)));
            }
        }
        prev = Some(e);
    }
    Ok(())
}

/// A participant's power in the table: positive, and below 2^128 on every network there is,
/// where it is kept inline so that ordering and arithmetic cost no allocation. The format
/// allows any `big.Int` (go-f3 uses one), so larger values fall back to `BigInt`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Power {
    Small(u128),
    /// Only ever a value above `u128::MAX`.
    Big(BigInt),
}

impl Power {
    fn from_bigint(v: BigInt) -> Power {
        match v.to_u128() {
            Some(s) => Power::Small(s),
            None => Power::Big(v),
        }
    }

    fn to_bigint(&self) -> BigInt {
        match self {
            Power::Small(s) => BigInt::from(*s),
            Power::Big(b) => b.clone(),
        }
    }

    /// `self + delta`, which may be zero or negative (the caller rejects those).
    fn add(&self, delta: &impl Delta) -> Sum {
        if let (Power::Small(p), Some(d)) = (self, delta.power_i128()) {
            let fast = if d >= 0 {
                p.checked_add(d.unsigned_abs())
                    .map(|r| Sum::Positive(Power::Small(r)))
            } else {
                match p.checked_sub(d.unsigned_abs()) {
                    Some(0) => Some(Sum::Zero),
                    Some(r) => Some(Sum::Positive(Power::Small(r))),
                    None => Some(Sum::Negative),
                }
            };
            if let Some(sum) = fast {
                return sum;
            }
        }
        let v = self.to_bigint() + delta.power_bigint();
        match v.sign() {
            Sign::NoSign => Sum::Zero,
            Sign::Minus => Sum::Negative,
            Sign::Plus => Sum::Positive(Power::from_bigint(v)),
        }
    }

    /// The `big.Int` CBOR of this power: a 0x00 sign byte, then the big-endian magnitude.
    fn encode(&self, e: &mut crate::cbor::Encoder) {
        match self {
            Power::Small(s) => {
                let be = s.to_be_bytes();
                let skip = (s.leading_zeros() / 8) as usize;
                let mut out = [0u8; 17];
                let mag = be.get(skip..).unwrap_or_default();
                let n = mag.len() + 1;
                if let Some(dst) = out.get_mut(1..n) {
                    dst.copy_from_slice(mag);
                }
                e.bytes(out.get(..n).unwrap_or_default());
            }
            Power::Big(b) => crate::types::encode_bigint(b, e),
        }
    }
}

/// One power change as a table applies it: an owned [`PowerTableDelta`] or one read in place
/// from a certificate block ([`PowerTableDeltaRef`]).
pub trait Delta {
    /// Participant whose entry changes.
    fn participant_id(&self) -> u64;
    /// The sign of the change of power.
    fn power_sign(&self) -> Sign;
    /// The change of power, when it fits an `i128`.
    fn power_i128(&self) -> Option<i128>;
    /// The change of power.
    fn power_bigint(&self) -> BigInt;
    /// The new key, or empty for no change.
    fn signing_key(&self) -> &[u8];
}

impl Delta for PowerTableDelta {
    fn participant_id(&self) -> u64 {
        self.participant_id
    }
    fn power_sign(&self) -> Sign {
        self.power_delta.sign()
    }
    fn power_i128(&self) -> Option<i128> {
        self.power_delta.to_i128()
    }
    fn power_bigint(&self) -> BigInt {
        self.power_delta.clone()
    }
    fn signing_key(&self) -> &[u8] {
        &self.signing_key
    }
}

impl Delta for PowerTableDeltaRef<'_> {
    fn participant_id(&self) -> u64 {
        self.participant_id
    }
    fn power_sign(&self) -> Sign {
        self.power_delta.sign()
    }
    fn power_i128(&self) -> Option<i128> {
        self.power_delta.to_i128()
    }
    fn power_bigint(&self) -> BigInt {
        self.power_delta.to_bigint()
    }
    fn signing_key(&self) -> &[u8] {
        self.signing_key
    }
}

impl<D: Delta> Delta for &D {
    fn participant_id(&self) -> u64 {
        (**self).participant_id()
    }
    fn power_sign(&self) -> Sign {
        (**self).power_sign()
    }
    fn power_i128(&self) -> Option<i128> {
        (**self).power_i128()
    }
    fn power_bigint(&self) -> BigInt {
        (**self).power_bigint()
    }
    fn signing_key(&self) -> &[u8] {
        (**self).signing_key()
    }
}

/// A power after a delta: what go-f3's rules do next depends on its sign.
enum Sum {
    Zero,
    Negative,
    Positive(Power),
}

impl Ord for Power {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Power::Small(a), Power::Small(b)) => a.cmp(b),
            (Power::Small(_), Power::Big(_)) => Ordering::Less,
            (Power::Big(_), Power::Small(_)) => Ordering::Greater,
            (Power::Big(a), Power::Big(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Power {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    power: Power,
    key: Vec<u8>,
}

/// A place in go-f3's order: power descending, then participant ID ascending.
type Key = (Reverse<Power>, u64);

/// Replaces `out` with the encoding of the entry `[id, power, key]`.
fn encode_entry(out: &mut Vec<u8>, id: u64, power: &Power, key: &[u8]) {
    out.clear();
    let mut e = crate::cbor::Encoder {
        buf: std::mem::take(out),
    };
    e.array(3);
    e.u64(id);
    power.encode(&mut e);
    e.bytes(key);
    *out = e.buf;
}

/// The power table in force, kept by participant so deltas apply in O(1), with its go-f3 order
/// maintained alongside (power descending, then ID ascending) holding every entry's encoding,
/// so the table's encoding is the order's leaves one after another and only changed entries
/// are re-encoded. (Looking each entry up by participant while encoding cost as much as
/// hashing the result at the `chain` level, where it happens after every certificate.) The CID
/// is computed only when asked for and kept until the next change.
///
/// The order is kept up to date only while it is used: when two deltas arrive with no use of
/// the order between them (the `import` level, which hashes the table only at checkpoints),
/// it is dropped, and rebuilt from the participants at the next use.
#[derive(Debug, Clone)]
pub struct PowerTable {
    members: HashMap<u64, Member>,
    /// Entry encodings, `[ID, Power, PubKey]`, in go-f3's order.
    order: Order<Key>,
    /// Whether `order` is out of date (rebuilt at the next use).
    stale: bool,
    /// Whether `order` was used since the last delta.
    used: bool,
    /// Room to encode an entry.
    scratch: Vec<u8>,
    version: u64,
    cid: Option<Cid>,
    entries: Option<PowerEntries>,
    hashed: Hashed,
}

/// How many table encodings were produced for hashing, and their total size: the work the
/// `chain` level adds, reported so it can be compared with plain hashing of the same bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hashed {
    /// Table encodings hashed.
    pub tables: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// A table's encoding as it was when taken, sharing the table's storage (nothing copied), to
/// hash on another thread while the table moves on.
#[derive(Debug, Clone)]
pub struct TableBytes {
    /// The CBOR array header.
    header: Vec<u8>,
    entries: Snapshot<Key>,
}

impl TableBytes {
    /// The CID of this encoding (`certs.MakePowerTableCID`).
    pub fn cid(&self) -> Cid {
        let mut st = crate::cids::blake2b256_state();
        st.update(&self.header);
        for part in self.entries.parts() {
            st.update(part);
        }
        crate::cids::cid_from_digest(crate::cids::DAG_CBOR, &crate::cids::finish_blake2b256(&st))
    }
}

impl PowerTable {
    /// The table a header declares (already checked with [`check_table`]).
    pub fn new(initial: &PowerEntries) -> Self {
        let mut t = PowerTable {
            members: HashMap::new(),
            order: Order::new(),
            stale: false,
            used: true,
            scratch: Vec::new(),
            version: 0,
            cid: None,
            entries: None,
            hashed: Hashed::default(),
        };
        for e in &initial.0 {
            let power = Power::from_bigint(e.power.clone());
            if let Some(old) = t.members.remove(&e.id) {
                t.order.remove(&(Reverse(old.power), e.id));
            }
            encode_entry(&mut t.scratch, e.id, &power, &e.pub_key);
            t.order.insert((Reverse(power.clone()), e.id), &t.scratch);
            t.members.insert(
                e.id,
                Member {
                    power,
                    key: e.pub_key.clone(),
                },
            );
        }
        t
    }

    /// Brings the order up to date before a use.
    fn refresh_order(&mut self) {
        self.used = true;
        if self.stale {
            self.stale = false;
            let mut keys: Vec<(Key, &Member)> = self
                .members
                .iter()
                .map(|(id, m)| ((Reverse(m.power.clone()), *id), m))
                .collect();
            keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            self.order.clear();
            for (key, m) in keys {
                encode_entry(&mut self.scratch, key.1, &m.power, &m.key);
                self.order.push_last(key, &self.scratch);
            }
        }
    }

    /// Number of participants.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// A counter that changes whenever the table does.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The canonical CBOR of the table (`PowerEntries`, in go-f3's order).
    pub fn encoded(&mut self) -> Vec<u8> {
        self.refresh_order();
        let mut e = crate::cbor::Encoder::new();
        e.buf.reserve(self.order.encoded_len() + 9);
        e.array(self.order.len() as u64);
        self.order.write_to(&mut e.buf);
        e.into_bytes()
    }

    /// The encoding, shared rather than copied, counted as one to be hashed for a commitment
    /// (see [`Hashed`]).
    pub fn snapshot_for_hashing(&mut self) -> TableBytes {
        self.refresh_order();
        let mut header = crate::cbor::Encoder::new();
        header.array(self.order.len() as u64);
        let header = header.into_bytes();
        self.hashed.tables += 1;
        self.hashed.bytes += (header.len() + self.order.encoded_len()) as u64;
        TableBytes {
            header,
            entries: self.order.snapshot(),
        }
    }

    /// The encoding, counted as one to be hashed for a commitment (see [`Hashed`]).
    pub fn encoded_for_hashing(&mut self) -> Vec<u8> {
        let e = self.encoded();
        self.hashed.tables += 1;
        self.hashed.bytes += e.len() as u64;
        e
    }

    /// The table encodings hashed so far.
    pub fn hashed(&self) -> Hashed {
        self.hashed
    }

    /// The table in go-f3's order.
    pub fn entries(&mut self) -> &PowerEntries {
        if self.entries.is_none() {
            self.refresh_order();
            let v = self
                .order
                .keys()
                .filter_map(|(_, id)| {
                    self.members.get(id).map(|m| PowerEntry {
                        id: *id,
                        power: m.power.to_bigint(),
                        pub_key: m.key.clone(),
                    })
                })
                .collect();
            self.entries = Some(PowerEntries(v));
        }
        self.entries.get_or_insert_with(PowerEntries::default)
    }

    /// The CID of the table (`certs.MakePowerTableCID`).
    pub fn cid(&mut self) -> Cid {
        if let Some(c) = self.cid {
            return c;
        }
        let c = self.snapshot_for_hashing().cid();
        self.cid = Some(c);
        c
    }

    /// Applies one certificate's delta, all or nothing, with go-f3's rejections: participants
    /// strictly ascending; no delta that changes nothing; an existing participant's new key
    /// differs from its old one; a new participant comes with a key and positive power; no key
    /// set on a removal; no negative power. A participant left with zero power is removed.
    /// Returns whether anything changed. On an error the table is left part-applied: the
    /// validation it serves stops at the first error.
    pub fn apply(&mut self, delta: &[PowerTableDelta]) -> Result<bool> {
        self.apply_each(delta)
    }

    /// As [`PowerTable::apply`], for deltas of any form (a view's, read in place).
    pub fn apply_each<D: Delta>(&mut self, delta: impl IntoIterator<Item = D>) -> Result<bool> {
        let mut delta = delta.into_iter().peekable();
        if delta.peek().is_none() {
            return Ok(false);
        }
        self.cid = None;
        self.entries = None;
        self.version += 1;
        if !self.used && !self.stale {
            self.stale = true;
            self.order.clear();
        }
        self.used = false;
        let mut last: Option<u64> = None;
        for d in delta {
            let id = d.participant_id();
            let signing_key = d.signing_key();
            if last.is_some_and(|l| id <= l) {
                return Err(Error::new(ErrorKind::DeltaUnsorted(id)));
            }
            last = Some(id);
            let delta_zero = d.power_sign() == Sign::NoSign;
            if delta_zero && signing_key.is_empty() {
                return Err(Error::new(ErrorKind::DeltaZero(id)));
            }
            if !signing_key.is_empty() && signing_key.len() as u64 != limits::PUBKEY {
                return Err(Error::new(ErrorKind::PowerTableKeyLength(
                    id,
                    signing_key.len() as u64,
                )));
            }
            let existing = self.members.get_mut(&id);
            let sum = match &existing {
                Some(m) => {
                    if m.key == signing_key {
                        return Err(Error::new(ErrorKind::DeltaUnchangedKey(id)));
                    }
                    m.power.add(&d)
                }
                None => {
                    if d.power_sign() != Sign::Plus {
                        return Err(Error::new(ErrorKind::DeltaNewNonPositive(id)));
                    }
                    if signing_key.is_empty() {
                        return Err(Error::new(ErrorKind::DeltaNewWithoutKey(id)));
                    }
                    Power::Small(0).add(&d)
                }
            };
            if !signing_key.is_empty() && matches!(sum, Sum::Zero) {
                return Err(Error::new(ErrorKind::DeltaKeyOnRemoval(id)));
            }
            // One lookup of the participant for a change of power or key, the common case.
            match (sum, existing) {
                (Sum::Negative, _) => return Err(Error::new(ErrorKind::DeltaNegativePower(id))),
                (Sum::Zero, _) => {
                    if let Some(m) = self.members.remove(&id) {
                        if !self.stale {
                            self.order.remove(&(Reverse(m.power), id));
                        }
                    }
                }
                (Sum::Positive(power), Some(m)) => {
                    let old = std::mem::replace(&mut m.power, power);
                    if !signing_key.is_empty() {
                        m.key = signing_key.to_vec();
                    }
                    if !self.stale {
                        self.order.remove(&(Reverse(old), id));
                        encode_entry(&mut self.scratch, id, &m.power, &m.key);
                        self.order
                            .insert((Reverse(m.power.clone()), id), &self.scratch);
                    }
                }
                (Sum::Positive(power), None) => {
                    if !self.stale {
                        encode_entry(&mut self.scratch, id, &power, signing_key);
                        self.order
                            .insert((Reverse(power.clone()), id), &self.scratch);
                    }
                    let key = signing_key.to_vec();
                    self.members.insert(id, Member { power, key });
                }
            }
        }
        Ok(true)
    }
}
