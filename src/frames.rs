//! Length-prefixed frames (`uvarint(len) ‖ bytes`, see [`crate::framing`]) read in place from a
//! buffer, with the blake2b-256 digest of every byte consumed, for the F3 data stream.
//!
//! The buffer is filled by large reads, so a frame costs no read call of its own, and each
//! frame's body is handed out as a range of the buffer rather than copied. Past the first MiB
//! the hashing moves to a thread of its own, and whole buffers move to it once read (by
//! ownership, nothing copied): on two cores, hashing the stream overlaps decoding it.
//!
//! Reading ahead does not change what a reader reports: a read error is held until the frames
//! before it have been read, [`FrameReader::consumed`] counts what the frames took (the bytes
//! of a frame that failed included, as an exact reader would have read them), and the first
//! frame is read exactly, so a failure in it leaves the source where an exact reader would.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::mpsc;

use crate::error::{Error, ErrorKind, Result};
use crate::framing::MAX_VARINT_LEN;

/// Bytes per buffer.
const CHUNK: usize = 256 << 10;
/// Bytes hashed inline before hashing moves to a thread.
const THREAD_AFTER: u64 = 1 << 20;
/// Bytes handed to the hashing thread and not yet hashed, at most (beyond one buffer).
const MAX_IN_FLIGHT: usize = 4 * CHUNK;

enum Msg {
    Data(Vec<u8>, Range<usize>),
    Digest(mpsc::Sender<[u8; 32]>),
}

/// Where consumed bytes are hashed.
enum Hasher {
    Inline(blake2b_simd::State),
    Threaded {
        tx: Option<mpsc::Sender<Msg>>,
        /// Buffers coming back from the thread once hashed.
        back: mpsc::Receiver<Vec<u8>>,
        in_flight: usize,
        handle: Option<std::thread::JoinHandle<()>>,
    },
}

impl Hasher {
    fn threaded(state: blake2b_simd::State) -> Hasher {
        let (tx, rx) = mpsc::channel::<Msg>();
        let (back_tx, back) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            let mut state = state;
            while let Ok(msg) = rx.recv() {
                match msg {
                    Msg::Data(v, range) => {
                        state.update(v.get(range).unwrap_or_default());
                        let _ = back_tx.send(v);
                    }
                    Msg::Digest(reply) => {
                        let _ = reply.send(crate::cids::finish_blake2b256(&state));
                    }
                }
            }
        });
        Hasher::Threaded {
            tx: Some(tx),
            back,
            in_flight: 0,
            handle: Some(handle),
        }
    }
}

