//! Certificates read one at a time from JSON: either one JSON array (what a script collecting
//! `Filecoin.F3GetCertificate` results writes) or a sequence of JSON values separated by
//! whitespace (NDJSON, what `dump` prints). The first item may be a snapshot header (an object
//! with `InitialPowerTable`), as `dump` prints first. No value may pass [`MAX_VALUE_LEN`].

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use serde::de::{Deserializer as _, Error as _, SeqAccess, Visitor};
use serde_json::Value;

use super::{certificate_from_json, header_from_json, JsonError, JsonErrorKind, MAX_VALUE_LEN};
use crate::types::{F3SnapshotHeader, FinalityCertificate};

/// One item of a certificates input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A snapshot header: only ever the first item.
    Header(F3SnapshotHeader),
    /// A certificate and its index among the certificates, counting from 0.
    Certificate(u64, FinalityCertificate),
}

/// Bytes read since the last complete value, shared by a [`Capped`] reader and its parser.
struct Budget {
    limit: u64,
    used: Cell<u64>,
    exceeded: Cell<bool>,
}

/// A reader that fails once the budget's limit passes without the budget being reset.
struct Capped<R> {
    inner: R,
    budget: Rc<Budget>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.limit.saturating_sub(self.budget.used.get());
        if left == 0 {
            self.budget.exceeded.set(true);
            return Err(io::Error::other("JSON value too long"));
        }
        let max = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let n = match buf.get_mut(..max) {
            Some(b) => self.inner.read(b)?,
            None => 0,
        };
        self.budget
            .used
            .set(self.budget.used.get().saturating_add(n as u64));
        Ok(n)
    }
}

fn capped<R: Read>(r: R, limit: u64) -> (Capped<R>, Rc<Budget>) {
    let budget = Rc::new(Budget {
        limit,
        used: Cell::new(0),
        exceeded: Cell::new(false),
    });
    let r = Capped {
        inner: r,
        budget: Rc::clone(&budget),
    };
    (r, budget)
}

/// Reads one JSON value (a power table file), refused past [`MAX_VALUE_LEN`] bytes.
pub fn read_value<R: Read>(r: R) -> Result<Value, JsonError> {
    let (r, budget) = capped(BufReader::with_capacity(1 << 16, r), MAX_VALUE_LEN);
    let mut de = serde_json::Deserializer::from_reader(r);
    serde::Deserialize::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| syntax(&budget, &e))
}

/// The error for a failed parse: the cap, a read failure, or bad JSON.
fn syntax(budget: &Budget, e: &serde_json::Error) -> JsonError {
    let kind = if budget.exceeded.get() {
        JsonErrorKind::TooLarge(budget.limit)
    } else if e.is_io() {
        JsonErrorKind::Io(e.to_string())
    } else {
        JsonErrorKind::Syntax(e.to_string())
    };
    JsonError::new(kind)
}

/// Counts what was read and turns each JSON value into an [`Item`].
struct Items<'f, E> {
    values: u64,
    certificates: u64,
    budget: Rc<Budget>,
    each: &'f mut dyn FnMut(Item) -> Result<(), E>,
}

impl<E: From<JsonError>> Items<'_, E> {
    fn value(&mut self, v: &Value) -> Result<(), E> {
        self.budget.used.set(0);
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
        syntax(&self.budget, e)
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
    read_items_capped(r, each, MAX_VALUE_LEN)
}

fn read_items_capped<R: Read, E: From<JsonError>>(
    r: R,
    each: &mut dyn FnMut(Item) -> Result<(), E>,
    limit: u64,
) -> Result<u64, E> {
    let mut r = BufReader::with_capacity(1 << 16, r);
    let first = first_byte(&mut r).map_err(JsonError::from)?;
    let (r, budget) = capped(r, limit);
    let mut items = Items {
        values: 0,
        certificates: 0,
        budget,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `prefix`, then `x` for ever: one value that never ends.
    struct Endless(&'static [u8]);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len());
            let (head, rest) = buf.split_at_mut(n);
            head.copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            rest.fill(b'x');
            Ok(buf.len())
        }
    }

    fn items(prefix: &'static [u8]) -> JsonError {
        let mut seen = 0;
        let mut each = |_| -> Result<(), JsonError> {
            seen += 1;
            Ok(())
        };
        let err = read_items_capped(Endless(prefix), &mut each, 1 << 20).unwrap_err();
        assert_eq!(seen, 0);
        err
    }

    #[test]
    fn an_endless_value_is_refused_at_the_cap() {
        for prefix in [
            &b"[{\"GPBFTInstance\": \""[..],
            b"{\"GPBFTInstance\": \"",
            b"\"",
            b"[\"",
        ] {
            let e = items(prefix);
            assert_eq!(e.kind, JsonErrorKind::TooLarge(1 << 20), "{e}");
            assert_eq!(e.index, Some(0));
        }
        let e = read_value(Endless(b"{\"a\": \"")).unwrap_err();
        assert_eq!(e.kind, JsonErrorKind::TooLarge(MAX_VALUE_LEN));
        assert!(e.is_verdict());
    }

    #[test]
    fn the_cap_is_per_value() {
        // Mainnet's first ten certificates as Lotus's RPC returns them, as one array and as
        // NDJSON: a cap above the largest certificate passes them all, though the input is
        // longer than the cap; a cap below every certificate refuses the first.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/real-data/filecoin-certificates-0-9.json"
        );
        let array = std::fs::read(path).unwrap();
        let certs: Vec<Value> = serde_json::from_slice(&array).unwrap();
        let ndjson: Vec<u8> = certs
            .iter()
            .flat_map(|c| format!("{c}\n").into_bytes())
            .collect();
        // Each certificate is 12 to 14 KB of compact JSON, about 22 KB as the file prints it.
        let limit = 30_000;
        for input in [&array, &ndjson] {
            assert!(input.len() > 4 * limit);
            let n = read_items_capped(&input[..], &mut |_| Ok::<_, JsonError>(()), limit as u64);
            assert_eq!(n, Ok(10));
        }
        for input in [&array, &ndjson] {
            let e = read_items_capped(&input[..], &mut |_| Ok::<_, JsonError>(()), 10_000);
            let e = e.unwrap_err();
            assert_eq!((e.code(), e.index), ("json-too-large", Some(0)), "{e}");
        }
    }
}
