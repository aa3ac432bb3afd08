//! Decoding RLE+ (the format is described in the parent module): a bit reader, the tables that
//! decide run lengths without branching on them, and the two decoders built on them, the one
//! loop behind [`super::Runs::decode`] and [`check`], and the run-at-a-time [`RunIter`].

use std::ops::Range;

use crate::error::{Error, ErrorKind, Result};

/// Bits least significant first, through a 64-bit window refilled eight bytes at a time where
/// the input allows; zeros past the end.
#[derive(Clone, Copy)]
struct Bits<'a> {
    bytes: &'a [u8],
    next: usize,
    window: u64,
    have: u32,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Bits {
            bytes,
            next: 0,
            window: 0,
            have: 0,
        }
    }

    /// Tops the window up to at least 57 bits.
    #[inline]
    fn refill(&mut self) {
        if let Some(word) = self.bytes.get(self.next..self.next + 8) {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            let take = (63 - self.have) / 8;
            self.window |= u64::from_le_bytes(le) << self.have;
            // Bits above the whole bytes taken are shifted in again on the next refill.
            self.window &= u64::MAX >> (64 - (self.have + take * 8));
            self.next += take as usize;
            self.have += take * 8;
        } else {
            while self.have <= 56 {
                let b = self.bytes.get(self.next).copied().unwrap_or(0);
                self.next += 1;
                self.window |= u64::from(b) << self.have;
                self.have += 8;
            }
        }
    }

    /// Bits consumed so far.
    #[inline(always)]
    fn pos(&self) -> u64 {
        self.next as u64 * 8 - u64::from(self.have)
    }

    /// The next `n` (at most 57) bits without consuming them.
    #[inline]
    fn peek(&mut self, n: u32) -> u64 {
        if self.have < n {
            self.refill();
        }
        self.window & ((1u64 << n) - 1)
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.window >>= n;
        self.have -= n;
    }

    /// The next `n` (at most 8) bits.
    #[inline]
    fn read(&mut self, n: u32) -> u8 {
        let v = self.peek(n) as u8;
        self.consume(n);
        v
    }
}

/// A rule an encoding breaks: small, so that the decoding loop keeps its state in registers,
/// and made an [`Error`] only when reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Broken {
    NonCanonical,
    Version,
    LengthOverflows,
    LengthTooLong,
    PastEnd,
}

pub(super) fn malformed(msg: &str) -> Error {
    Error::new(ErrorKind::BitfieldMalformed(msg.to_string()))
}

impl From<Broken> for Error {
    #[cold]
    fn from(b: Broken) -> Error {
        let malformed = |msg: &str| ErrorKind::BitfieldMalformed(msg.to_string());
        Error::new(match b {
            Broken::NonCanonical => ErrorKind::BitfieldNonCanonical,
            Broken::Version => malformed("unsupported version"),
            Broken::LengthOverflows => malformed("run length overflows 64 bits"),
            Broken::LengthTooLong => malformed("run length varint is too long"),
            Broken::PastEnd => malformed("bitfield extends past 2^64"),
        })
    }
}

/// A run length too long for [`RUN_TABLE`]: a varint of more than one byte.
const LONG: u16 = 1 << 14;
/// A run length not in its shortest form.
const NOT_SHORTEST: u16 = 1 << 15;

/// What the next ten bits say about a run length, for every value of them: its bits (low four
/// bits) and its length (the next seven), or [`LONG`], or [`NOT_SHORTEST`]. Run lengths vary
/// from run to run, and looking them up decides each without branching on it.
static RUN_TABLE: [u16; 1024] = run_table();

/// The [`RUN_TABLE`] entry for the run length at the low bits of `w`.
const fn run_entry(w: usize) -> u16 {
    if w & 1 == 1 {
        1 | (1 << 4)
    } else if w & 2 == 2 {
        let n = (w >> 2) & 15;
        if n < 2 {
            NOT_SHORTEST
        } else {
            6 | ((n as u16) << 4)
        }
    } else {
        let byte = (w >> 2) & 0xff;
        if byte & 0x80 != 0 {
            LONG
        } else if byte < 16 {
            NOT_SHORTEST
        } else {
            10 | ((byte as u16) << 4)
        }
    }
}

const fn run_table() -> [u16; 1024] {
    let mut t = [0u16; 1024];
    let mut w = 0;
    while w < 1024 {
        t[w] = run_entry(w);
        w += 1;
    }
    t
}