impl Drop for Hasher {
    fn drop(&mut self) {
        if let Hasher::Threaded { tx, handle, .. } = self {
            tx.take();
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}

/// Reads frames in place; see the module documentation.
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    buf_offset: u64,
    /// First byte not yet consumed.
    start: usize,
    /// End of the bytes read.
    end: usize,
    /// Consumed bytes from here to `start` are not yet hashed.
    hashed: usize,
    /// The source has ended.
    eof: bool,
    /// A read failed; reported when the bytes before it are used up.
    error: Option<io::Error>,
    /// Read ahead (after the first frame) rather than exactly.
    ahead: bool,
    hasher: Hasher,
}

impl<R: Read> FrameReader<R> {
    /// A reader of `inner`, reading exactly until [`FrameReader::read_ahead`].
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: Vec::new(),
            buf_offset: 0,
            start: 0,
            end: 0,
            hashed: 0,
            eof: false,
            error: None,
            ahead: false,
            hasher: Hasher::Inline(crate::cids::blake2b256_state()),
        }
    }

    /// From now on, fill the buffer with large reads.
    pub fn read_ahead(&mut self) {
        self.ahead = true;
    }

    /// Bytes consumed so far: every frame read, and what a failed one took.
    pub fn consumed(&self) -> u64 {
        self.buf_offset + self.start as u64
    }

    /// The bytes of `range`, as [`FrameReader::next_frame`] returned it.
    pub fn bytes(&self, range: Range<usize>) -> &[u8] {
        self.buf.get(range).unwrap_or_default()
    }

    /// The source; bytes read ahead of the last frame are lost with the reader.
    pub fn into_inner(self) -> R {
        let FrameReader { inner, .. } = self;
        inner
    }

    /// The blake2b-256 digest of every byte consumed so far.
    pub fn digest(&mut self) -> [u8; 32] {
        let pending = self.buf.get(self.hashed..self.start).unwrap_or_default();
        match &mut self.hasher {
            Hasher::Inline(st) => {
                st.update(pending);
                self.hashed = self.start;
                crate::cids::finish_blake2b256(st)
            }
            Hasher::Threaded { tx, in_flight, .. } => {
                let Some(t) = tx.as_ref() else { return [0; 32] };
                if !pending.is_empty() {
                    let v = pending.to_vec();
                    let n = v.len();
                    // The thread hands every buffer back, and a returned buffer is taken off
                    // the count in flight: this one must be on it.
                    *in_flight += n;
                    let _ = t.send(Msg::Data(v, 0..n));
                }
                self.hashed = self.start;
                let (reply_tx, reply) = mpsc::channel();
                let _ = t.send(Msg::Digest(reply_tx));
                reply.recv().unwrap_or([0; 32])
            }
        }
    }

    /// Reads the next frame: `Ok(None)` at a clean end of input, else the frame's offset in
    /// the stream, its body's length, and where its body is (see [`FrameReader::bytes`]).
    /// Errors are located at `base` plus the frame's offset, as the exact reader locates them.
    pub fn next_frame(
        &mut self,
        base: u64,
        limit: u64,
        what: &'static str,
    ) -> Result<Option<(u64, u64, Range<usize>)>> {
        let offset = self.consumed();
        let abs = base + offset;
        // The length prefix, one byte at a time from the buffer.
        let mut len = 0u64;
        let mut prefix = 0usize;
        loop {
            if !self.fill(prefix + 1) {
                if let Some(e) = self.error.take() {
                    self.start = self.end;
                    return Err(Error::from(e));
                }
                if prefix == 0 {
                    return Ok(None);
                }
                self.start = self.end;
                return Err(Error::at(ErrorKind::VarintTruncated, abs));
            }
            let byte = self.buf.get(self.start + prefix).copied().unwrap_or(0);
            prefix += 1;
            // The tenth byte may only contribute the 64th bit.
            if prefix == MAX_VARINT_LEN && byte > 1 {
                self.start += prefix;
                return Err(Error::at(ErrorKind::VarintOverflow, abs));
            }
            len |= u64::from(byte & 0x7f) << (7 * (prefix - 1));
            if byte & 0x80 == 0 {
                if byte == 0 && prefix > 1 {
                    self.start += prefix;
                    return Err(Error::at(ErrorKind::VarintOverlong, abs));
                }
                break;
            }
        }
        if len == 0 {
            self.start += prefix;
            return Err(Error::at(ErrorKind::BlockEmpty, abs));
        }
        if len > limit {
            self.start += prefix;
            return Err(Error::at(
                ErrorKind::BlockTooLarge {
                    declared: len,
                    limit,
                    what,
                },
                abs,
            ));
        }
        // `len` is at most `limit`, a few MiB; the buffer grows only as bytes arrive.
        let total = prefix + len as usize;
        if !self.fill(total) {
            let available = (self.end - self.start - prefix) as u64;
            self.start = self.end;
            return Err(match self.error.take() {
                Some(e) => Error::from(e).at_offset(abs),
                None => Error::at(
                    ErrorKind::BlockTruncated {
                        declared: len,
                        available,
                    },
                    abs,
                ),
            });
        }
        let body = self.start + prefix..self.start + total;
        self.start += total;
        Ok(Some((offset, len, body)))
    }

    /// Makes `need` bytes from `start` available; false if the source ends (or fails) first.
    fn fill(&mut self, need: usize) -> bool {
        while self.end - self.start < need {
            if self.eof || self.error.is_some() {
                return false;
            }
            if self.end == self.buf.len() {
                self.make_room();
            }
            let want = if self.ahead {
                self.buf.len()
            } else {
                (self.start + need).min(self.buf.len())
            };
            let Some(dst) = self.buf.get_mut(self.end..want) else {
                return false;
            };
            match self.inner.read(dst) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => self.error = Some(e),
            }
        }
        true
    }

    /// Frees the consumed front of the buffer (hashing it first), moving the unconsumed bytes
    /// to the front of a buffer with room for more. Its size never depends on a declared
    /// length: twice the bytes already there, at least [`CHUNK`] when reading ahead (a few KiB
    /// for the exact first frame).
    fn make_room(&mut self) {
        let tail = self.end - self.start;
        let least = if self.ahead { CHUNK } else { 4 << 10 };
        let size = (tail * 2).max(least);
        self.maybe_thread();
        let mut next = match &mut self.hasher {
            Hasher::Inline(st) => {
                st.update(self.buf.get(self.hashed..self.start).unwrap_or_default());
                // The same buffer serves again when it is large enough.
                if self.buf.len() >= size {
                    self.buf.copy_within(self.start..self.end, 0);
                    self.rebase(tail);
                    return;
                }
                Vec::new()
            }
            Hasher::Threaded {
                tx,
                back,
                in_flight,
                ..
            } => {
                // Buffers the thread has hashed come back; wait for some when too many wait.
                let mut spare = None;
                while *in_flight > 0 && *in_flight + self.buf.len() > MAX_IN_FLIGHT {
                    match back.recv() {
                        Ok(v) => {
                            *in_flight = in_flight.saturating_sub(v.len());
                            spare = Some(v);
                        }
                        Err(_) => *in_flight = 0,
                    }
                }
                while let Ok(v) = back.try_recv() {
                    *in_flight = in_flight.saturating_sub(v.len());
                    spare = Some(v);
                }
                let mut next = spare.filter(|v| v.len() >= size).unwrap_or_default();
                std::mem::swap(&mut next, &mut self.buf);
                // `next` is now the full buffer; its tail moves to the fresh one below.
                if self.buf.len() < size {
                    self.buf = vec![0; size];
                }
                if let (Some(dst), Some(src)) =
                    (self.buf.get_mut(..tail), next.get(self.start..self.end))
                {
                    dst.copy_from_slice(src);
                }
                let range = self.hashed..self.start;
                *in_flight += next.len();
                match tx.as_ref() {
                    Some(t) if !range.is_empty() => {
                        let _ = t.send(Msg::Data(next, range));
                    }
                    _ => *in_flight -= next.len(),
                }
                self.rebase(tail);
                return;
            }
        };
        next.resize(size, 0);
        if let (Some(dst), Some(src)) = (next.get_mut(..tail), self.buf.get(self.start..self.end)) {
            dst.copy_from_slice(src);
        }
        self.buf = next;
        self.rebase(tail);
    }

    /// After the unconsumed bytes moved to the front of the buffer.
    fn rebase(&mut self, tail: usize) {
        self.buf_offset += self.start as u64;
        self.start = 0;
        self.hashed = 0;
        self.end = tail;
    }

    /// Moves hashing to a thread once the stream is long enough and there is a second core.
    fn maybe_thread(&mut self) {
        if let Hasher::Inline(st) = &mut self.hasher {
            if self.ahead
                && self.buf_offset + self.start as u64 > THREAD_AFTER
                && std::thread::available_parallelism().map_or(1, usize::from) > 1
            {
                st.update(self.buf.get(self.hashed..self.start).unwrap_or_default());
                self.hashed = self.start;
                self.hasher = Hasher::threaded(st.clone());
            }
        }
    }
}
