//! Building F3 data from certificates that arrive one at a time (from JSON, say), byte for
//! byte as go-f3's certstore exports the same certificates: a certstore created with the
//! initial power table at the first instance, each certificate stored with `Put`, then
//! `ExportSnapshot` up to the last one.
//!
//! The header names the last instance, which is known only at the end, so the certificates'
//! blocks go to a spool (a temporary file) as they come; [`Assembler::finish`] then reads the
//! whole stream back through the strict reader and the validator (go-f3's `Put` compares the
//! power table CID after every certificate; the `chain` level does that and more), and the
//! result is written from the spool. Memory holds one certificate and the power table.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use cid::Cid;

use crate::car::CarWriter;
use crate::cids::{cid_of, DAG_CBOR};
use crate::error::{Error, ErrorKind, Result};
use crate::f3data::{F3DataReader, HEADER_VERSION};
use crate::framing::encode_uvarint;
use crate::snapshot::METADATA_VERSION;
use crate::types::{Cbor, F3SnapshotHeader, FinalityCertificate, PowerEntries, SnapshotMetadata};
use crate::validate::{Options, Summary, Validator};

/// Spooled bytes are written out in pieces of this size.
const SPOOL_CHUNK: usize = 1 << 20;

/// Collects certificates in instance order (see the module documentation).
pub struct Assembler<S> {
    table: PowerEntries,
    first_instance: Option<u64>,
    count: u64,
    spool: S,
    buf: Vec<u8>,
}

impl<S: Read + Write + Seek> Assembler<S> {
    /// An assembler for F3 data starting from `table` at `first_instance` (by default the
    /// first certificate's instance), spooling to `spool`, which must be empty.
    pub fn new(table: PowerEntries, first_instance: Option<u64>, spool: S) -> Self {
        Assembler {
            table,
            first_instance,
            count: 0,
            spool,
            buf: Vec::new(),
        }
    }

    /// The first instance, once known.
    pub fn first_instance(&self) -> Option<u64> {
        self.first_instance
    }

    /// Certificates taken so far.
    pub fn certificates(&self) -> u64 {
        self.count
    }

    /// Takes the next certificate, which must be for the next instance.
    pub fn push(&mut self, cert: &FinalityCertificate) -> Result<()> {
        let first = *self.first_instance.get_or_insert(cert.instance);
        let found = cert.instance;
        let Some(expected) = first.checked_add(self.count) else {
            // The previous certificate was instance u64::MAX: nothing can follow it.
            let kind = if found == u64::MAX {
                ErrorKind::SequenceDuplicate { found }
            } else {
                ErrorKind::SequenceOutOfOrder {
                    previous: u64::MAX,
                    found,
                }
            };
            return Err(Error::new(kind).in_instance(found));
        };
        if found != expected {
            let kind = if self.count == 0 {
                ErrorKind::SequenceFirst { expected, found }
            } else if found.saturating_add(1) == expected {
                ErrorKind::SequenceDuplicate { found }
            } else if found < expected {
                ErrorKind::SequenceOutOfOrder {
                    previous: expected - 1,
                    found,
                }
            } else {
                ErrorKind::SequenceGap { expected, found }
            };
            return Err(Error::new(kind).in_instance(found));
        }
        let body = cert.to_cbor();
        encode_uvarint(body.len() as u64, &mut self.buf);
        self.buf.extend_from_slice(&body);
        if self.buf.len() >= SPOOL_CHUNK {
            self.spool.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.count += 1;
        Ok(())
    }

    /// Ends the input: builds the header, and reads the whole F3 data back through the strict
    /// reader and a validator with `opts`, learning its CID and length.
    pub fn finish(mut self, opts: Options) -> Result<Assembled<S>> {
        let Some(first_instance) = self.first_instance.filter(|_| self.count > 0) else {
            return Err(Error::new(ErrorKind::SequenceEmpty));
        };
        self.spool.write_all(&self.buf)?;
        self.buf = Vec::new();
        self.spool.flush()?;
        let header = F3SnapshotHeader {
            version: HEADER_VERSION,
            first_instance,
            // `push` took certificate `count - 1` only as instance `first_instance + count - 1`.
            latest_instance: first_instance.saturating_add(self.count - 1),
            initial_power_table: self.table,
        };
        let body = header.to_cbor();
        let mut framed = Vec::with_capacity(body.len() + 10);
        encode_uvarint(body.len() as u64, &mut framed);
        framed.extend_from_slice(&body);

        self.spool.seek(SeekFrom::Start(0))?;
        let stream = Cursor::new(&framed).chain(io::BufReader::new(&mut self.spool));
        let mut reader = F3DataReader::new(stream)?;
        let mut validator = Validator::new(opts, reader.header())?;
        let mut read = 0u64;
        for block in reader.by_ref() {
            let block = block.map_err(|e| e.in_instance(first_instance.saturating_add(read)))?;
            read += 1;
            validator.certificate(&block)?;
        }
        let len = reader.bytes_read();
        let summary = validator.finish()?;
        if read != self.count {
            return Err(Error::new(ErrorKind::Internal(format!(
                "spooled {} certificates, read back {read}",
                self.count
            ))));
        }
        Ok(Assembled {
            cid: reader.cid(),
            len,
            header,
            summary,
            framed_header: framed,
            spool: self.spool,
        })
    }
}

/// Validated F3 data, ready to be written.
pub struct Assembled<S> {
    /// The F3 data's CID.
    pub cid: Cid,
    /// Its length in bytes.
    pub len: u64,
    /// Its header.
    pub header: F3SnapshotHeader,
    /// What validation established.
    pub summary: Summary,
    framed_header: Vec<u8>,
    spool: S,
}

impl<S: Read + Seek> Assembled<S> {
    /// The F3 data's bytes, from the spool.
    fn bytes(&mut self) -> Result<impl Read + '_> {
        self.spool.seek(SeekFrom::Start(0))?;
        let rest = self.len.saturating_sub(self.framed_header.len() as u64);
        Ok(Cursor::new(&self.framed_header).chain((&mut self.spool).take(rest)))
    }

