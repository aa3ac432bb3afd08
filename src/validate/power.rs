//! Power tables: the rules a table must meet, and power table deltas applied with every
//! rejection of go-f3's `certs.ApplyPowerTableDiffs`.

use std::cmp::Ordering;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use cid::Cid;
use num_bigint::{BigInt, Sign};

use crate::error::{Error, ErrorKind, Result};
use crate::types::{Cbor, PowerEntries, PowerEntry, PowerTableDelta};

/// Length of a compressed BLS12-381 G1 public key.
pub const PUBKEY_LEN: usize = 48;

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
        if e.pub_key.len() != PUBKEY_LEN {
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

#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    power: BigInt,
    key: Vec<u8>,
    /// The entry's CBOR, `[ID, Power, PubKey]`, kept so a table's encoding is a concatenation.
    encoded: Vec<u8>,
}

fn encode_entry(id: u64, power: &BigInt, key: &[u8]) -> Vec<u8> {
    PowerEntry {
        id,
        power: power.clone(),
        pub_key: key.to_vec(),
    }
    .to_cbor()
}

/// The power table in force, kept by participant so deltas apply in O(log n), with its go-f3
/// order maintained alongside (power descending, then ID ascending) and every entry's encoding
/// cached, so the table's encoding is a concatenation in order and only changed entries are
/// re-encoded. The CID is computed only when asked for and kept until the next change.
#[derive(Debug, Clone)]
pub struct PowerTable {
    members: BTreeMap<u64, Member>,
    order: BTreeSet<(Reverse<BigInt>, u64)>,
    encoded_len: usize,
    version: u64,
    cid: Option<Cid>,
    entries: Option<PowerEntries>,
}

impl PowerTable {
    /// The table a header declares (already checked with [`check_table`]).
    pub fn new(initial: &PowerEntries) -> Self {
        let mut t = PowerTable {
            members: BTreeMap::new(),
            order: BTreeSet::new(),
            encoded_len: 0,
            version: 0,
            cid: None,
            entries: None,
        };
        for e in &initial.0 {
            t.put(e.id, e.power.clone(), e.pub_key.clone());
        }
        t
    }

    fn put(&mut self, id: u64, power: BigInt, key: Vec<u8>) {
        self.remove(id);
        let encoded = encode_entry(id, &power, &key);
        self.encoded_len += encoded.len();
        self.order.insert((Reverse(power.clone()), id));
        self.members.insert(
            id,
            Member {
                power,
                key,
                encoded,
            },
        );
    }

    fn remove(&mut self, id: u64) {
        if let Some(m) = self.members.remove(&id) {
            self.encoded_len -= m.encoded.len();
            self.order.remove(&(Reverse(m.power), id));
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
    pub fn encoded(&self) -> Vec<u8> {
        let mut e = crate::cbor::Encoder::new();
        e.buf.reserve(self.encoded_len + 9);
        e.array(self.members.len() as u64);
        for (_, id) in &self.order {
            if let Some(m) = self.members.get(id) {
                e.buf.extend_from_slice(&m.encoded);
            }
        }
        e.into_bytes()
    }

    /// The table in go-f3's order.
    pub fn entries(&mut self) -> &PowerEntries {
        if self.entries.is_none() {
            let v = self
                .order
                .iter()
                .filter_map(|(_, id)| {
                    self.members.get(id).map(|m| PowerEntry {
                        id: *id,
                        power: m.power.clone(),
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
        let c = crate::cids::cid_of(crate::cids::DAG_CBOR, &self.encoded());
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
        if delta.is_empty() {
            return Ok(false);
        }
        self.cid = None;
        self.entries = None;
        self.version += 1;
        let mut last: Option<u64> = None;
        for d in delta {
            let id = d.participant_id;
            if last.is_some_and(|l| id <= l) {
                return Err(Error::new(ErrorKind::DeltaUnsorted(id)));
            }
            last = Some(id);
            let delta_zero = d.power_delta.sign() == Sign::NoSign;
            if delta_zero && d.signing_key.is_empty() {
                return Err(Error::new(ErrorKind::DeltaZero(id)));
            }
            if !d.signing_key.is_empty() && d.signing_key.len() != PUBKEY_LEN {
                return Err(Error::new(ErrorKind::PowerTableKeyLength(
                    id,
                    d.signing_key.len() as u64,
                )));
            }
            let (mut power, mut key) = match self.members.get(&id) {
                Some(m) => {
                    if m.key == d.signing_key {
                        return Err(Error::new(ErrorKind::DeltaUnchangedKey(id)));
                    }
                    (m.power.clone(), m.key.clone())
                }
                None => {
                    if d.power_delta.sign() != Sign::Plus {
                        return Err(Error::new(ErrorKind::DeltaNewNonPositive(id)));
                    }
                    if d.signing_key.is_empty() {
                        return Err(Error::new(ErrorKind::DeltaNewWithoutKey(id)));
                    }
                    (BigInt::default(), Vec::new())
                }
            };
            power += &d.power_delta;
            if !d.signing_key.is_empty() {
                if power.sign() == Sign::NoSign {
                    return Err(Error::new(ErrorKind::DeltaKeyOnRemoval(id)));
                }
                key.clone_from(&d.signing_key);
            }
            match power.sign() {
                Sign::NoSign => self.remove(id),
                Sign::Plus => self.put(id, power, key),
                Sign::Minus => return Err(Error::new(ErrorKind::DeltaNegativePower(id))),
            }
        }
        Ok(true)
    }
}
