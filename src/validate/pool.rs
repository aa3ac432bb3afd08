//! A small pool of worker threads for the per-certificate work that does not depend on the next
//! certificate: signature checks (level `crypto`, a batch of certificates per task) and power
//! table hashing (level `chain`).
//!
//! Every check has a place in stream order, a sequence number taken when its certificate was
//! read ([`Pool::reserve`]), and the failure with the smallest number is the one reported: the
//! earliest failing certificate wins, whichever thread found it and whenever.

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Location, Result};

/// One check of one certificate.
pub type Task = Box<dyn FnOnce() -> Result<()> + Send>;

/// A check covering several certificates: its failure comes with the sequence number of the
/// certificate it concerns.
pub type Ordered = Box<dyn FnOnce() -> std::result::Result<(), (u64, Error)> + Send>;

/// What a worker runs: a task, where a panic in it is reported, and its first sequence number.
type Work = (Ordered, Location, u64);

/// Runs checks on worker threads, bounded so memory stays flat, and reports the failure of the
/// earliest certificate (in stream order) once asked.
pub struct Pool {
    tx: Option<std::sync::mpsc::SyncSender<Work>>,
    rx: std::sync::mpsc::Receiver<Option<(u64, Error)>>,
    workers: Vec<std::thread::JoinHandle<()>>,
    next_seq: u64,
    submitted: u64,
    done: u64,
    first_error: Option<(u64, Error)>,
}

/// Runs one task; a panic (a bug, never an input's doing) becomes an internal error at
/// `location` rather than a lost result.
fn run(work: Work) -> Option<(u64, Error)> {
    let (task, location, seq) = work;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(task)) {
        Ok(r) => r.err(),
        Err(_) => Some((
            seq,
            Error {
                kind: ErrorKind::Internal("a check panicked".into()),
                location,
            },
        )),
    }
}

impl Pool {
    /// A pool of `threads` workers.
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        // A few tasks queued per worker keep every core busy; more would only hold memory (a
        // signature batch holds its certificates' key lists).
        let (tx, jobs) = std::sync::mpsc::sync_channel::<Work>(threads * 4);
        let (done_tx, rx) = std::sync::mpsc::channel();
        let jobs = Arc::new(std::sync::Mutex::new(jobs));
        let workers = (0..threads)
            .map(|_| {
                let jobs = Arc::clone(&jobs);
                let done_tx = done_tx.clone();
                std::thread::spawn(move || loop {
                    let next = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(work) = next else {
                        return;
                    };
                    if done_tx.send(run(work)).is_err() {
                        return;
                    }
                })
            })
            .collect();
        Pool {
            tx: Some(tx),
            rx,
            workers,
            next_seq: 0,
            submitted: 0,
            done: 0,
            first_error: None,
        }
    }

    fn record(&mut self, r: Option<(u64, Error)>) {
        self.done += 1;
        if let Some((seq, e)) = r {
            if self.first_error.as_ref().is_none_or(|(s, _)| seq < *s) {
                self.first_error = Some((seq, e));
            }
        }
    }

    fn drain(&mut self) {
        while let Ok(r) = self.rx.try_recv() {
            self.record(r);
        }
    }

    /// The next sequence number: a place in stream order for a check submitted later, as part
    /// of an [`Ordered`] task.
    pub fn reserve(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Queues a check of one certificate, in stream order now; a failure is reported at
    /// `location`.
    pub fn submit(&mut self, job: Task, location: Location) {
        let seq = self.reserve();
        let at = location.clone();
        let task: Ordered = Box::new(move || {
            job().map_err(|e| {
                (
                    seq,
                    Error {
                        kind: e.kind,
                        location: at,
                    },
                )
            })
        });
        self.submit_ordered(task, location, seq);
    }

    /// Queues a task whose failures carry their own sequence numbers and locations; a panic is
    /// reported at `location` with sequence number `seq`.
    pub fn submit_ordered(&mut self, task: Ordered, location: Location, seq: u64) {
        self.drain();
        self.submitted += 1;
        let unsent = match &self.tx {
            Some(tx) => tx.send((task, location, seq)).err().map(|e| e.0),
            None => Some((task, location, seq)),
        };
        // Workers gone (one panicked): the check still runs, here.
        if let Some(work) = unsent {
            let r = run(work);
            self.record(r);
        }
    }

    /// Whether a queued task has already failed.
    pub fn failed(&mut self) -> bool {
        self.drain();
        self.first_error.is_some()
    }

    /// Waits for every queued task; returns the earliest failure.
    pub fn finish(&mut self) -> Result<()> {
        self.tx = None;
        while self.done < self.submitted {
            match self.rx.recv() {
                Ok(r) => self.record(r),
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
