//! Certificates read one at a time from JSON: either one JSON array (what a script collecting
//! `Filecoin.F3GetCertificate` results writes) or a sequence of JSON values separated by
//! whitespace (NDJSON, what `dump` prints). The first item may be a snapshot header (an object
//! with `InitialPowerTable`), as `dump` prints first.

use std::io::{BufRead, BufReader, Read};

use serde::de::{Deserializer as _, Error as _, SeqAccess, Visitor};
use serde_json::Value;

use super::{certificate_from_json, header_from_json, JsonError, JsonErrorKind};
use crate::types::{F3SnapshotHeader, FinalityCertificate};

/// One item of a certificates input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A snapshot header: only ever the first item.
    Header(F3SnapshotHeader),
    /// A certificate and its index among the certificates, counting from 0.
    Certificate(u64, FinalityCertificate),
}

/// Counts what was read and turns each JSON value into an [`Item`].
struct Items<'f, E> {
    values: u64,
    certificates: u64,
    each: &'f mut dyn FnMut(Item) -> Result<(), E>,
}

impl<E: From<JsonError>> Items<'_, E> {
    fn value(&mut self, v: &Value) -> Result<(), E> {
        let item = if v.get("InitialPowerTable").is_some() {
            if self.values > 0 {
                return Err(JsonError::new(JsonErrorKind::MisplacedHeader)
                    .in_certificate(self.certificates)
                    .into());
            }
            Item::Header(header_from_json(v)?)
        } else {
            let c = certificate_from_json(v, self.certificates)?;
            self.certificates += 1;
            Item::Certificate(self.certificates - 1, c)
        };
        self.values += 1;
        (self.each)(item)
    }

    fn syntax(&self, e: &serde_json::Error) -> E {
        let kind = if e.is_io() {
            JsonErrorKind::Io(e.to_string())
        } else {
            JsonErrorKind::Syntax(e.to_string())
        };
        JsonError::new(kind)
            .in_certificate(self.certificates)
            .into()
    }
}

/// Hands each array element to [`Items`]; a failure there is kept aside and the parse stopped.
struct Elements<'a, 'f, E> {
    items: &'a mut Items<'f, E>,
    failure: &'a mut Option<E>,
}

impl<'de, E: From<JsonError>> Visitor<'de> for Elements<'_, '_, E> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of finality certificates")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            if let Err(e) = self.items.value(&v) {
                *self.failure = Some(e);
                return Err(A::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// The first byte that is not JSON whitespace, left unread; `None` at the end of the input.
fn first_byte<R: BufRead>(r: &mut R) -> std::io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let ws = buf
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        if ws == 0 {
            return Ok(Some(first));
        }
        r.consume(ws);
    }
}

/// Reads certificates (and a leading header) from `r`, calling `each` for every item in input
/// order with one item in memory at a time. Returns how many certificates there were; none
/// is an error.
pub fn read_items<R: Read, E: From<JsonError>>(
    r: R,
    each: &mut dyn FnMut(Item) -> Result<(), E>,
) -> Result<u64, E> {
    let mut r = BufReader::with_capacity(1 << 16, r);
    let first = first_byte(&mut r).map_err(JsonError::from)?;
    let mut items = Items {
        values: 0,
        certificates: 0,
        each,
    };
    if first == Some(b'[') {
        let mut de = serde_json::Deserializer::from_reader(r);
        let mut failure = None;
        let res = de.deserialize_seq(Elements {
            items: &mut items,
            failure: &mut failure,
        });
        if let Some(e) = failure {
            return Err(e);
        }
        res.and_then(|()| de.end()).map_err(|e| items.syntax(&e))?;
    } else {
        for v in serde_json::Deserializer::from_reader(r).into_iter::<Value>() {
            let v = v.map_err(|e| items.syntax(&e))?;
            items.value(&v)?;
        }
    }
    if items.certificates == 0 {
        return Err(JsonError::new(JsonErrorKind::NoCertificates).into());
    }
    Ok(items.certificates)
}
