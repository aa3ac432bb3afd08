//! The in-place frame reader, which reads ahead and hashes on a thread, against an exact reader
//! (a varint a byte at a time, then exactly the body, every byte hashed as read): the same
//! frames, the same errors at the same offsets, the same count of bytes consumed, the same
//! digest, whatever the sizes of the source's reads, wherever the source fails or ends.

use std::io::{self, Read};

use frc0108::error::{Error, ErrorKind};
use frc0108::frames::FrameReader;
use frc0108::framing::{encode_uvarint, read_exact_growing, read_uvarint};
use proptest::prelude::*;

/// A source handing out at most `step` bytes a read (varying), failing at `fail_at`, and
/// interrupting now and then.
struct Source {
    data: Vec<u8>,
    pos: usize,
    steps: Vec<usize>,
    calls: usize,
    fail_at: Option<usize>,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 7 == 3 {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
        }
        let end = self.fail_at.unwrap_or(self.data.len()).min(self.data.len());
        if self.pos >= end {
            return match self.fail_at {
                Some(_) => Err(io::Error::other("the source failed")),
                None => Ok(0),
            };
        }
        let step = self.steps[self.calls % self.steps.len()].max(1);
        let n = buf.len().min(end - self.pos).min(step);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Counts and hashes what passes.
struct Counting<R> {
    inner: R,
    count: u64,
    state: blake2b_simd::State,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        self.state.update(&buf[..n]);
        Ok(n)
    }
}

type Frame = Result<Option<(u64, u64, Vec<u8>)>, Error>;

/// The exact reader: what the F3 data reader did before it read ahead.
fn exact_frame<R: Read>(r: &mut Counting<R>, base: u64, limit: u64) -> Frame {
    let offset = r.count;
    let abs = base + offset;
    let Some((len, _)) = read_uvarint(r).map_err(|e| shifted(e, abs))? else {
        return Ok(None);
    };
    if len == 0 {
        return Err(Error::at(ErrorKind::BlockEmpty, abs));
    }
    if len > limit {
        return Err(Error::at(
            ErrorKind::BlockTooLarge {
                declared: len,
                limit,
                what: "block",
            },
            abs,
        ));
    }
    let mut buf = Vec::new();
    read_exact_growing(r, len, &mut buf).map_err(|e| e.at_offset(abs))?;
    Ok(Some((offset, len, buf)))
}

fn shifted(mut e: Error, by: u64) -> Error {
    if let Some(o) = e.location.offset.as_mut() {
        *o += by;
    }
    e
}

fn digest(state: &blake2b_simd::State) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(state.finalize().as_bytes());
    out
}

/// Reads every frame both ways (the first exactly, the rest ahead for the in-place reader) and
/// compares everything.
fn compare(data: Vec<u8>, steps: Vec<usize>, fail_at: Option<usize>, limit: u64, base: u64) {
    let source = |data: &Vec<u8>| Source {
        data: data.clone(),
        pos: 0,
        steps: steps.clone(),
        calls: 0,
        fail_at,
    };
    let mut exact = Counting {
        inner: source(&data),
        count: 0,
        state: blake2b_simd::Params::new().hash_length(32).to_state(),
    };
    let mut ahead = FrameReader::new(source(&data));
    let mut frames = 0;
    loop {
        let want = exact_frame(&mut exact, base, limit);
        let got: Frame = ahead
            .next_frame(base, limit, "block")
            .map(|f| f.map(|(o, l, body)| (o, l, ahead.bytes(body).to_vec())));
        assert_eq!(got, want, "frame {frames}");
        frames += 1;
        if frames == 1 {
            ahead.read_ahead();
        }
        if !matches!(want, Ok(Some(_))) {
            break;
        }
    }
    assert_eq!(ahead.consumed(), exact.count, "bytes consumed");
    assert_eq!(ahead.digest(), digest(&exact.state), "digest");
}

