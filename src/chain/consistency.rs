//! Consistency of a v2 snapshot's two halves: the F3 data must finalize a tipset of the chain
//! it ships with. No node checks this: Lotus and go-f3 import each half on its own, and
//! Forest's `archive merge-f3` joins any chain with any F3 file.
//!
//! The finalized tipset is the head of the last certificate's ECChain (its epoch `E` and its
//! key, the block CIDs concatenated). The F3 block comes before the chain in the CAR, so it is
//! known before any chain block is read. While the chain streams past, a [`Checker`] decodes
//! every block header ([`super::BlockHeader`]) and keeps, of those at epochs `E ..= E + 900`,
//! only the CID, `Height` and `Parents`. At the end it checks, in this order:
//!
//! 1. every `HeadTipsetKey` block is a block header, and they form one tipset (one height, one
//!    parent list): `consistency-head-not-header`, `consistency-malformed-chain`;
//! 2. no header in the CAR is above the head tipset: `consistency-head-not-highest`;
//! 3. `E` is not above the head: `consistency-finalized-above-head` (a verdict other readers
//!    may disagree with: Lotus's `ExportV2` writes the latest F3 data whatever tipset it
//!    exports, so its snapshot of an older tipset has F3 data above the head);
//! 4. the head is at most [`MAX_LAG`] epochs above `E`: `consistency-too-far`;
//! 5. following `Parents` down from the head (null rounds skip epochs) reaches epoch `E` with a
//!    tipset whose key is exactly the certificate's: `consistency-finalized-missing` when the
//!    walk cannot get there (an ancestor is not in the CAR, or the chain has no tipset at `E`),
//!    `consistency-other-fork` when it finds another tipset at `E`; each tipset on the way must
//!    be one (its blocks agree on height and parents) and lie below its child
//!    (`consistency-malformed-chain`).
//!
//! Memory is bounded by the headers at epochs `E ..= E + 900` (and the head's): each kept header
//! is counted as [`KEPT_HEADER_COST`] bytes and each distinct parent list (the blocks of a
//! tipset share one) as its length; past [`MAX_KEPT_BYTES`] the check stops with
//! `consistency-too-far`, at the header over the bound.
//!
//! Why 900: Lotus uses an F3 certificate as finality only when its head is at most
//! `policy.ChainFinality` (900) epochs below the chain head (`ChainGetTipSetFinalityStatus`);
//! F3 data further behind its chain is data no node would use, which is what joining the wrong
//! files produces. Such a snapshot is reported as inconsistent, not skipped.
//!
//! A snapshot whose head tipset blocks are none of them block headers (a stand-in chain, as
//! synthetic snapshots use) is skipped with a note: there is no chain to check against.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use cid::Cid;

use super::{is_header_candidate, key_cids, BlockHeader, MAX_HEADER_LEN};
use crate::cids::{is_blake2b256, DAG_CBOR};
use crate::error::{Error, ErrorKind, Result};
use crate::snapshot::{read_car_snapshot_with, CarInfo, ChainVisitor, SnapshotVersion};

/// How far (in epochs) the chain head may be above the finalized tipset: Lotus's
/// `policy.ChainFinality`, beyond which it ignores F3 finality.
pub const MAX_LAG: i64 = 900;

/// What a kept header is counted as (its digest, height and list handle, with the hash map's
/// slack).
pub const KEPT_HEADER_COST: usize = 128;

/// The memory the kept headers may take, counted as [`KEPT_HEADER_COST`] a header plus the
/// bytes of each distinct parent list: 16 MiB, over 100,000 headers of real tipsets (900
/// epochs of mainnet hold about 4,500), or a few dozen headers of 8,192 distinct parents each.
pub const MAX_KEPT_BYTES: usize = 16 << 20;

