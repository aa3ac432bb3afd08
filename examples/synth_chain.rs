//! Writes a synthetic v1 chain snapshot of about SIZE MiB for the merge benchmark
//! (`scripts/bench-merge.sh`): a two-block head tipset, then blocks whose sizes follow a
//! chain-like mix (most a few hundred bytes, some kilobytes, a few tens of kilobytes, and one
//! in 2,000 of 2 MiB, larger than merge's copy buffer), half of each block random and half a
//! repeated pattern (so zstd has something to do), every CID a real blake2b-256 one.
//!
//! ```sh
//! cargo run --release --example synth_chain -- target/bench-merge/chain.car 1100
//! ```

use std::fs::File;
use std::io::BufWriter;

use frc0108::car::CarWriter;
use frc0108::cids::{cid_of, DAG_CBOR, RAW};

/// SplitMix64: fast, seeded, good enough for filler.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn fill(&mut self, out: &mut Vec<u8>, len: usize) {
        out.clear();
        let random = len / 2;
        while out.len() < random {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(random);
        let pattern = self.next().to_le_bytes();
        while out.len() < len {
            out.push(pattern[out.len() % 8]);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(mib)) = (args.get(1), args.get(2)) else {
        return Err("usage: synth_chain OUT SIZE_MIB".into());
    };
    let target: u64 = mib.parse::<u64>()? << 20;
    let mut rng = Mix(0x00f3_c4a1_2025);
    let mut data = Vec::new();
    let heads: Vec<(cid::Cid, Vec<u8>)> = (0..2u8)
        .map(|i| frc0108::snapshot::placeholder_block(&[b'h', i]))
        .collect();
    let roots: Vec<cid::Cid> = heads.iter().map(|(c, _)| *c).collect();
    let mut w = CarWriter::new(
        BufWriter::with_capacity(1 << 20, File::create(path)?),
        &roots,
    )?;
    let mut written = 0u64;
    for (c, d) in &heads {
        w.write_block(c, d)?;
        written += d.len() as u64 + 40;
    }
    let mut blocks = 2u64;
    while written < target {
        let len = match rng.below(2000) {
            0 => 2 << 20,
            1..=99 => (8 << 10) + rng.below(56 << 10) as usize,
            100..=599 => 1024 + rng.below(7 << 10) as usize,
            _ => 100 + rng.below(500) as usize,
        };
        rng.fill(&mut data, len);
        let codec = if blocks % 3 == 0 { RAW } else { DAG_CBOR };
        w.write_block(&cid_of(codec, &data), &data)?;
        written += len as u64 + 40;
        blocks += 1;
    }
    w.finish()?;
    eprintln!("wrote {path}: {blocks} blocks, about {} MiB", written >> 20);
    Ok(())
}
