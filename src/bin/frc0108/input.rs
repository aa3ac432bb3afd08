//! Opening the input (read a few MiB ahead on a thread of its own) and showing progress on
//! stderr when it is a terminal: a bar with percentage and ETA when the input's size is known
//! (a file, compressed or not: the file's bytes read are counted), a spinner for standard input.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use frc0108::framing::Prefetch;
use frc0108::report::Progress;

use crate::Failure;

/// An opened input: the reader, and what progress display needs of it.
pub struct Input {
    /// The bytes, read ahead on a thread of their own.
    pub reader: Prefetch,
    /// The file's size, when it is a file.
    size: Option<u64>,
    /// The file's bytes read so far.
    read: Arc<AtomicU64>,
}

/// Counts the bytes read from the file itself (before any decompression).
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path`, or standard input for `-`.
pub fn open(path: &str) -> Result<Input, Failure> {
    let read = Arc::new(AtomicU64::new(0));
    let (reader, size) = if path == "-" {
        let r = Counting {
            inner: io::stdin(),
            read: Arc::clone(&read),
        };
        (Prefetch::new(r), None)
    } else {
        let file = File::open(path).map_err(|e| Failure::with(format!("cannot open {path}"), e))?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let r = Counting {
            inner: file,
            read: Arc::clone(&read),
        };
        (Prefetch::new(r), size)
    };
    Ok(Input { reader, size, read })
}

impl Input {
    /// A progress display for this input: nothing unless stderr is a terminal.
    pub fn progress(&self) -> Box<dyn FnMut(Progress)> {
        if !io::stderr().is_terminal() {
            return Box::new(|_| {});
        }
        let start = Instant::now();
        let rate = move |p: &Progress| {
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            format!(
                "{} certificates ({:.1} MiB/s, {:.0} certificates/s)",
                p.certificates,
                p.bytes as f64 / secs / (1 << 20) as f64,
                p.certificates as f64 / secs,
            )
        };
        match self.size {
            Some(size) => {
                let bar = indicatif::ProgressBar::new(size);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:30} {percent:>3}% {bytes}/{total_bytes} ETA {eta} {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                let read = Arc::clone(&self.read);
                Box::new(move |p: Progress| {
                    bar.set_position(read.load(Ordering::Relaxed));
                    bar.set_message(rate(&p));
                })
            }
            None => {
                let bar = indicatif::ProgressBar::new_spinner();
                Box::new(move |p: Progress| {
                    bar.set_message(format!(
                        "{} read, {}",
                        indicatif::HumanBytes(p.bytes),
                        rate(&p)
                    ));
                    bar.tick();
                })
            }
        }
    }
}