/// What is wrong between the F3 data and the chain. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsistencyError {
    /// A `HeadTipsetKey` block that is not a Filecoin block header, while others are.
    #[error("head tipset block {cid} is not a Filecoin block header: {reason}")]
    HeadNotHeader {
        /// The block.
        cid: String,
        /// Why not.
        reason: String,
    },
    /// Headers named as one tipset disagree on height or parents, or a tipset is not below
    /// its child.
    #[error("the chain's block headers do not form a chain: {0}")]
    MalformedChain(String),
    /// A header above the head tipset.
    #[error("block header {cid} has height {height}, above the head tipset's epoch {head}")]
    HeadNotHighest {
        /// The header.
        cid: String,
        /// Its height.
        height: i64,
        /// The head tipset's epoch.
        head: i64,
    },
    /// The finalized tipset is above the head.
    #[error("the F3 data finalizes epoch {finalized} {key}, above the head tipset's epoch {head}")]
    FinalizedAboveHead {
        /// The finalized epoch.
        finalized: i64,
        /// The finalized key.
        key: String,
        /// The head tipset's epoch.
        head: i64,
    },
    /// The walk from the head does not reach the finalized epoch.
    #[error("the chain does not reach the finalized tipset at epoch {finalized} {key}: {detail}")]
    FinalizedMissing {
        /// The finalized epoch.
        finalized: i64,
        /// The finalized key.
        key: String,
        /// Where the walk stopped.
        detail: String,
    },
    /// The walk from the head reaches another tipset at the finalized epoch.
    #[error("the F3 data finalizes {expected} at epoch {epoch}, the head's chain has {found} there{note}")]
    OtherFork {
        /// The finalized epoch.
        epoch: i64,
        /// The certificate's key.
        expected: String,
        /// The chain's key at that epoch.
        found: String,
        /// More on it.
        note: &'static str,
    },
    /// The chain is too far above the finalized tipset to be held.
    #[error("the F3 data finalizes epoch {finalized}, too far below the chain: {detail}")]
    TooFar {
        /// The finalized epoch.
        finalized: i64,
        /// Which bound.
        detail: String,
    },
}

impl ConsistencyError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        use ConsistencyError::*;
        match self {
            HeadNotHeader { .. } => "consistency-head-not-header",
            MalformedChain(_) => "consistency-malformed-chain",
            HeadNotHighest { .. } => "consistency-head-not-highest",
            FinalizedAboveHead { .. } => "consistency-finalized-above-head",
            FinalizedMissing { .. } => "consistency-finalized-missing",
            OtherFork { .. } => "consistency-other-fork",
            TooFar { .. } => "consistency-too-far",
        }
    }
}

fn fail(e: ConsistencyError) -> Error {
    Error::new(ErrorKind::Consistency(Box::new(e)))
}

/// A tipset by epoch and key (its block CIDs in binary, concatenated, as F3 writes keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipsetRef {
    /// Epoch.
    pub epoch: i64,
    /// Key.
    pub key: Vec<u8>,
}

impl TipsetRef {
    /// The key's CIDs, or `None` if the key is not a list of CIDs.
    pub fn cids(&self) -> Option<Vec<Cid>> {
        key_cids(&self.key)
    }
}