/// Bits [`PAIR_TABLE`] looks at.
const PAIR_BITS: u32 = 12;
/// In a [`PAIR_TABLE`] entry: the twelve bits do not hold two whole, simple run lengths.
const NOT_PAIR: u32 = 1 << 31;

/// Two run lengths at once, a run of ones and the run of zeros after it, for every value of
/// the next twelve bits: the bits they take (bits 0..5), the first length (5..12) and the
/// second (12..19); or [`NOT_PAIR`], for the run-at-a-time steps. Checking a signer set is
/// mostly this lookup.
static PAIR_TABLE: [u32; 1 << PAIR_BITS] = pair_table();

const fn pair_table() -> [u32; 1 << PAIR_BITS] {
    let mut t = [0u32; 1 << PAIR_BITS];
    let mut w = 0;
    while w < 1 << PAIR_BITS {
        let a = run_entry(w);
        t[w] = NOT_PAIR;
        if a & (LONG | NOT_SHORTEST) == 0 {
            let a_bits = (a & 15) as usize;
            let b = run_entry(w >> a_bits);
            let b_bits = (b & 15) as usize;
            if b & (LONG | NOT_SHORTEST) == 0 && a_bits + b_bits <= PAIR_BITS as usize {
                t[w] =
                    (a_bits + b_bits) as u32 | (((a >> 4) as u32) << 5) | (((b >> 4) as u32) << 12);
            }
        }
        w += 1;
    }
    t
}

/// One run's length, in its shortest form: `1` is a run of one, `01` and 4 bits a run of 2 to
/// 15, `00` and a LEB128 varint a run of 16 or more.
#[inline(always)]
fn run_length(b: &mut Bits<'_>) -> std::result::Result<u64, Broken> {
    let head = b.peek(10);
    let e = RUN_TABLE.get(head as usize).copied().unwrap_or(LONG);
    if e & (LONG | NOT_SHORTEST) == 0 {
        b.consume(u32::from(e & 15));
        return Ok(u64::from(e >> 4));
    }
    if e & NOT_SHORTEST != 0 {
        return Err(Broken::NonCanonical);
    }
    // Taken and given back by value, so that the caller's bits stay in registers.
    let (r, after) = long_run_length(*b);
    *b = after;
    r
}

/// A run length of `00` and a varint of more than one byte.
#[cold]
#[inline(never)]
fn long_run_length(mut b: Bits<'_>) -> (std::result::Result<u64, Broken>, Bits<'_>) {
    b.consume(2);
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let byte = b.read(8);
        if shift == 63 && byte > 1 {
            return (Err(Broken::LengthOverflows), b);
        }
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            if byte == 0 && shift > 0 {
                return (Err(Broken::NonCanonical), b);
            }
            break;
        }
        shift += 7;
        if shift > 63 {
            return (Err(Broken::LengthTooLong), b);
        }
    }
    if v < 16 {
        return (Err(Broken::NonCanonical), b);
    }
    (Ok(v), b)
}

/// What a canonical bitfield holds, found while checking it, without keeping its runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Number of indexes.
    pub count: u64,
    /// The largest index, if any.
    pub last: Option<u64>,
}

/// Checks that `bytes` are canonical RLE+, as [`super::Runs::decode`] does (same errors), without
/// allocating: the borrowed certificate view's check of its signers.
pub fn check(bytes: &[u8]) -> Result<Summary> {
    let (mut count, mut end) = (0u64, 0u64);
    walk(bytes, |start, next| {
        // The ones counted lie below `next`, so the count cannot overflow.
        count += next - start;
        end = next;
    })?;
    // Every run of ones holds one at least: no ones, no runs.
    Ok(Summary {
        count,
        last: (count > 0).then(|| end - 1),
    })
}

