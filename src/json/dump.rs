//! `dump`: F3 data, or the F3 data of a v2 snapshot, as JSON lines: the header, then each
//! certificate, as go-f3's types go through Go's `encoding/json` (one line each, compact).

use std::io::{BufReader, Read, Write};

use cid::Cid;

use super::encode::{certificate_to_json, header_to_json};
use crate::car::CarReader;
use crate::error::{Error, ErrorKind};
use crate::f3data::F3DataReader;
use crate::merge::{f3_section, read_metadata, sniff_car, MergeError};
use crate::report::{decompressed, Format, Limits};

/// What [`dump`] read and wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpSummary {
    /// F3 data, or a v2 snapshot.
    pub format: Format,
    /// Certificates read.
    pub read: u64,
    /// Certificates written (those in the range).
    pub written: u64,
    /// The F3 data's CID, when it was read to its end (for a snapshot, it is checked against
    /// the metadata's).
    pub cid: Option<Cid>,
}

/// Writes the header and then every certificate whose instance lies in `from..=to`, one JSON
/// line each, to `out`, reading one certificate at a time. The input is F3 data or a v2
/// snapshot, plain or zstd. Reading stops at the first certificate past `to`. On an error,
/// every line before it has been written.
pub fn dump<R: Read, W: Write>(
    input: R,
    out: W,
    from: u64,
    to: u64,
) -> Result<DumpSummary, MergeError> {
    let (_, r) = decompressed(input, Limits::default()).map_err(MergeError::Snapshot)?;
    let (car, r) = sniff_car(r).map_err(|e| MergeError::Snapshot(e.into()))?;
    let r = BufReader::with_capacity(1 << 16, r);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let summary = if car {
        let mut car = CarReader::new(r).map_err(MergeError::Snapshot)?;
        let (_, md) = read_metadata(&mut car)?;
        let sec = f3_section(&mut car, &md)?;
        let (read, written, cid) = lines(car.section_data(), sec.data_offset, &mut out, from, to)?;
        if car.truncated() {
            return Err(MergeError::Snapshot(Error::at(
                ErrorKind::CarTruncated,
                car.position(),
            )));
        }
        if let Some(c) = cid.filter(|c| *c != sec.cid) {
            return Err(MergeError::F3(Error::at(
                ErrorKind::CidMismatch {
                    what: "F3 block",
                    expected: sec.cid.to_string(),
                    computed: c.to_string(),
                },
                sec.data_offset,
            )));
        }
        DumpSummary {
            format: Format::CarV2Snapshot,
            read,
            written,
            cid,
        }
    } else {
        let (read, written, cid) = lines(r, 0, &mut out, from, to)?;
        DumpSummary {
            format: Format::F3Data,
            read,
            written,
            cid,
        }
    };
    out.flush().map_err(|e| MergeError::Write(e.to_string()))?;
    Ok(summary)
}

/// Writes the lines of the F3 data in `r` (at absolute offset `base`); returns certificates
/// read and written, and the CID when the data was read to its end.
fn lines<R: Read, W: Write>(
    r: R,
    base: u64,
    out: &mut W,
    from: u64,
    to: u64,
) -> Result<(u64, u64, Option<Cid>), MergeError> {
    let mut reader = F3DataReader::with_base(r, base).map_err(MergeError::F3)?;
    let first = reader.header().value.first_instance;
    let mut line = String::new();
    header_to_json(&reader.header().value, &mut line);
    line.push('\n');
    let write = |out: &mut W, line: &str| {
        out.write_all(line.as_bytes())
            .map_err(|e| MergeError::Write(e.to_string()))
    };
    write(out, &line)?;
    let (mut read, mut written) = (0u64, 0u64);
    for block in reader.by_ref() {
        let block = block
            .map_err(|e| e.in_instance(first.saturating_add(read)))
            .map_err(MergeError::F3)?;
        read += 1;
        let instance = block.value.instance;
        if instance > to {
            return Ok((read, written, None));
        }
        if instance < from {
            continue;
        }
        line.clear();
        certificate_to_json(&block.value, &mut line)
            .map_err(|e| MergeError::Json(e.in_certificate(read - 1)))?;
        line.push('\n');
        write(out, &line)?;
        written += 1;
    }
    Ok((read, written, Some(reader.cid())))
}