/// A key for messages: `[cid, cid]`, or hex if it is not made of CIDs.
pub fn key_string(key: &[u8]) -> String {
    match key_cids(key) {
        Some(cids) => format!(
            "[{}]",
            cids.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "0x{}",
            key.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// What the check did: ran (and what it found), or was skipped and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consistency {
    /// Whether the check ran.
    pub checked: bool,
    /// Why it did not.
    pub skipped: Option<String>,
    /// The tipset the F3 data finalizes.
    pub finalized: Option<TipsetRef>,
    /// The snapshot's head tipset, once its blocks were read.
    pub head: Option<TipsetRef>,
    /// Block headers kept (those from the finalized epoch to `MAX_LAG` above it).
    pub headers_kept: u64,
    /// Parent links followed from the head down to the finalized epoch.
    pub tipsets_walked: u64,
}

impl Consistency {
    /// A check that did not run, and why.
    pub fn skipped(why: impl Into<String>) -> Self {
        Consistency {
            skipped: Some(why.into()),
            ..Consistency::default()
        }
    }
}

/// A kept header: its height and its parents as a key.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    height: i64,
    parents: Arc<[u8]>,
}

/// What became of a head tipset block.
#[derive(Debug, Clone)]
enum Head {
    Unseen,
    /// Not a header by its CID, size or first byte; where its data starts.
    NotHeader(u64),
    /// Shaped like a header but not one: why, and where its data starts.
    Malformed(String, u64),
    Header(Kept),
}

/// The digest that names a header (every header CID is DAG-CBOR blake2b-256).
fn header_digest(cid: &Cid) -> Option<[u8; 32]> {
    if cid.codec() != DAG_CBOR || !is_blake2b256(cid) {
        return None;
    }
    cid.hash().digest().try_into().ok()
}

/// The streaming check: made with the finalized tipset, told the head, fed the chain blocks.
#[derive(Debug)]
pub struct Checker {
    finalized: TipsetRef,
    head_key: Vec<Cid>,
    head_index: HashMap<Cid, usize>,
    head: Vec<Head>,
    kept: HashMap<[u8; 32], Kept>,
    /// Distinct parent lists, shared by the headers that name them.
    lists: HashSet<Arc<[u8]>>,
    /// Memory counted against [`MAX_KEPT_BYTES`].
    kept_bytes: usize,
    highest: Option<(i64, Cid)>,
    state: Consistency,
}

impl Checker {
    /// A check of a chain against `finalized`, the head of the last certificate's ECChain.
    pub fn new(finalized: TipsetRef) -> Self {
        Checker {
            state: Consistency {
                checked: true,
                finalized: Some(finalized.clone()),
                ..Consistency::default()
            },
            finalized,
            head_key: Vec::new(),
            head_index: HashMap::new(),
            head: Vec::new(),
            kept: HashMap::new(),
            lists: HashSet::new(),
            kept_bytes: 0,
            highest: None,
        }
    }

    /// Sets the head tipset key (`HeadTipsetKey`, or a v1 snapshot's roots).
    pub fn set_head(&mut self, head: &[Cid]) {
        self.head_key = head.to_vec();
        self.head = vec![Head::Unseen; head.len()];
        self.head_index = head.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    }

    /// Whether a block could be a header and should be given to [`Checker::block`].
    pub fn wants(&self, cid: &Cid, len: u64) -> bool {
        cid.codec() == DAG_CBOR && is_blake2b256(cid) && len <= MAX_HEADER_LEN
    }

    /// A chain block whose hash was checked; `offset` (where its data starts) locates errors.
    pub fn block(&mut self, cid: &Cid, data: &[u8], offset: u64) -> Result<()> {
        let head = self.head_index.get(cid).copied();
        let decoded = if is_header_candidate(cid, data) {
            BlockHeader::decode(data).map_err(|e| e.shifted(offset))
        } else {
            if let Some(slot) = head.and_then(|i| self.head.get_mut(i)) {
                *slot = Head::NotHeader(offset);
            }
            return Ok(());
        };
        let h = match decoded {
            Ok(h) => h,
            Err(e) => {
                if let Some(slot) = head.and_then(|i| self.head.get_mut(i)) {
                    let field = e.location.field.map(|f| format!(" in {f}"));
                    let at = e.location.offset.map(|o| format!(" at byte {o}"));
                    let reason = format!(
                        "{}{}{}",
                        e.kind,
                        field.unwrap_or_default(),
                        at.unwrap_or_default()
                    );
                    *slot = Head::Malformed(reason, offset);
                }
                return Ok(());
            }
        };
        if self.highest.as_ref().is_none_or(|(t, _)| h.height > *t) {
            self.highest = Some((h.height, *cid));
        }
        let e = self.finalized.epoch;
        let in_window = h.height >= e && h.height <= e.saturating_add(MAX_LAG);
        let digest = header_digest(cid).filter(|_| in_window);
        if head.is_none() && digest.is_none_or(|d| self.kept.contains_key(&d)) {
            return Ok(());
        }
        let kept = Kept {
            height: h.height,
            parents: self.list(h.parents_key()),
        };
        self.kept_bytes = self.kept_bytes.saturating_add(KEPT_HEADER_COST);
        if self.kept_bytes > MAX_KEPT_BYTES {
            return Err(fail(ConsistencyError::TooFar {
                finalized: e,
                detail: format!(
                    "the block headers from epoch {e} to {} take more than the {} MiB the \
                     check holds",
                    e.saturating_add(MAX_LAG),
                    MAX_KEPT_BYTES >> 20
                ),
            })
            .at_offset(offset));
        }
        if let Some(slot) = head.and_then(|i| self.head.get_mut(i)) {
            *slot = Head::Header(kept.clone());
        }
        if let Some(d) = digest {
            self.kept.insert(d, kept);
            self.state.headers_kept = self.kept.len() as u64;
        }
        Ok(())
    }

    /// The shared copy of a parent list, counting a new one against the bound.
    fn list(&mut self, parents: Vec<u8>) -> Arc<[u8]> {
        if let Some(l) = self.lists.get(parents.as_slice()) {
            return Arc::clone(l);
        }
        self.kept_bytes = self.kept_bytes.saturating_add(parents.len());
        let l: Arc<[u8]> = parents.into();
        self.lists.insert(Arc::clone(&l));
        l
    }

    /// What is known so far (after [`Checker::finish`], everything).
    pub fn summary(&self) -> Consistency {
        self.state.clone()
    }

    /// Runs the checks once every block has been seen.
    pub fn finish(&mut self) -> Result<()> {
        let field = "SnapshotMetadata.HeadTipsetKey";
        let Some((epoch, parents)) = self.head_tipset().map_err(|e| e.in_field(field))? else {
            self.state = Consistency::skipped(
                "the head tipset blocks are not Filecoin block headers (a stand-in chain): \
                 there is no chain to check the F3 data against",
            );
            return Ok(());
        };
        let head_key: Vec<u8> = self.head_key.iter().flat_map(|c| c.to_bytes()).collect();
        self.state.head = Some(TipsetRef {
            epoch,
            key: head_key.clone(),
        });
        if let Some((height, cid)) = self.highest.filter(|(h, _)| *h > epoch) {
            return Err(fail(ConsistencyError::HeadNotHighest {
                cid: cid.to_string(),
                height,
                head: epoch,
            }));
        }
        let e = self.finalized.epoch;
        let fkey = key_string(&self.finalized.key);
        if e > epoch {
            return Err(fail(ConsistencyError::FinalizedAboveHead {
                finalized: e,
                key: fkey,
                head: epoch,
            }));
        }
        if epoch - e > MAX_LAG {
            return Err(fail(ConsistencyError::TooFar {
                finalized: e,
                detail: format!(
                    "the head is at epoch {epoch}, {} epochs above it; Lotus ignores F3 \
                     finality more than {MAX_LAG} epochs below the head",
                    epoch - e
                ),
            }));
        }
        self.walk(epoch, head_key, parents)
    }

    /// The head tipset's epoch and parents; `None` when no head block is a header.
    fn head_tipset(&self) -> Result<Option<(i64, Arc<[u8]>)>> {
        if self
            .head
            .iter()
            .all(|h| matches!(h, Head::NotHeader(_) | Head::Unseen))
        {
            return Ok(None);
        }
        let mut first: Option<(&Cid, &Kept)> = None;
        for (cid, h) in self.head_key.iter().zip(&self.head) {
            let (reason, at) = match h {
                Head::Header(k) => {
                    match first {
                        None => first = Some((cid, k)),
                        Some((c0, k0)) if k0.height != k.height => {
                            return Err(fail(ConsistencyError::MalformedChain(format!(
                                "head tipset blocks {c0} and {cid} have heights {} and {}",
                                k0.height, k.height
                            ))))
                        }
                        Some((c0, k0)) if k0.parents != k.parents => {
                            return Err(fail(ConsistencyError::MalformedChain(format!(
                                "head tipset blocks {c0} and {cid} name different parents"
                            ))))
                        }
                        Some(_) => {}
                    }
                    continue;
                }
                Head::Unseen => ("it is not in the CAR".to_string(), None),
                Head::NotHeader(at) => (
                    format!(
                        "not a DAG-CBOR blake2b-256 block of at most {MAX_HEADER_LEN} bytes \
                         starting with an array of 16"
                    ),
                    Some(*at),
                ),
                Head::Malformed(e, at) => (e.clone(), Some(*at)),
            };
            let e = fail(ConsistencyError::HeadNotHeader {
                cid: cid.to_string(),
                reason,
            });
            return Err(match at {
                Some(at) => e.at_offset(at),
                None => e,
            });
        }
        Ok(first.map(|(_, k)| (k.height, k.parents.clone())))
    }

    /// Follows `Parents` from the head down to the finalized epoch.
    fn walk(&mut self, mut epoch: i64, mut key: Vec<u8>, mut parents: Arc<[u8]>) -> Result<()> {
        let f = self.finalized.clone();
        let fkey = || key_string(&f.key);
        let missing = |detail: String| {
            fail(ConsistencyError::FinalizedMissing {
                finalized: f.epoch,
                key: fkey(),
                detail,
            })
        };
        loop {
            if epoch == f.epoch {
                if key == f.key {
                    return Ok(());
                }
                return Err(fail(ConsistencyError::OtherFork {
                    epoch,
                    expected: fkey(),
                    found: key_string(&key),
                    note: self.fork_note(&key),
                }));
            }
            let Some(cids) = key_cids(&parents) else {
                return Err(fail(ConsistencyError::MalformedChain(format!(
                    "the parents of the tipset at epoch {epoch} are not CIDs"
                ))));
            };
            if cids.is_empty() {
                return Err(missing(format!(
                    "the tipset at epoch {epoch} has no parents"
                )));
            }
            let mut next: Option<&Kept> = None;
            for c in &cids {
                let Some(k) = header_digest(c).and_then(|d| self.kept.get(&d)) else {
                    return Err(missing(format!(
                        "the tipset at epoch {epoch} has parent {c}, which is not a block \
                         header of the CAR at or above epoch {}: the chain lacks the tipset \
                         at the finalized epoch, or has none there",
                        f.epoch
                    )));
                };
                match next {
                    None => next = Some(k),
                    Some(n) if n != k => {
                        return Err(fail(ConsistencyError::MalformedChain(format!(
                            "the blocks of the parent tipset {} of epoch {epoch} differ in \
                             height or parents",
                            key_string(&parents)
                        ))))
                    }
                    Some(_) => {}
                }
            }
            let Some(next) = next.cloned() else {
                return Err(missing(format!(
                    "the tipset at epoch {epoch} has no parents"
                )));
            };
            if next.height >= epoch {
                return Err(fail(ConsistencyError::MalformedChain(format!(
                    "the tipset at epoch {epoch} has parents at epoch {}, not below it",
                    next.height
                ))));
            }
            self.state.tipsets_walked += 1;
            key = parents.to_vec();
            parents = next.parents;
            epoch = next.height;
        }
    }

    /// Says whether the finalized tipset is in the CAR after all, or its blocks in another
    /// order.
    fn fork_note(&self, found: &[u8]) -> &'static str {
        let cids = self.finalized.cids().unwrap_or_default();
        let mut sorted_f = cids.clone();
        let mut sorted_c = key_cids(found).unwrap_or_default();
        sorted_f.sort();
        sorted_c.sort();
        if !cids.is_empty() && sorted_f == sorted_c {
            return " (the same blocks in another order)";
        }
        let in_car = !cids.is_empty()
            && cids
                .iter()
                .all(|c| header_digest(c).is_some_and(|d| self.kept.contains_key(&d)));
        if in_car {
            " (the finalized tipset is in the CAR, on a fork the head does not descend from)"
        } else {
            ""
        }
    }
}

