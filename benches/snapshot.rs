//! Throughput of the reference reader on go-f3-produced fixtures: decode only (owned
//! certificates, and in place as views), decode and F3 CID,
//! `check` at each level, and encode. Bytes per second is the reported throughput; divide the
//! file's certificate count by the time per iteration for certificates per second.
//!
//! Inputs: `vectors/go-f3/large.f3` (2000 certificates, 100 participants, real signatures) and,
//! when present, the mainnet-shaped `target/bench/scale-25k.f3` that `./scripts/bench.sh` makes
//! with the harness's `gen-scale` (signatures not checkable at that scale, so no crypto level).
//! The side-by-side comparison with go-f3 is `./scripts/bench.sh`.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use frc0108::f3data::{self, F3DataReader};
use frc0108::report::analyze;
use frc0108::types::Cbor;
use frc0108::validate::{Level, Options};

fn inputs() -> Vec<(String, Vec<u8>, bool)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut v = vec![(
        "large".to_string(),
        std::fs::read(root.join("vectors/go-f3/large.f3")).expect("vectors/go-f3/large.f3"),
        true,
    )];
    if let Ok(b) = std::fs::read(root.join("target/bench/scale-25k.f3")) {
        v.push(("scale-25k".into(), b, false));
    }
    v
}

fn decode(bytes: &[u8]) -> usize {
    F3DataReader::new(bytes).map_or(0, |r| r.filter(Result::is_ok).count())
}

/// Every certificate read in place ([`F3DataReader::next_view`]), checked as strictly.
fn decode_views(bytes: &[u8]) -> usize {
    let Ok(mut r) = F3DataReader::new(bytes) else {
        return 0;
    };
    let mut n = 0;
    while let Some(Ok(_)) = r.next_view() {
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    for (name, bytes, signed) in inputs() {
        let mut g = c.benchmark_group(name.as_str());
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(4));
        g.bench_function("decode", |b| b.iter(|| decode(&bytes)));
        g.bench_function("decode-view", |b| b.iter(|| decode_views(&bytes)));
        g.bench_function("decode+cid", |b| {
            b.iter(|| {
                let mut r = F3DataReader::new(&bytes[..]).expect("header");
                let n = r.by_ref().filter(Result::is_ok).count();
                (n, r.cid())
            })
        });
        let mut levels = vec![Level::Structure, Level::Import, Level::Chain];
        if signed {
            levels.push(Level::Crypto);
        }
        for level in levels {
            let opts = Options {
                level,
                network: "frc0108-vectors".into(),
                ..Options::default()
            };
            g.bench_with_input(BenchmarkId::new("check", level.name()), &opts, |b, opts| {
                b.iter(|| {
                    let a = analyze(&bytes[..], Some(opts.clone()), &mut |_| {});
                    assert!(a.error.is_none(), "{:?}", a.error);
                })
            });
        }
        let mut r = F3DataReader::new(&bytes[..]).expect("header");
        let header = r.header().value.clone();
        let certs: Vec<_> = r.by_ref().filter_map(|b| b.ok().map(|b| b.value)).collect();
        g.bench_function("encode", |b| b.iter(|| f3data::encode(&header, &certs)));
        g.bench_function("encode-blocks", |b| {
            b.iter(|| certs.iter().map(|c| c.to_cbor().len()).sum::<usize>())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