fn stream(sizes: &[usize], seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        encode_uvarint(n as u64, &mut out);
        out.extend((0..n).map(|k| (k as u8).wrapping_mul(31) ^ (i as u8) ^ seed));
    }
    out
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        4 => proptest::collection::vec(1usize..3000, 0..60),
        1 => proptest::collection::vec(prop_oneof![1usize..2000, 200_000usize..700_000], 0..8),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Well-formed streams, cut short or failing anywhere, read in reads of any size.
    #[test]
    fn reads_ahead_as_an_exact_reader_reads(
        sizes in sizes(),
        steps in proptest::collection::vec(1usize..200_000, 1..5),
        cut in any::<prop::sample::Index>(),
        how in 0u8..3,
        seed in any::<u8>(),
    ) {
        let mut data = stream(&sizes, seed);
        let at = cut.index(data.len() + 1);
        let fail_at = match how {
            0 => None,
            1 => { data.truncate(at); None }
            _ => Some(at),
        };
        compare(data, steps, fail_at, 1 << 20, 1000);
    }

    /// Broken prefixes (overlong, overflowing, zero, over the limit) anywhere in a stream.
    #[test]
    fn broken_prefixes_fail_alike(
        sizes in proptest::collection::vec(1usize..500, 1..20),
        at in any::<prop::sample::Index>(),
        prefix in prop_oneof![
            Just(vec![0x80, 0x00]),
            Just(vec![0xff; 11]),
            Just(vec![0x00]),
            Just(vec![0x81, 0x80, 0x80, 0x01]),
            Just(vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
        ],
        steps in proptest::collection::vec(1usize..5000, 1..4),
    ) {
        let mut data = Vec::new();
        let bad = at.index(sizes.len());
        for (i, &n) in sizes.iter().enumerate() {
            if i == bad {
                data.extend_from_slice(&prefix);
            } else {
                encode_uvarint(n as u64, &mut data);
            }
            data.extend(std::iter::repeat_n(i as u8, n));
        }
        compare(data, steps, None, 400, 0);
    }
}

/// Streams long enough that hashing moves to a thread, with blocks larger than a buffer.
#[test]
fn long_streams_hash_on_a_thread_alike() {
    let mut sizes = vec![100; 5000];
    sizes.extend([300_000, 1, 600_000, 70_000, 2]);
    sizes.extend(vec![1500; 3000]);
    let data = stream(&sizes, 7);
    assert!(data.len() > 4 << 20);
    for steps in [vec![1 << 20], vec![4096, 65536, 333], vec![1_000_003]] {
        compare(data.clone(), steps.clone(), None, 1 << 20, 0);
        compare(
            data.clone(),
            steps.clone(),
            Some(data.len() - 777),
            1 << 20,
            0,
        );
        compare(data[..data.len() - 100].to_vec(), steps, None, 1 << 20, 0);
    }
}

/// The CID of the bytes consumed so far, asked for mid-stream and again and again once hashing
/// has moved to its thread (past the first MiB), is each time the blake2b-256 of exactly the
/// bytes the blocks used, and the stream's CID at the end is go-f3's.
#[test]
fn cid_mid_stream_is_that_of_the_bytes_consumed() {
    use frc0108::cids::{cid_of, RAW};
    use frc0108::f3data::F3DataReader;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3/large.f3");
    let data = std::fs::read(path).unwrap();
    assert!(
        data.len() > 3 << 19,
        "large.f3 must pass the threading threshold"
    );
    let mut reader = F3DataReader::new(&data[..]).unwrap();
    let mut n = 0u64;
    while let Some(block) = reader.next() {
        block.unwrap();
        n += 1;
        if n % 97 == 0 {
            let consumed = reader.bytes_read() as usize;
            assert_eq!(
                reader.cid(),
                cid_of(RAW, &data[..consumed]),
                "after {n} certificates"
            );
        }
    }
    assert_eq!(reader.bytes_read() as usize, data.len());
    let side: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/go-f3/large.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(reader.cid().to_string(), side["f3_cid"].as_str().unwrap());
}