/// Calls `on_ones(start, end)` for each run of ones: [`RunIter::step`]'s rules in the same
/// order, in one loop whose state stays in registers.
#[inline(always)]
pub(super) fn walk(
    bytes: &[u8],
    mut on_ones: impl FnMut(u64, u64),
) -> std::result::Result<(), Broken> {
    let mut runs = RunIter::new(bytes);
    if !runs.start()? {
        return Ok(());
    }
    let (mut b, end, mut index) = (runs.b, runs.end, runs.index);
    loop {
        let e = PAIR_TABLE
            .get(b.peek(PAIR_BITS) as usize)
            .copied()
            .unwrap_or(NOT_PAIR);
        if e & NOT_PAIR == 0 {
            // A run length the table decodes holds a set bit, so neither run is past the
            // last set bit: the checks of `end` below are not needed here. Both lengths are
            // below 128, so the sum overflows exactly when either step would.
            b.consume(e & 31);
            let (ones, zeros) = (u64::from((e >> 5) & 0x7f), u64::from((e >> 12) & 0x7f));
            let next = index.wrapping_add(ones);
            let after = next.wrapping_add(zeros);
            if after < index {
                return Err(Broken::PastEnd);
            }
            on_ones(index, next);
            index = after;
            continue;
        }
        if b.pos() > end {
            return Err(Broken::NonCanonical);
        }
        let next = index
            .checked_add(run_length(&mut b)?)
            .ok_or(Broken::PastEnd)?;
        on_ones(index, next);
        if b.pos() > end {
            return Ok(());
        }
        index = next
            .checked_add(run_length(&mut b)?)
            .ok_or(Broken::PastEnd)?;
    }
}

/// The runs of ones of RLE+ bytes, decoded one at a time (the borrowed views' signer iteration);
/// [`super::Runs::decode`] and [`check`] apply the same rules in one loop.
///
/// [`RunIter::next_run`] reports the first rule broken; as an [`Iterator`] it is meant for
/// bytes already checked, and simply ends at an error.
#[derive(Clone)]
pub struct RunIter<'a> {
    b: Bits<'a>,
    /// Index of the last set bit (see [`RunIter::start`]).
    end: u64,
    /// Where the next run of ones starts.
    index: u64,
    started: bool,
    done: bool,
}

impl<'a> RunIter<'a> {
    /// Runs of `bytes`, not yet checked.
    pub fn new(bytes: &'a [u8]) -> Self {
        RunIter {
            b: Bits::new(bytes),
            end: 0,
            index: 0,
            started: false,
            done: false,
        }
    }

    /// Reads the version, the first run's value, and a leading run of zeros; returns false
    /// for the empty set.
    #[inline(always)]
    fn start(&mut self) -> std::result::Result<bool, Broken> {
        self.started = true;
        let Some(&last) = self.b.bytes.last() else {
            return Ok(false);
        };
        if last == 0 {
            return Err(Broken::NonCanonical);
        }
        // The index of the last set bit: every run's encoding holds a set bit, so when none
        // remains the runs have ended.
        self.end = (self.b.bytes.len() as u64 - 1) * 8 + u64::from(7 - last.leading_zeros() as u8);
        if self.b.read(2) != 0 {
            return Err(Broken::Version);
        }
        let starts_with_ones = self.b.read(1) == 1;
        if !starts_with_ones {
            if self.b.pos() > self.end {
                return Err(Broken::NonCanonical);
            }
            self.index = run_length(&mut self.b)?;
        }
        Ok(true)
    }

    /// The next run of ones, or the first rule the encoding breaks. Runs alternate, ones then
    /// zeros, and the last must be a run of ones.
    #[inline]
    pub fn next_run(&mut self) -> Result<Option<Range<u64>>> {
        if self.done {
            return Ok(None);
        }
        let r = self.step();
        if !matches!(r, Ok(Some(_))) {
            self.done = true;
        }
        Ok(r?)
    }

    #[inline(always)]
    fn step(&mut self) -> std::result::Result<Option<Range<u64>>, Broken> {
        if !self.started && !self.start()? {
            return Ok(None);
        }
        if self.b.pos() > self.end {
            // A trailing run of zeros (or no run at all).
            return Err(Broken::NonCanonical);
        }
        let start = self.index;
        let next = start
            .checked_add(run_length(&mut self.b)?)
            .ok_or(Broken::PastEnd)?;
        if self.b.pos() > self.end {
            self.done = true;
        } else {
            self.index = next
                .checked_add(run_length(&mut self.b)?)
                .ok_or(Broken::PastEnd)?;
        }
        Ok(Some(start..next))
    }
}

impl Iterator for RunIter<'_> {
    type Item = Range<u64>;

    fn next(&mut self) -> Option<Range<u64>> {
        self.next_run().ok().flatten()
    }
}
