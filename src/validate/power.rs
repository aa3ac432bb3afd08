//! Power tables: the rules a table must meet, and power table deltas applied with every
//! rejection of go-f3's `certs.ApplyPowerTableDiffs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use cid::Cid;
use num_bigint::{BigInt, Sign};

use crate::error::{Error, ErrorKind, Result};
use crate::types::{PowerEntries, PowerEntry, PowerTableDelta};

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
}

/// The power table in force, kept by participant so deltas apply in O(log n). Its canonical
/// (sorted) form and CID are computed only when asked for, and kept until the next change, so
/// the `import` level pays for them only at go-f3's checkpoints.
#[derive(Debug, Clone)]
pub struct PowerTable {
    members: BTreeMap<u64, Member>,
    cache: Option<(PowerEntries, Cid)>,
}

impl PowerTable {
    /// The table a header declares (already checked with [`check_table`]).
    pub fn new(initial: &PowerEntries) -> Self {
        let members = initial
            .0
            .iter()
            .map(|e| {
                (
                    e.id,
                    Member {
                        power: e.power.clone(),
                        key: e.pub_key.clone(),
                    },
                )
            })
            .collect();
        PowerTable {
            members,
            cache: None,
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

    /// The table in go-f3's order.
    pub fn entries(&mut self) -> &PowerEntries {
        &self.cached().0
    }

    /// The CID of the table (`certs.MakePowerTableCID`).
    pub fn cid(&mut self) -> Cid {
        self.cached().1
    }

    fn cached(&mut self) -> &(PowerEntries, Cid) {
        if self.cache.is_none() {
            let sorted = self.sort();
            let cid = sorted.cid();
            self.cache = Some((sorted, cid));
        }
        match &self.cache {
            Some(c) => c,
            None => unreachable!("filled above"),
        }
    }

    fn sort(&self) -> PowerEntries {
        let mut v: Vec<PowerEntry> = self
            .members
            .iter()
            .map(|(&id, m)| PowerEntry {
                id,
                power: m.power.clone(),
                pub_key: m.key.clone(),
            })
            .collect();
        v.sort_by(table_order);
        PowerEntries(v)
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
        self.cache = None;
        let next = &mut self.members;
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
            let mut m = match next.get(&id) {
                Some(m) => {
                    if m.key == d.signing_key {
                        return Err(Error::new(ErrorKind::DeltaUnchangedKey(id)));
                    }
                    m.clone()
                }
                None => {
                    if d.power_delta.sign() != Sign::Plus {
                        return Err(Error::new(ErrorKind::DeltaNewNonPositive(id)));
                    }
                    if d.signing_key.is_empty() {
                        return Err(Error::new(ErrorKind::DeltaNewWithoutKey(id)));
                    }
                    Member {
                        power: BigInt::default(),
                        key: Vec::new(),
                    }
                }
            };
            m.power += &d.power_delta;
            if !d.signing_key.is_empty() {
                if m.power.sign() == Sign::NoSign {
                    return Err(Error::new(ErrorKind::DeltaKeyOnRemoval(id)));
                }
                m.key.clone_from(&d.signing_key);
            }
            match m.power.sign() {
                Sign::NoSign => {
                    next.remove(&id);
                }
                Sign::Plus => {
                    next.insert(id, m);
                }
                Sign::Minus => return Err(Error::new(ErrorKind::DeltaNegativePower(id))),
            }
        }
        Ok(true)
    }
}
