//! RLE+ bitfields (go-bitfield's encoding of a certificate's signer set), decoded strictly: only
//! the canonical encoding go-bitfield's encoder writes is accepted, so every accepted input
//! re-encodes to itself without a second pass.
//!
//! The format, bits taken least significant first within each byte: `00` (version), one bit
//! giving the value of the first run, then run lengths, alternating values: `1` is a run of one,
//! `01` and 4 bits a run of 2 to 15, `00` and a LEB128 varint (8 bits per byte) a run of 16 or
//! more. The encoder drops a trailing run of zeros and trailing zero bytes. Canonical therefore
//! means: the shortest form of every length, no run of length zero, the last run a run of ones,
//! a last byte that is not zero, and the empty set as no bytes at all.
//!
//! Measured: checking canonicity by re-encoding with `fvm_ipld_bitfield` took over half of the
//! `structure` level's time on a mainnet-shaped snapshot; `tests/bitfield_oracle.rs` checks
//! this codec against that crate. Checking a signer set without keeping it ([`check`], what the
//! borrowed certificate view does) decodes a run of ones and the run of zeros after it with one
//! table lookup: on mainnet-shaped signer sets that took a third fewer instructions than a run
//! at a time, and allocates nothing.

use std::ops::Range;

use crate::error::Result;

/// A set of indexes as sorted, disjoint, non-adjacent ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Runs {
    ranges: Vec<Range<u64>>,
}

mod decode;

pub use decode::{check, RunIter, Summary};
use decode::{malformed, walk};

impl Runs {
    /// Decodes canonical RLE+ bytes.
    pub fn decode(bytes: &[u8]) -> Result<Runs> {
        // A run of ones takes at least one bit, and one of zeros another: at most four per byte.
        let mut ranges = Vec::with_capacity((bytes.len() * 4).min(4096));
        walk(bytes, |start, next| ranges.push(start..next))?;
        Ok(Runs { ranges })
    }

    /// The set of the runs `runs` yields, which must be ascending, disjoint and not adjacent
    /// (as [`RunIter`] yields them).
    pub(crate) fn from_runs(runs: impl Iterator<Item = Range<u64>>) -> Runs {
        Runs {
            ranges: runs.collect(),
        }
    }

    /// The set of `indexes` (any order, repeats allowed).
    pub fn from_indexes(indexes: impl IntoIterator<Item = u64>) -> Runs {
        let mut v: Vec<u64> = indexes.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut ranges: Vec<Range<u64>> = Vec::new();
        for i in v {
            match ranges.last_mut() {
                Some(r) if r.end == i => r.end = i + 1,
                _ => ranges.push(i..i.saturating_add(1)),
            }
        }
        Runs { ranges }
    }

    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let Some(first) = self.ranges.first() else {
            return Vec::new();
        };
        let mut w = Writer::default();
        w.bits(0, 2);
        let mut cursor = 0u64;
        if first.start == 0 {
            w.bits(1, 1);
        } else {
            w.bits(0, 1);
        }
        for r in &self.ranges {
            if r.start > cursor {
                w.len(r.start - cursor);
            }
            w.len(r.end - r.start);
            cursor = r.end;
        }
        let mut out = w.finish();
        while out.last() == Some(&0) {
            out.pop();
        }
        out
    }

    /// Number of indexes.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The largest index.
    pub fn last(&self) -> Option<u64> {
        self.ranges.last().map(|r| r.end - 1)
    }

    /// The indexes in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.ranges.iter().flat_map(|r| r.clone())
    }

    /// The run lengths as go-bitfield writes them in JSON: alternating runs of absent and
    /// present indexes, starting with the absent ones (a leading `0` when index 0 is set);
    /// the empty set is `[0]`.
    pub fn run_lengths(&self) -> Vec<u64> {
        let mut out = Vec::with_capacity(self.ranges.len() * 2 + 1);
        let mut cursor = 0u64;
        for r in &self.ranges {
            out.push(r.start - cursor);
            out.push(r.end - r.start);
            cursor = r.end;
        }
        if out.is_empty() {
            out.push(0);
        }
        out
    }

    /// The set of the run lengths `runs` (as [`Runs::run_lengths`] gives them), read as
    /// go-bitfield reads its JSON: a zero is allowed only first, and a trailing run of absent
    /// indexes is dropped. Fails on a zero elsewhere or indexes past 2^64.
    pub fn from_run_lengths(runs: &[u64]) -> Result<Runs> {
        let mut ranges: Vec<Range<u64>> = Vec::new();
        let mut cursor = 0u64;
        for (i, &len) in runs.iter().enumerate() {
            if len == 0 {
                if i != 0 {
                    return Err(malformed("a run of length zero after the first"));
                }
                continue;
            }
            let end = cursor
                .checked_add(len)
                .ok_or_else(|| malformed("bitfield extends past 2^64"))?;
            if i % 2 == 1 {
                ranges.push(cursor..end);
            }
            cursor = end;
        }
        Ok(Runs { ranges })
    }
}

