//! A power table's entries in go-f3's order, each kept as its encoding, in leaves of a few
//! dozen entries shared by reference: the table's encoding is the leaves one after another,
//! and a copy of it for hashing elsewhere ([`Order::snapshot`]) costs one reference per leaf.
//! A change copies only the leaves it touches, and only while a snapshot still holds them.
//!
//! Measured at the `chain` level, which hashes the table after every change: copying the whole
//! encoding (94 KB for 1,500 participants) for each certificate took a sixth of the time
//! beside two threads hashing; a change touches one or two leaves of about 2 KB.

use std::sync::Arc;

/// Entries per leaf before it splits.
const MAX_LEAF: usize = 32;
/// Entries per leaf when the order is built whole.
const FILL: usize = 24;

/// A run of consecutive entries: their keys, where each one's encoding ends, and the
/// encodings one after another.
#[derive(Debug, Clone)]
pub(crate) struct Leaf<K> {
    keys: Vec<K>,
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl<K> Leaf<K> {
    fn new() -> Self {
        Leaf {
            keys: Vec::new(),
            ends: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// Where entry `pos`'s encoding starts.
    fn start(&self, pos: usize) -> usize {
        match pos.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        }
    }
}

/// Keyed entries in key order, with their encodings.
#[derive(Debug, Clone)]
pub(crate) struct Order<K> {
    leaves: Vec<Arc<Leaf<K>>>,
    len: usize,
    bytes: usize,
}

/// The leaves of an [`Order`] as they were: its encoding, frozen, to hash on another thread.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot<K> {
    leaves: Vec<Arc<Leaf<K>>>,
}

impl<K> Snapshot<K> {
    /// The encodings, in order, in pieces.
    pub(crate) fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.leaves.iter().map(|l| l.bytes.as_slice())
    }
}

impl<K: Ord + Clone> Order<K> {
    pub(crate) fn new() -> Self {
        Order {
            leaves: Vec::new(),
            len: 0,
            bytes: 0,
        }
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of all encodings.
    pub(crate) fn encoded_len(&self) -> usize {
        self.bytes
    }

    pub(crate) fn clear(&mut self) {
        self.leaves.clear();
        self.len = 0;
        self.bytes = 0;
    }

    /// The leaf where `key` is or would go: the first whose last key is not below it, or the
    /// last leaf.
    fn leaf_for(&self, key: &K) -> usize {
        let i = self
            .leaves
            .partition_point(|l| l.keys.last().is_some_and(|k| k < key));
        i.min(self.leaves.len().saturating_sub(1))
    }

    /// Adds an entry whose key is not there yet.
    pub(crate) fn insert(&mut self, key: K, encoding: &[u8]) {
        if self.leaves.is_empty() {
            self.leaves.push(Arc::new(Leaf::new()));
        }
        let i = self.leaf_for(&key);
        let Some(leaf) = self.leaves.get_mut(i) else {
            return;
        };
        let leaf = Arc::make_mut(leaf);
        let pos = leaf.keys.partition_point(|k| *k < key);
        let at = leaf.start(pos);
        let n = encoding.len();
        leaf.bytes.splice(at..at, encoding.iter().copied());
        leaf.keys.insert(pos, key);
        leaf.ends.insert(pos, at + n);
        for e in leaf.ends.iter_mut().skip(pos + 1) {
            *e += n;
        }
        self.len += 1;
        self.bytes += n;
        if leaf.keys.len() > MAX_LEAF {
            let half = leaf.keys.len() / 2;
            let cut = leaf.start(half);
            let right = Leaf {
                keys: leaf.keys.split_off(half),
                ends: leaf
                    .ends
                    .split_off(half)
                    .into_iter()
                    .map(|e| e - cut)
                    .collect(),
                bytes: leaf.bytes.split_off(cut),
            };
            self.leaves.insert(i + 1, Arc::new(right));
        }
    }

    /// Removes the entry with `key`; false if there is none.
    pub(crate) fn remove(&mut self, key: &K) -> bool {
        let i = self.leaf_for(key);
        let Some(pos) = self
            .leaves
            .get(i)
            .and_then(|l| l.keys.binary_search(key).ok())
        else {
            return false;
        };
        let Some(leaf) = self.leaves.get_mut(i) else {
            return false;
        };
        let leaf = Arc::make_mut(leaf);
        let (start, end) = (leaf.start(pos), leaf.ends.get(pos).copied().unwrap_or(0));
        leaf.bytes.drain(start..end);
        leaf.keys.remove(pos);
        leaf.ends.remove(pos);
        for e in leaf.ends.iter_mut().skip(pos) {
            *e -= end - start;
        }
        self.len -= 1;
        self.bytes -= end - start;
        let small = leaf.keys.len() < MAX_LEAF / 4;
        if leaf.keys.is_empty() {
            self.leaves.remove(i);
        } else if small {
            self.merge_after(i);
        }
        true
    }

    /// Merges a small leaf `i` into its next neighbour (or its previous one) when they fit in
    /// one, so that removals do not leave many tiny leaves.
    fn merge_after(&mut self, i: usize) {
        let (a, b) = if i + 1 < self.leaves.len() {
            (i, i + 1)
        } else if i > 0 {
            (i - 1, i)
        } else {
            return;
        };
        let fits = match (self.leaves.get(a), self.leaves.get(b)) {
            (Some(x), Some(y)) => x.keys.len() + y.keys.len() <= MAX_LEAF,
            _ => false,
        };
        if !fits {
            return;
        }
        let second = self.leaves.remove(b);
        let Some(first) = self.leaves.get_mut(a) else {
            return;
        };
        let first = Arc::make_mut(first);
        let shift = first.bytes.len();
        first.keys.extend(second.keys.iter().cloned());
        first.ends.extend(second.ends.iter().map(|e| e + shift));
        first.bytes.extend_from_slice(&second.bytes);
    }

    /// Appends an entry whose key is above every key there (building the order whole).
    pub(crate) fn push_last(&mut self, key: K, encoding: &[u8]) {
        let full = self.leaves.last().is_none_or(|l| l.keys.len() >= FILL);
        if full {
            // Sized for a full leaf (entries are about 64 bytes), so filling it allocates once.
            self.leaves.push(Arc::new(Leaf {
                keys: Vec::with_capacity(FILL),
                ends: Vec::with_capacity(FILL),
                bytes: Vec::with_capacity(FILL * encoding.len()),
            }));
        }
        if let Some(leaf) = self.leaves.last_mut() {
            let leaf = Arc::make_mut(leaf);
            leaf.bytes.extend_from_slice(encoding);
            leaf.keys.push(key);
            leaf.ends.push(leaf.bytes.len());
            self.len += 1;
            self.bytes += encoding.len();
        }
    }

    /// The keys in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.leaves.iter().flat_map(|l| l.keys.iter())
    }

