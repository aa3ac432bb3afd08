//! The snapshot's types as Lotus's RPC JSON, byte for byte as Go's `json.Marshal` writes go-f3's
//! types: compact, fields in declaration order, no trailing newline.

use std::fmt::Write as _;

use base64::Engine;
use cid::Cid;
use num_bigint::BigInt;

use super::{JsonError, JsonErrorKind};
use crate::types::{F3SnapshotHeader, FinalityCertificate, PowerEntries, TipSet};

/// A byte string: base64 with padding, `null` when empty (cbor-gen decodes an empty byte string
/// to a nil slice, which `encoding/json` writes as `null`).
fn bytes(out: &mut String, b: &[u8]) {
    if b.is_empty() {
        out.push_str("null");
    } else {
        out.push('"');
        base64::engine::general_purpose::STANDARD.encode_string(b, out);
        out.push('"');
    }
}

/// A byte string that go-f3 converts to a slice before writing (commitments): never `null`.
fn fixed(out: &mut String, b: &[u8; 32]) {
    out.push('"');
    base64::engine::general_purpose::STANDARD.encode_string(b, out);
    out.push('"');
}

fn cid(out: &mut String, c: &Cid) {
    // CID strings (base32 or base58) need no JSON escaping.
    let _ = write!(out, "{{\"/\":\"{c}\"}}");
}

fn bigint(out: &mut String, n: &BigInt) {
    let _ = write!(out, "\"{n}\"");
}

/// Splits a tipset key into its CIDs as go-f3 does to show it (`cidsFromTipSetKey`); a key
/// that is not a concatenation of CIDs cannot be shown, in go-f3 either.
fn key_cids(key: &[u8]) -> Result<Vec<Cid>, String> {
    let mut rest = key;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let before = rest;
        let c = Cid::read_bytes(&mut rest)
            .map_err(|e| format!("byte {}: {e}", key.len().saturating_sub(before.len())))?;
        // Only a CID that writes back to the same bytes shows the key faithfully.
        let used = before.get(..before.len() - rest.len()).unwrap_or_default();
        if c.to_bytes() != used {
            return Err(format!(
                "byte {}: the CID is not in its canonical binary form",
                key.len() - before.len()
            ));
        }
        out.push(c);
    }
    Ok(out)
}

fn tipset(out: &mut String, t: &TipSet, index: usize) -> Result<(), JsonError> {
    // go-f3's TipSet JSON puts Key and Commitments first (its wrapper's own fields), then the
    // embedded struct's remaining fields, Epoch and PowerTable.
    out.push_str("{\"Key\":");
    if t.key.is_empty() {
        out.push_str("null");
    } else {
        let cids = key_cids(&t.key).map_err(|e| JsonError {
            kind: JsonErrorKind::TipSetKey(e),
            index: None,
            field: Some(format!("ECChain[{index}].Key")),
        })?;
        out.push('[');
        for (i, c) in cids.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            cid(out, c);
        }
        out.push(']');
    }
    out.push_str(",\"Commitments\":");
    fixed(out, &t.commitments);
    let _ = write!(out, ",\"Epoch\":{},\"PowerTable\":", t.epoch);
    cid(out, &t.power_table);
    out.push('}');
    Ok(())
}

/// Appends a power table as go-f3's `gpbft.PowerEntries` JSON (`null` when empty).
pub fn power_table_to_json(table: &PowerEntries, out: &mut String) {
    if table.0.is_empty() {
        out.push_str("null");
        return;
    }
    out.push('[');
    for (i, e) in table.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"ID\":{},\"Power\":", e.id);
        bigint(out, &e.power);
        out.push_str(",\"PubKey\":");
        bytes(out, &e.pub_key);
        out.push('}');
    }
    out.push(']');
}

/// Appends the header as go-f3's `certstore.SnapshotHeader` JSON.
pub fn header_to_json(h: &F3SnapshotHeader, out: &mut String) {
    let _ = write!(
        out,
        "{{\"Version\":{},\"FirstInstance\":{},\"LatestInstance\":{},\"InitialPowerTable\":",
        h.version, h.first_instance, h.latest_instance
    );
    power_table_to_json(&h.initial_power_table, out);
    out.push('}');
}

/// Appends a certificate as `Filecoin.F3GetCertificate` returns it. Fails (naming the tipset)
/// when a tipset key is not a concatenation of CIDs, which go-f3 cannot show either.
pub fn certificate_to_json(c: &FinalityCertificate, out: &mut String) -> Result<(), JsonError> {
    let _ = write!(out, "{{\"GPBFTInstance\":{},\"ECChain\":", c.instance);
    // A null chain and an empty one are both a nil slice to go-f3's JSON.
    match c.ec_chain.as_deref() {
        None | Some([]) => out.push_str("null"),
        Some(tipsets) => {
            out.push('[');
            for (i, t) in tipsets.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                tipset(out, t, i)?;
            }
            out.push(']');
        }
    }
    out.push_str(",\"SupplementalData\":{\"Commitments\":");
    fixed(out, &c.supplemental_data.commitments);
    out.push_str(",\"PowerTable\":");
    cid(out, &c.supplemental_data.power_table);
    out.push_str("},\"Signers\":[");
    for (i, r) in c.signers.0.run_lengths().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{r}");
    }
    out.push_str("],\"Signature\":");
    bytes(out, &c.signature);
    // `json:"PowerTableDelta,omitempty"`: an empty delta is left out.
    if !c.power_table_delta.is_empty() {
        out.push_str(",\"PowerTableDelta\":[");
        for (i, d) in c.power_table_delta.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"ParticipantID\":{},\"PowerDelta\":",
                d.participant_id
            );
            bigint(out, &d.power_delta);
            out.push_str(",\"SigningKey\":");
            bytes(out, &d.signing_key);
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_are_not_cids_cannot_be_shown() {
        let c: Cid = "bafy2bzacedjrqan2fwfvhfopi64yickki7miiksecglpeiavf7xueytnzevlu"
            .parse()
            .unwrap();
        let mut two = c.to_bytes();
        two.extend_from_slice(&c.to_bytes());
        assert_eq!(key_cids(&two).unwrap(), [c, c]);
        let mut bad = c.to_bytes();
        bad.push(0x01);
        assert!(key_cids(&bad).is_err());
        assert!(key_cids(&[0xff; 8]).is_err());
    }
}
