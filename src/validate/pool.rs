//! A small pool of worker threads for the per-certificate work that does not depend on the next
//! certificate: signature checks (level `crypto`) and power table hashing (level `chain`).

use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};

/// One unit of work.
pub type Task = Box<dyn FnOnce() -> Result<()> + Send>;

/// Runs checks on worker threads, bounded so memory stays flat, and reports the failure of the
/// earliest certificate (in submission order) once asked.
pub struct Pool {
    tx: Option<std::sync::mpsc::SyncSender<(u64, Task, Error)>>,
    rx: std::sync::mpsc::Receiver<(u64, Result<()>)>,
    workers: Vec<std::thread::JoinHandle<()>>,
    submitted: u64,
    done: u64,
    first_error: Option<(u64, Error)>,
}

impl Pool {
    /// A pool of `threads` workers.
    pub fn new(threads: usize) -> Self {
        let (tx, jobs) = std::sync::mpsc::sync_channel::<(u64, Task, Error)>(threads * 16);
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
                    let Ok((seq, job, context)) = next else {
                        return;
                    };
                    // `context` carries the certificate's location for the error.
                    let r = job().map_err(|e| Error {
                        kind: e.kind,
                        location: context.location,
                    });
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

    /// Queues a check; `context` is an error whose location is used if the check fails.
    pub fn submit(&mut self, job: Task, context: Error) {
        while let Ok((seq, r)) = self.rx.try_recv() {
            self.record(seq, r);
        }
        let seq = self.submitted;
        self.submitted += 1;
        if let Some(tx) = &self.tx {
            if tx.send((seq, job, context)).is_err() {
                self.record(
                    seq,
                    Err(Error::new(ErrorKind::Io("signature worker stopped".into()))),
                );
            }
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
