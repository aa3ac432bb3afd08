//! What the validator reads of a certificate, from the owned type or from a borrowed view, so
//! that one set of checks serves both.

use cid::Cid;

use super::power::PowerTable;
use crate::cbor::Encoder;
use crate::error::Result;
use crate::types::{Cbor, FinalityCertificate};
use crate::view::CertificateRef;

/// A certificate as the checks below the signature level read it.
pub(crate) trait Facts {
    /// The GPBFT instance.
    fn instance(&self) -> u64;
    /// Number of tipsets.
    fn tipset_count(&self) -> u64;
    /// Each tipset's epoch and whether its key is empty, base first.
    fn tipsets(&self) -> impl Iterator<Item = (i64, bool)>;
    /// Whether the chain's base is the tipset whose canonical encoding is `head` (`None` for
    /// no base); `scratch` is room for an encoding.
    fn base_is(&self, head: &[u8], scratch: &mut Vec<u8>) -> Option<bool>;
    /// Writes the canonical encoding of the chain's head into `out`; false for no head.
    fn head(&self, out: &mut Vec<u8>) -> bool;
    /// The largest signer index.
    fn last_signer(&self) -> Option<u64>;
    /// Applies the certificate's power table delta to `table`.
    fn apply_delta(&self, table: &mut PowerTable) -> Result<bool>;
    /// The power table the certificate commits to (`SupplementalData.PowerTable`).
    fn committed_table(&self) -> Cid;
}

/// Replaces `out` with the canonical encoding of `t`, reusing its allocation.
fn encode_into<T: Cbor>(t: Option<&T>, out: &mut Vec<u8>) -> bool {
    out.clear();
    let Some(t) = t else { return false };
    let mut e = Encoder {
        buf: std::mem::take(out),
    };
    t.encode(&mut e);
    *out = e.buf;
    true
}

/// Replaces `out` with `bytes`, reusing its allocation.
fn copy_into(bytes: Option<&[u8]>, out: &mut Vec<u8>) -> bool {
    out.clear();
    let Some(b) = bytes else { return false };
    out.extend_from_slice(b);
    true
}

impl Facts for FinalityCertificate {
    fn instance(&self) -> u64 {
        self.instance
    }
    fn tipset_count(&self) -> u64 {
        self.tipsets().len() as u64
    }
    fn tipsets(&self) -> impl Iterator<Item = (i64, bool)> {
        FinalityCertificate::tipsets(self)
            .iter()
            .map(|t| (t.epoch, t.key.is_empty()))
    }
    fn base_is(&self, head: &[u8], scratch: &mut Vec<u8>) -> Option<bool> {
        encode_into(FinalityCertificate::tipsets(self).first(), scratch).then(|| scratch == head)
    }
    fn head(&self, out: &mut Vec<u8>) -> bool {
        encode_into(FinalityCertificate::tipsets(self).last(), out)
    }
    fn last_signer(&self) -> Option<u64> {
        self.signers.last()
    }
    fn apply_delta(&self, table: &mut PowerTable) -> Result<bool> {
        table.apply(&self.power_table_delta)
    }
    fn committed_table(&self) -> Cid {
        self.supplemental_data.power_table
    }
}

impl Facts for CertificateRef<'_> {
    fn instance(&self) -> u64 {
        CertificateRef::instance(self)
    }
    fn tipset_count(&self) -> u64 {
        CertificateRef::tipset_count(self)
    }
    fn tipsets(&self) -> impl Iterator<Item = (i64, bool)> {
        CertificateRef::tipsets(self).map(|t| (t.epoch, t.key.is_empty()))
    }
    fn base_is(&self, head: &[u8], _: &mut Vec<u8>) -> Option<bool> {
        self.base_encoding().map(|b| b == head)
    }
    fn head(&self, out: &mut Vec<u8>) -> bool {
        copy_into(self.head_encoding(), out)
    }
    fn last_signer(&self) -> Option<u64> {
        self.signers().last()
    }
    fn apply_delta(&self, table: &mut PowerTable) -> Result<bool> {
        table.apply_each(self.power_table_delta())
    }
    fn committed_table(&self) -> Cid {
        self.supplemental_data().power_table()
    }
}
