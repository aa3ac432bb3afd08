//! The floor for the `chain` level's extra work: plain blake2b-256 over the same number of
//! bytes, in pieces of the same size, spread over the given number of threads. `check --json`
//! reports the `power_tables_hashed` figures to pass here; `benches/compare.py` compares the
//! two.
//!
//! Usage: hash_floor BYTES PIECE THREADS   (prints {"seconds": .., "bytes": ..} as JSON)

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(0))
        .collect();
    let (bytes, piece, threads) = match args.as_slice() {
        [b, p, t] if *p > 0 && *t > 0 => (*b, *p as usize, *t),
        _ => {
            eprintln!("usage: hash_floor BYTES PIECE THREADS");
            std::process::exit(2);
        }
    };
    let pieces = bytes / piece as u64;
    let start = std::time::Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let share = pieces / threads + u64::from(t < pieces % threads);
            s.spawn(move || {
                let buf: Vec<u8> = (0..piece).map(|i| (i * 31 + t as usize) as u8).collect();
                let mut acc = 0u8;
                for _ in 0..share {
                    let h = blake2b_simd::Params::new().hash_length(32).hash(&buf);
                    acc ^= h.as_bytes()[0];
                }
                std::hint::black_box(acc);
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"seconds\": {seconds:.6}, \"bytes\": {}, \"threads\": {threads}}}",
        pieces * piece as u64
    );
}