/// Bits least significant first, gathered in a word and written a byte at a time.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    acc: u64,
    nacc: u32,
}

impl Writer {
    /// Appends the low `n` (at most 32) bits of `v`.
    fn bits(&mut self, v: u64, n: u32) {
        self.acc |= (v & ((1u64 << n) - 1)) << self.nacc;
        self.nacc += n;
        while self.nacc >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.nacc -= 8;
        }
    }

    fn len(&mut self, n: u64) {
        match n {
            1 => self.bits(1, 1),
            2..=15 => self.bits(0b10 | (n << 2), 6),
            _ => {
                self.bits(0, 2);
                let mut v = n;
                loop {
                    let mut byte = v & 0x7f;
                    v >>= 7;
                    if v != 0 {
                        byte |= 0x80;
                    }
                    self.bits(byte, 8);
                    if v == 0 {
                        break;
                    }
                }
            }
        }
    }

    /// The bytes written, the last one padded with zeros.
    fn finish(mut self) -> Vec<u8> {
        if self.nacc > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodings go-bitfield writes for these sets (from its test vectors).
    #[test]
    fn known_encodings() {
        let cases: &[(&[u64], &[u8])] = &[
            (&[0], &[0x0c]),
            (&[0, 1, 2, 3, 4], &[0xb4]),
            (&[5], &[0xb0, 0x02]),
            (&[0, 2, 4, 100], &[0xfc, 0x7c, 0x05]),
            (&[], &[]),
        ];
        for (set, bytes) in cases {
            let r = Runs::from_indexes(set.iter().copied());
            assert_eq!(r.encode(), *bytes, "{set:?}");
            assert_eq!(Runs::decode(bytes).unwrap(), r);
        }
    }

    /// go-bitfield's JSON example: {0, 1, 2, 8, 9} is `[0, 3, 5, 2]`.
    #[test]
    fn run_lengths_as_go_bitfield_writes_them() {
        let r = Runs::from_indexes([0, 1, 2, 8, 9]);
        assert_eq!(r.run_lengths(), [0, 3, 5, 2]);
        assert_eq!(Runs::from_run_lengths(&[0, 3, 5, 2]).unwrap(), r);
        let r = Runs::from_indexes([4, 6]);
        assert_eq!(r.run_lengths(), [4, 1, 1, 1]);
        assert_eq!(Runs::from_run_lengths(&[4, 1, 1, 1]).unwrap(), r);
        assert_eq!(Runs::default().run_lengths(), [0]);
        assert_eq!(Runs::from_run_lengths(&[0]).unwrap(), Runs::default());
        assert_eq!(Runs::from_run_lengths(&[]).unwrap(), Runs::default());
        // A trailing run of absent indexes is dropped, as go-bitfield's encoder drops it.
        assert_eq!(
            Runs::from_run_lengths(&[2, 3, 7]).unwrap(),
            Runs::from_indexes([2, 3, 4])
        );
        assert!(Runs::from_run_lengths(&[1, 0, 2]).is_err());
        assert!(Runs::from_run_lengths(&[u64::MAX, 2]).is_err());
    }
}