    /// Appends every encoding, in order, to `out`.
    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        for l in &self.leaves {
            out.extend_from_slice(&l.bytes);
        }
    }

    /// The encodings as they are now, sharing the leaves.
    pub(crate) fn snapshot(&self) -> Snapshot<K> {
        Snapshot {
            leaves: self.leaves.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random inserts and removals, with snapshots taken along the way: the order always
    /// matches a sorted model, and every snapshot still reads as it was taken.
    #[test]
    fn matches_a_sorted_model() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let enc = |k: u64| -> Vec<u8> { (0..(k % 7 + 1)).map(|i| (k + i) as u8).collect() };
        let mut order = Order::new();
        let mut model = std::collections::BTreeSet::new();
        let mut snaps: Vec<(Snapshot<u64>, Vec<u8>)> = Vec::new();
        for step in 0..20_000 {
            let k = next() % 600;
            if model.contains(&k) {
                assert!(order.remove(&k));
                model.remove(&k);
            } else {
                order.insert(k, &enc(k));
                model.insert(k);
            }
            assert!(!order.remove(&(1000 + k)));
            if step % 997 == 0 {
                let mut bytes = Vec::new();
                order.write_to(&mut bytes);
                snaps.push((order.snapshot(), bytes));
            }
        }
        assert_eq!(
            order.keys().copied().collect::<Vec<_>>(),
            model.iter().copied().collect::<Vec<_>>()
        );
        let want: Vec<u8> = model.iter().flat_map(|&k| enc(k)).collect();
        let mut got = Vec::new();
        order.write_to(&mut got);
        assert_eq!(got, want);
        assert_eq!(order.encoded_len(), want.len());
        assert_eq!(order.len(), model.len());
        assert!(order
            .leaves
            .iter()
            .all(|l| !l.keys.is_empty() && l.keys.len() <= MAX_LEAF));
        for (snap, bytes) in snaps {
            assert_eq!(snap.parts().flatten().copied().collect::<Vec<_>>(), bytes);
        }
    }
}
