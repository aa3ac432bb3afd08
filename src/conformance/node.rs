//! A lossless CBOR item tree for building malformed inputs: parse a canonical block, edit any
//! node (replace it, re-encode its header in a longer form, make an array indefinite), emit.

use crate::cbor::{major, Encoder};

/// One CBOR item. Headers are kept as written so that unedited parts emit unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An item without children (integer, string, simple value), as its exact bytes.
    Leaf(Vec<u8>),
    /// An array: its header bytes and elements (`header` empty means indefinite length).
    Array(Vec<u8>, Vec<Node>),
    /// A map: header bytes and alternating keys and values.
    Map(Vec<u8>, Vec<Node>),
    /// A tag: header bytes and the tagged item.
    Tag(Vec<u8>, Box<Node>),
}

fn header_len(info: u8) -> Option<usize> {
    match info {
        0..=23 => Some(1),
        24 => Some(2),
        25 => Some(3),
        26 => Some(5),
        27 => Some(9),
        _ => None,
    }
}

fn arg(bytes: &[u8]) -> u64 {
    let info = bytes.first().map_or(0, |b| b & 0x1f);
    match info {
        0..=23 => u64::from(info),
        _ => bytes
            .iter()
            .skip(1)
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

/// Parses one canonical item from the front of `buf`; returns it and the rest.
pub fn parse(buf: &[u8]) -> Option<(Node, &[u8])> {
    let first = *buf.first()?;
    let hl = header_len(first & 0x1f)?;
    let head = buf.get(..hl)?;
    let rest = buf.get(hl..)?;
    let n = arg(head);
    match first >> 5 {
        major::BYTES | major::TEXT => {
            let end = hl.checked_add(usize::try_from(n).ok()?)?;
            Some((Node::Leaf(buf.get(..end)?.to_vec()), buf.get(end..)?))
        }
        major::ARRAY | major::MAP => {
            let count = if first >> 5 == major::MAP {
                n.checked_mul(2)?
            } else {
                n
            };
            let mut items = Vec::new();
            let mut rest = rest;
            for _ in 0..count {
                let (item, r) = parse(rest)?;
                items.push(item);
                rest = r;
            }
            let node = if first >> 5 == major::MAP {
                Node::Map(head.to_vec(), items)
            } else {
                Node::Array(head.to_vec(), items)
            };
            Some((node, rest))
        }
        major::TAG => {
            let (inner, rest) = parse(rest)?;
            Some((Node::Tag(head.to_vec(), Box::new(inner)), rest))
        }
        _ => Some((Node::Leaf(head.to_vec()), rest)),
    }
}

/// Parses a whole block.
pub fn parse_all(buf: &[u8]) -> Option<Node> {
    match parse(buf)? {
        (n, []) => Some(n),
        _ => None,
    }
}

impl Node {
    /// The canonical bytes of this tree (with any edits).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.emit_into(&mut out);
        out
    }

    fn emit_into(&self, out: &mut Vec<u8>) {
        match self {
            Node::Leaf(b) => out.extend_from_slice(b),
            Node::Array(h, items) | Node::Map(h, items) => {
                let indefinite = h.is_empty();
                if indefinite {
                    out.push(if matches!(self, Node::Map(..)) {
                        0xbf
                    } else {
                        0x9f
                    });
                } else {
                    out.extend_from_slice(h);
                }
                for i in items {
                    i.emit_into(out);
                }
                if indefinite {
                    out.push(0xff);
                }
            }
            Node::Tag(h, inner) => {
                out.extend_from_slice(h);
                inner.emit_into(out);
            }
        }
    }

    /// The child at `path` (indexes into arrays, maps' key/value sequence, or 0 for a tag).
    pub fn at(&mut self, path: &[usize]) -> Option<&mut Node> {
        let Some((&i, rest)) = path.split_first() else {
            return Some(self);
        };
        match self {
            Node::Array(_, items) | Node::Map(_, items) => items.get_mut(i)?.at(rest),
            Node::Tag(_, inner) if i == 0 => inner.at(rest),
            _ => None,
        }
    }

    /// The header bytes of this node (for a leaf, its first bytes up to the payload).
    fn header_mut(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Node::Array(h, _) | Node::Map(h, _) | Node::Tag(h, _) => Some(h),
            Node::Leaf(_) => None,
        }
    }

    /// Rewrites this item's header with one more byte than it needs (a non-minimal form).
    pub fn widen_header(&mut self) {
        let widen = |h: &[u8]| -> Vec<u8> {
            let first = h.first().copied().unwrap_or(0);
            let m = first & 0xe0;
            let v = arg(h);
            match first & 0x1f {
                0..=23 => vec![m | 24, v as u8],
                24 => {
                    let mut o = vec![m | 25];
                    o.extend_from_slice(&(v as u16).to_be_bytes());
                    o
                }
                25 => {
                    let mut o = vec![m | 26];
                    o.extend_from_slice(&(v as u32).to_be_bytes());
                    o
                }
                _ => {
                    let mut o = vec![m | 27];
                    o.extend_from_slice(&v.to_be_bytes());
                    o
                }
            }
        };
        match self {
            Node::Leaf(b) => {
                let hl = b.first().and_then(|f| header_len(f & 0x1f)).unwrap_or(1);
                let mut o = widen(b.get(..hl).unwrap_or_default());
                o.extend_from_slice(b.get(hl..).unwrap_or_default());
                *b = o;
            }
            other => {
                if let Some(h) = other.header_mut() {
                    *h = widen(h);
                }
            }
        }
    }

    /// Makes an array or map indefinite-length.
    pub fn make_indefinite(&mut self) {
        if let Some(h) = self.header_mut() {
            h.clear();
        }
    }

    /// Appends an element to an array, updating its count.
    pub fn push(&mut self, item: Node) {
        if let Node::Array(h, items) = self {
            items.push(item);
            let mut e = Encoder::new();
            e.array(items.len() as u64);
            *h = e.into_bytes();
        }
    }
}

/// A leaf from an encoder call.
pub fn leaf(f: impl FnOnce(&mut Encoder)) -> Node {
    let mut e = Encoder::new();
    f(&mut e);
    Node::Leaf(e.into_bytes())
}
