//! A small pool of worker threads for the per-certificate work that does not depend on the next
//! certificate: signature checks (level `crypto`) and power table hashing (level `chain`).

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Location, Result};

/// One unit of work.
pub type Task = Box<dyn FnOnce() -> Result<()> + Send>;

/// Runs checks on worker threads, bounded so memory stays flat, and reports the failure of the
/// earliest certificate (in submission order) once asked.
pub struct Pool {
    tx: Option<std::sync::mpsc::SyncSender<(u64, Task, Location)>>,
    rx: std::sync::mpsc::Receiver<(u64, Result<()>)>,
    workers: Vec<std::thread::JoinHandle<()>>,
    submitted: u64,
    done: u64,
    first_error: Option<(u64, Error)>,
}

/// Runs one check, reporting its failure at `location`; a panic (a bug, never an input's
/// doing) becomes an internal error rather than a lost result.
fn run(job: Task, location: Location) -> Result<()> {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
        .unwrap_or_else(|_| Err(Error::new(ErrorKind::Internal("a check panicked".into()))));
    r.map_err(|e| Error {
        kind: e.kind,
        location,
    })
}

impl Pool {
    /// A pool of `threads` workers.
    pub fn new(threads: usize) -> Self {
        let (tx, jobs) = std::sync::mpsc::sync_channel::<(u64, Task, Location)>(threads * 16);
        let (done_tx, rx) = std::sync::mpsc::channel();
        let jobs = Arc::new(std::sync::Mutex::new(jobs));
        let workers = (0..threads.max(1))
            .map(|_| {
                let jobs = Arc::clone(&jobs);
                let done_tx = done_tx.clone();
                std::thread::spawn(move || loop {
                    let next = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, job, location)) = next else {
                        return;
                    };
                    let r = run(job, location);
                    if done_tx.send((seq, r)).is_err() {
                        return;
                    }
                })
            })
            .collect();
        Pool {
            tx: Some(tx),
            rx,
            workers,
            submitted: 0,
            done: 0,
            first_error: None,
        }
    }

    fn record(&mut self, seq: u64, r: Result<()>) {
        self.done += 1;
        if let Err(e) = r {
            if self.first_error.as_ref().is_none_or(|(s, _)| seq < *s) {
                self.first_error = Some((seq, e));
            }
        }
    }

    /// Queues a check; a failure is reported at `location`.
    pub fn submit(&mut self, job: Task, location: Location) {
        while let Ok((seq, r)) = self.rx.try_recv() {
            self.record(seq, r);
        }
        let seq = self.submitted;
        self.submitted += 1;
        let unsent = match &self.tx {
            Some(tx) => tx.send((seq, job, location)).err().map(|e| e.0),
            None => Some((seq, job, location)),
        };
        // Workers gone (one panicked): the check still runs, here.
        if let Some((seq, job, location)) = unsent {
            let r = run(job, location);
            self.record(seq, r);
        }
    }

    /// Whether a queued job has already failed.
    pub fn failed(&mut self) -> bool {
        while let Ok((seq, r)) = self.rx.try_recv() {
            self.record(seq, r);
        }
        self.first_error.is_some()
    }

    /// Waits for every queued job; returns the earliest failure.
    pub fn finish(&mut self) -> Result<()> {
        self.tx = None;
        while self.done < self.submitted {
            match self.rx.recv() {
                Ok((seq, r)) => self.record(seq, r),
                Err(_) => break,
            }
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        if self.done < self.submitted && self.first_error.is_none() {
            return Err(Error::new(ErrorKind::Internal(
                "a queued check never reported back".into(),
            )));
        }
        match self.first_error.take() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.tx = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
