//! Output files that appear whole or not at all: bytes go to a temporary file next to the
//! destination, which is renamed into place only by [`OutputFile::commit`] (or
//! [`OutputFile::commit_all`], for a command's several outputs together); dropped
//! uncommitted (a failure), the temporary file is removed. An existing file is never replaced
//! unless asked ([`OutputOptions::force`]), and never even then before the new one is
//! complete. A destination whose name ends in `.zst` is written zstd-compressed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The zstd level of `.zst` outputs: 3, zstd's default and Forest's, the usual trade for
/// snapshots. On CAR data made mostly of hashes, signatures and proofs the higher levels
/// barely shrink the output and cost several times the time (see README.md, "merge").
pub const ZSTD_LEVEL: i32 = 3;

/// At most this many zstd worker threads: each holds its own window and job buffers, and the
/// output's memory bound must not grow with the machine.
pub const ZSTD_MAX_THREADS: u32 = 4;

/// The input each zstd worker compresses at a time. zstd's default at level 3 is four
/// windows (8 MiB), and every worker holds its job's input and output: 2 MiB keeps two
/// workers' buffers within the output's memory bound; the ratio barely changes (each job
/// still sees the window before it).
pub const ZSTD_JOB_SIZE: u32 = 2 << 20;

/// How to write an output.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutputOptions {
    /// Replace an existing file.
    pub force: bool,
    /// zstd worker threads for `.zst` outputs (0: one per core, at most
    /// [`ZSTD_MAX_THREADS`]; 1: compress on the writing thread).
    pub threads: u32,
}

enum Sink {
    Plain(BufWriter<File>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
}

/// A file being written (see the module documentation).
pub struct OutputFile {
    path: PathBuf,
    tmp: PathBuf,
    sink: Option<Sink>,
    force: bool,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Whether `path` names a zstd output.
pub fn is_zst(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

fn exists_error(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} exists; not overwriting it (--force replaces it)",
            path.display()
        ),
    )
}

impl OutputFile {
    /// Starts writing `path`. Fails if it exists and `opts.force` is not set, or if it is a
    /// directory.
    pub fn create(path: &Path, opts: OutputOptions) -> io::Result<OutputFile> {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is a directory", path.display()),
                ))
            }
            Ok(_) if !opts.force => return Err(exists_error(path)),
            _ => {}
        }
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            )
        })?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let (tmp, file) = loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut tmp_name = std::ffi::OsString::from(".");
            tmp_name.push(name);
            tmp_name.push(format!(".{}-{n}.tmp", std::process::id()));
            let tmp = dir.join(tmp_name);
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        };
        let file = BufWriter::with_capacity(1 << 20, file);
        let mut out = OutputFile {
            path: path.to_path_buf(),
            tmp,
            sink: None,
            force: opts.force,
        };
        out.sink = Some(if is_zst(path) {
            let mut enc = zstd::stream::write::Encoder::new(file, ZSTD_LEVEL)?;
            enc.include_checksum(true)?;
            let threads = match opts.threads {
                0 => std::thread::available_parallelism()
                    .map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
                    .min(ZSTD_MAX_THREADS),
                n => n.min(ZSTD_MAX_THREADS),
            };
            if threads > 1 {
                enc.multithread(threads)?;
                enc.set_parameter(zstd::stream::raw::CParameter::JobSize(ZSTD_JOB_SIZE))?;
            }
            Sink::Zstd(enc)
        } else {
            Sink::Plain(file)
        });
        Ok(out)
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finishes the file (the zstd frame, the data on disk) and puts it in place. Without
    /// `force`, fails rather than replace a file that appeared meanwhile.
    pub fn commit(mut self) -> io::Result<()> {
        self.finish()?;
        self.place()
    }

    /// Commits several outputs of one command together: all are finished before any is put in
    /// place, so a failure to write (a full disk) leaves none of them; a failure to put one in
    /// place removes those this call had already put in place, unless they replaced a file
    /// (`force`), which cannot be brought back.
    pub fn commit_all(mut outputs: Vec<OutputFile>) -> io::Result<()> {
        for out in &mut outputs {
            out.finish()?;
        }
        for (n, out) in outputs.iter().enumerate() {
            if let Err(e) = out.place() {
                for placed in outputs.iter().take(n).filter(|o| !o.force) {
                    let _ = fs::remove_file(&placed.path);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Ends the zstd frame and puts the bytes on disk, in the temporary file.
    fn finish(&mut self) -> io::Result<()> {
        let file = match self.sink.take() {
            Some(Sink::Plain(w)) => w.into_inner().map_err(|e| e.into_error())?,
            Some(Sink::Zstd(enc)) => enc.finish()?.into_inner().map_err(|e| e.into_error())?,
            None => return Err(io::Error::other("output already finished")),
        };
        file.sync_all()
    }

    /// Moves the finished temporary file to the destination.
    fn place(&self) -> io::Result<()> {
        if self.force {
            return fs::rename(&self.tmp, &self.path);
        }
        // A hard link never replaces an existing file; where links are not supported, look
        // first and rename.
        match fs::hard_link(&self.tmp, &self.path) {
            Ok(()) => fs::remove_file(&self.tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists_error(&self.path)),
            Err(_) if self.path.exists() => Err(exists_error(&self.path)),
            Err(_) => fs::rename(&self.tmp, &self.path),
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.write(buf),
            Some(Sink::Zstd(w)) => w.write(buf),
            None => Err(io::Error::other("output already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.flush(),
            Some(Sink::Zstd(w)) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Uncommitted (or committed with a hard link left behind): the temporary file goes.
        self.sink.take();
        let _ = fs::remove_file(&self.tmp);
    }
}

/// A temporary file next to `near` (a spool for [`crate::assemble`]), removed when dropped.
pub struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    /// Creates a temporary file, readable and writable, in the directory of `near`.
    pub fn near(near: &Path) -> io::Result<TempFile> {
        let dir = match near.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(".frc0108-spool-{}-{n}.tmp", std::process::id()));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => {
                    return Ok(TempFile {
                        path,
                        file: Some(f),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The open file.
    pub fn file(&mut self) -> io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("temporary file closed"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file.take();
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(path: &Path, bytes: &[u8]) -> OutputFile {
        let mut out = OutputFile::create(path, OutputOptions::default()).unwrap();
        out.write_all(bytes).unwrap();
        out
    }

    #[test]
    fn outputs_committed_together_appear_together() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.f3"), dir.path().join("b.car"));
        OutputFile::commit_all(vec![output(&a, b"one"), output(&b, b"two")]).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"one");
        assert_eq!(fs::read(&b).unwrap(), b"two");

        // The second destination appears while both are written: neither is placed, the
        // file that appeared is left as it was, and no temporary file stays behind.
        let (c, d) = (dir.path().join("c.f3"), dir.path().join("d.car"));
        let outs = vec![output(&c, b"three"), output(&d, b"four")];
        fs::write(&d, b"someone else's").unwrap();
        let e = OutputFile::commit_all(outs).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(!c.exists());
        assert_eq!(fs::read(&d).unwrap(), b"someone else's");
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a.f3", "b.car", "d.car"]);
    }
}