    /// Writes the F3 data to `out`.
    pub fn write_f3<W: Write>(&mut self, mut out: W) -> Result<W> {
        let len = self.len;
        let n = io::copy(&mut self.bytes()?, &mut out)?;
        if n != len {
            return Err(Error::new(ErrorKind::Io(format!(
                "the spool gave {n} of {len} bytes"
            ))));
        }
        out.flush()?;
        Ok(out)
    }

    /// Writes a v2 snapshot in Lotus's layout whose chain is the one block `head` (a stand-in
    /// for a chain: `merge` joins F3 data with a real one). Returns the metadata CID.
    pub fn write_car<W: Write>(&mut self, out: W, head: &(Cid, Vec<u8>)) -> Result<(W, Cid)> {
        let md = SnapshotMetadata {
            version: METADATA_VERSION,
            head_tipset_key: vec![head.0],
            f3_data: Some(self.cid),
        };
        let md_bytes = md.to_cbor();
        let md_cid = cid_of(DAG_CBOR, &md_bytes);
        let mut car = CarWriter::new(out, &[md_cid])?;
        car.write_block(&md_cid, &md_bytes)?;
        let (cid, len) = (self.cid, self.len);
        car.write_block_from(&cid, len, &mut self.bytes()?)?;
        car.write_block(&head.0, &head.1)?;
        Ok((car.finish()?, md_cid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{PowerEntry, Signers, SupplementalData, TipSet};

    /// A certificate for `instance` (its content does not matter to the sequence).
    fn cert(instance: u64, table: &PowerEntries) -> FinalityCertificate {
        FinalityCertificate {
            instance,
            ec_chain: Some(vec![TipSet {
                epoch: 1,
                key: vec![1; 38],
                power_table: table.cid(),
                commitments: [0; 32],
            }]),
            supplemental_data: SupplementalData {
                commitments: [0; 32],
                power_table: table.cid(),
            },
            signers: Signers::from_indexes([0]),
            signature: vec![0; 96],
            power_table_delta: vec![],
        }
    }

    /// Instance u64::MAX is the last there can be: a certificate after it is refused, not
    /// counted past the end of the integers.
    #[test]
    fn nothing_follows_the_last_instance() {
        let table = PowerEntries(vec![PowerEntry {
            id: 1,
            power: 1.into(),
            pub_key: vec![0; 48],
        }]);
        let mut a = Assembler::new(table.clone(), None, std::io::Cursor::new(Vec::new()));
        a.push(&cert(u64::MAX, &table)).unwrap();
        let e = a.push(&cert(u64::MAX, &table)).unwrap_err();
        assert_eq!(e.code(), "sequence-duplicate");
        let e = a.push(&cert(3, &table)).unwrap_err();
        assert_eq!(e.code(), "sequence-out-of-order");
    }
}