impl ChainVisitor for Checker {
    fn start(&mut self, _version: SnapshotVersion, head: &[Cid]) {
        self.set_head(head);
    }

    fn wants(&self, cid: &Cid, len: u64) -> bool {
        Checker::wants(self, cid, len)
    }

    fn block(&mut self, cid: &Cid, data: &[u8], offset: u64) -> Result<()> {
        Checker::block(self, cid, data, offset)
    }
}

/// Checks a chain CAR against `finalized`, the head of the last certificate of the F3 data it
/// is to be joined with, on its own (`merge` runs the same [`Checker`] on the blocks it copies,
/// through `merge::ConsistencyCheck`). The CAR is a
/// v1 snapshot (its roots are the head) or a v2 one (its `HeadTipsetKey`; its own F3 block is
/// read and hashed, not judged). Every block hash is checked as `check` checks it.
pub fn check_car<R: Read>(r: R, finalized: &TipsetRef) -> Result<Consistency> {
    let mut checker = Checker::new(finalized.clone());
    let mut info = CarInfo::default();
    let mut hash_f3 = |r: &mut dyn Read, _base: u64| -> Result<Cid> {
        let mut h = crate::framing::HashingReader::new(r);
        std::io::copy(&mut h, &mut std::io::sink())?;
        Ok(crate::cids::cid_from_digest(crate::cids::RAW, &h.digest()))
    };
    read_car_snapshot_with(r, &mut info, &mut hash_f3, &mut checker)?;
    checker.finish()?;
    Ok(checker.summary())
}
