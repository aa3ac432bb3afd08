//! From Lotus's RPC JSON to the snapshot's types, strictly (see the module above for how this
//! differs from Go's decoder). Every value is checked against the limits of the binary form
//! before it is converted, and the result is encoded and decoded again by the strict CBOR
//! reader, so nothing accepted here can make a block the reader refuses.

use base64::Engine;
use cid::Cid;
use num_bigint::BigInt;
use serde_json::{Map, Value};

use super::{JsonError, JsonErrorKind};
use crate::types::{
    limits, Cbor, F3SnapshotHeader, FinalityCertificate, PowerEntries, PowerEntry, PowerTableDelta,
    Signers, SupplementalData, TipSet,
};

type Res<T> = Result<T, JsonError>;

/// The longest decimal string accepted for a big integer: a sign and the 309 digits of the
/// largest magnitude that fits Filecoin's 128-byte encoding (127 bytes after the sign byte).
const MAX_DECIMAL_LEN: usize = 310;

/// Where a value is: the certificate it belongs to, if any, and the path to it.
#[derive(Clone)]
struct At {
    index: Option<u64>,
    path: String,
}

impl At {
    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError {
            kind,
            index: self.index,
            field: (!self.path.is_empty()).then(|| self.path.clone()),
        }
    }

    fn value(&self, msg: impl Into<String>) -> JsonError {
        self.err(JsonErrorKind::Value(msg.into()))
    }

    fn field(&self, name: &str) -> At {
        let path = if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        };
        At {
            index: self.index,
            path,
        }
    }

    fn elem(&self, i: usize) -> At {
        At {
            index: self.index,
            path: format!("{}[{i}]", self.path),
        }
    }
}

/// An object with no field outside `fields`.
fn object<'v>(v: &'v Value, at: &At, fields: &[&str]) -> Res<&'v Map<String, Value>> {
    let m = v
        .as_object()
        .ok_or_else(|| at.err(JsonErrorKind::Type("an object")))?;
    if let Some(k) = m.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(at.field(k).err(JsonErrorKind::Unknown));
    }
    Ok(m)
}

fn required<'v>(m: &'v Map<String, Value>, name: &str, at: &At) -> Res<(&'v Value, At)> {
    let at = at.field(name);
    match m.get(name) {
        Some(v) => Ok((v, at)),
        None => Err(at.err(JsonErrorKind::Missing)),
    }
}

fn u64_of(v: &Value, at: &At) -> Res<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| at.value(format!("{n} is not an unsigned 64-bit integer"))),
        _ => Err(at.err(JsonErrorKind::Type("an unsigned integer"))),
    }
}

fn i64_of(v: &Value, at: &At) -> Res<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| at.value(format!("{n} is not a signed 64-bit integer"))),
        _ => Err(at.err(JsonErrorKind::Type("an integer"))),
    }
}

fn array_of<'v>(v: &'v Value, at: &At, max: u64) -> Res<&'v [Value]> {
    let a = v
        .as_array()
        .ok_or_else(|| at.err(JsonErrorKind::Type("an array")))?;
    if a.len() as u64 > max {
        return Err(at.value(format!(
            "{} elements, more than the {max} the binary form allows",
            a.len()
        )));
    }
    Ok(a)
}

/// A byte string: standard base64 with padding, or `null` for none (as Go writes an empty one).
fn bytes_of(v: &Value, at: &At, max: u64) -> Res<Vec<u8>> {
    let s = match v {
        Value::Null => return Ok(Vec::new()),
        Value::String(s) => s,
        _ => return Err(at.err(JsonErrorKind::Type("a base64 string or null"))),
    };
    // Four characters carry three bytes: refuse a string too long before decoding it.
    if s.len() as u64 > max.div_ceil(3) * 4 {
        return Err(at.value(format!("more than {max} bytes")));
    }
    let b = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| at.value(format!("not canonical base64 with padding: {e}")))?;
    if b.len() as u64 > max {
        return Err(at.value(format!("{} bytes, more than {max}", b.len())));
    }
    Ok(b)
}

fn commitments_of(v: &Value, at: &At) -> Res<[u8; 32]> {
    if v.is_null() {
        // Go's decoder refuses a missing commitment too ("commitments must be 32 bytes").
        return Err(at.value("must be 32 bytes, found null"));
    }
    let b = bytes_of(v, at, 32)?;
    b.as_slice()
        .try_into()
        .map_err(|_| at.value(format!("must be 32 bytes, found {}", b.len())))
}

/// A CID as go-cid writes it in JSON: `{"/": "bafy…"}`.
fn cid_of(v: &Value, at: &At) -> Res<Cid> {
    let m = object(v, at, &["/"])?;
    let (s, at) = required(m, "/", at)?;
    let s = s
        .as_str()
        .ok_or_else(|| at.err(JsonErrorKind::Type("a CID string")))?;
    Cid::try_from(s).map_err(|e| at.value(format!("{s:?} is not a CID: {e}")))
}

/// A big integer as go-state-types writes it: a decimal string, `-` for negatives, no leading
/// zeros, no `+`.
fn bigint_of(v: &Value, at: &At) -> Res<BigInt> {
    let s = v
        .as_str()
        .ok_or_else(|| at.err(JsonErrorKind::Type("a decimal string")))?;
    if s.len() > MAX_DECIMAL_LEN {
        return Err(at.value(format!(
            "a number of {} characters does not fit a Filecoin big integer",
            s.len()
        )));
    }
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && !(s.starts_with('-') && digits == "0");
    if !canonical {
        return Err(at.value(format!("{s:?} is not a canonical decimal integer")));
    }
    let n = BigInt::parse_bytes(s.as_bytes(), 10)
        .ok_or_else(|| at.value(format!("{s:?} is not a decimal integer")))?;
    // The binary form is a sign byte and the magnitude: at most 128 bytes.
    let (_, magnitude) = n.to_bytes_be();
    if n != BigInt::default() && magnitude.len() as u64 + 1 > limits::BIGINT {
        return Err(at.value("does not fit the 128 bytes of a Filecoin big integer"));
    }
    Ok(n)
}

fn power_entries(v: &Value, at: &At) -> Res<PowerEntries> {
    if v.is_null() {
        return Ok(PowerEntries::default());
    }
    let items = array_of(v, at, limits::MAX_ARRAY)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, e) in items.iter().enumerate() {
        let at = at.elem(i);
        let m = object(e, &at, &["ID", "Power", "PubKey"])?;
        let (id, a) = required(m, "ID", &at)?;
        let id = u64_of(id, &a)?;
        let (power, a) = required(m, "Power", &at)?;
        let power = bigint_of(power, &a)?;
        let (key, a) = required(m, "PubKey", &at)?;
        let pub_key = bytes_of(key, &a, limits::PUBKEY)?;
        out.push(PowerEntry { id, power, pub_key });
    }
    Ok(PowerEntries(out))
}

/// A power table: a JSON array of `{"ID", "Power", "PubKey"}`, as the F3 manifests publish
/// initial tables. Its rules (order, positive powers, 48-byte keys) are the validator's.
pub fn power_table_from_json(v: &Value) -> Result<PowerEntries, JsonError> {
    power_entries(
        v,
        &At {
            index: None,
            path: String::new(),
        },
    )
}

/// The F3 snapshot header as go-f3's `certstore.SnapshotHeader` is written by
/// `encoding/json` (the first line `dump` prints).
pub fn header_from_json(v: &Value) -> Result<F3SnapshotHeader, JsonError> {
    let at = At {
        index: None,
        path: String::new(),
    };
    let m = object(
        v,
        &at,
        &[
            "Version",
            "FirstInstance",
            "LatestInstance",
            "InitialPowerTable",
        ],
    )?;
    let (x, a) = required(m, "Version", &at)?;
    let version = u64_of(x, &a)?;
    let (x, a) = required(m, "FirstInstance", &at)?;
    let first_instance = u64_of(x, &a)?;
    let (x, a) = required(m, "LatestInstance", &at)?;
    let latest_instance = u64_of(x, &a)?;
    let (x, a) = required(m, "InitialPowerTable", &at)?;
    let initial_power_table = power_entries(x, &a)?;
    let h = F3SnapshotHeader {
        version,
        first_instance,
        latest_instance,
        initial_power_table,
    };
    F3SnapshotHeader::from_cbor(&h.to_cbor()).map_err(|e| strict_failure(e, None))?;
    Ok(h)
}

fn tipset(v: &Value, at: &At) -> Res<TipSet> {
    let m = object(v, at, &["Key", "Commitments", "Epoch", "PowerTable"])?;
    let (x, a) = required(m, "Key", at)?;
    let mut key = Vec::new();
    if !x.is_null() {
        // A CID takes at least two bytes: more than 380 cannot fit the 760-byte key.
        for (i, c) in array_of(x, &a, limits::TIPSET_KEY / 2)?.iter().enumerate() {
            key.extend_from_slice(&cid_of(c, &a.elem(i))?.to_bytes());
        }
    }
    if key.len() as u64 > limits::TIPSET_KEY {
        return Err(a.value(format!(
            "the key's CIDs take {} bytes, more than {}",
            key.len(),
            limits::TIPSET_KEY
        )));
    }
    let (x, a) = required(m, "Commitments", at)?;
    let commitments = commitments_of(x, &a)?;
    let (x, a) = required(m, "Epoch", at)?;
    let epoch = i64_of(x, &a)?;
    let (x, a) = required(m, "PowerTable", at)?;
    let power_table = cid_of(x, &a)?;
    Ok(TipSet {
        epoch,
        key,
        power_table,
        commitments,
    })
}

fn delta(v: &Value, at: &At) -> Res<PowerTableDelta> {
    let m = object(v, at, &["ParticipantID", "PowerDelta", "SigningKey"])?;
    let (x, a) = required(m, "ParticipantID", at)?;
    let participant_id = u64_of(x, &a)?;
    let (x, a) = required(m, "PowerDelta", at)?;
    let power_delta = bigint_of(x, &a)?;
    let (x, a) = required(m, "SigningKey", at)?;
    let signing_key = bytes_of(x, &a, limits::PUBKEY)?;
    Ok(PowerTableDelta {
        participant_id,
        power_delta,
        signing_key,
    })
}

fn signers(v: &Value, at: &At) -> Res<Signers> {
    if v.is_null() {
        return Ok(Signers::default());
    }
    // A run takes at least one bit of the 32 KiB encoding.
    let runs = array_of(v, at, limits::BITFIELD * 8 + 1)?
        .iter()
        .enumerate()
        .map(|(i, r)| u64_of(r, &at.elem(i)))
        .collect::<Res<Vec<u64>>>()?;
    let s = crate::bitfield::Runs::from_run_lengths(&runs)
        .map(Signers)
        .map_err(|e| at.value(e.kind.to_string()))?;
    let len = s.to_rle().len() as u64;
    if len > limits::BITFIELD {
        return Err(at.value(format!(
            "encodes to {len} bytes of RLE+, more than {}",
            limits::BITFIELD
        )));
    }
    Ok(s)
}

/// A finality certificate as `Filecoin.F3GetCertificate` returns it; `index` is its position
/// in the input, for errors. Every field is required except `PowerTableDelta`.
pub fn certificate_from_json(v: &Value, index: u64) -> Result<FinalityCertificate, JsonError> {
    let at = At {
        index: Some(index),
        path: String::new(),
    };
    let m = object(
        v,
        &at,
        &[
            "GPBFTInstance",
            "ECChain",
            "SupplementalData",
            "Signers",
            "Signature",
            "PowerTableDelta",
        ],
    )?;
    let (x, a) = required(m, "GPBFTInstance", &at)?;
    let instance = u64_of(x, &a)?;
    let (x, a) = required(m, "ECChain", &at)?;
    let ec_chain = if x.is_null() {
        None
    } else {
        let items = array_of(x, &a, limits::MAX_ARRAY)?;
        let mut v = Vec::with_capacity(items.len());
        for (i, t) in items.iter().enumerate() {
            v.push(tipset(t, &a.elem(i))?);
        }
        Some(v)
    };
    let (x, a) = required(m, "SupplementalData", &at)?;
    let sm = object(x, &a, &["Commitments", "PowerTable"])?;
    let (c, ca) = required(sm, "Commitments", &a)?;
    let (p, pa) = required(sm, "PowerTable", &a)?;
    let supplemental_data = SupplementalData {
        commitments: commitments_of(c, &ca)?,
        power_table: cid_of(p, &pa)?,
    };
    let (x, a) = required(m, "Signers", &at)?;
    let signers = signers(x, &a)?;
    let (x, a) = required(m, "Signature", &at)?;
    let signature = bytes_of(x, &a, limits::MAX_BYTES)?;
    let mut power_table_delta = Vec::new();
    match m.get("PowerTableDelta") {
        None | Some(Value::Null) => {}
        Some(x) => {
            let a = at.field("PowerTableDelta");
            for (i, d) in array_of(x, &a, limits::MAX_ARRAY)?.iter().enumerate() {
                power_table_delta.push(delta(d, &a.elem(i))?);
            }
        }
    }
    let c = FinalityCertificate {
        instance,
        ec_chain,
        supplemental_data,
        signers,
        signature,
        power_table_delta,
    };
    FinalityCertificate::from_cbor(&c.to_cbor()).map_err(|e| strict_failure(e, Some(index)))?;
    Ok(c)
}

/// What the strict CBOR reader refused in a value built from JSON (the checks above should
/// have caught it first), with the field it names.
fn strict_failure(e: crate::Error, index: Option<u64>) -> JsonError {
    JsonError {
        kind: JsonErrorKind::Value(e.kind.to_string()),
        index,
        field: e.location.field.map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cert() -> Value {
        json!({
            "GPBFTInstance": 7,
            "ECChain": [{
                "Key": [{"/": "bafy2bzacedjrqan2fwfvhfopi64yickki7miiksecglpeiavf7xueytnzevlu"}],
                "Commitments": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "Epoch": 10,
                "PowerTable": {"/": "bafy2bzacecklgxd2eksmodvhgurqvorkg3wamgqkrunir3al2gchv2cikgmbu"}
            }],
            "SupplementalData": {
                "Commitments": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "PowerTable": {"/": "bafy2bzacecklgxd2eksmodvhgurqvorkg3wamgqkrunir3al2gchv2cikgmbu"}
            },
            "Signers": [0, 3, 5, 2],
            "Signature": "qg==",
            "PowerTableDelta": [{"ParticipantID": 5, "PowerDelta": "-12", "SigningKey": null}]
        })
    }

    fn err_of(edit: impl FnOnce(&mut Value)) -> JsonError {
        let mut v = cert();
        edit(&mut v);
        certificate_from_json(&v, 3).unwrap_err()
    }

    #[test]
    fn reads_a_certificate() {
        let c = certificate_from_json(&cert(), 0).unwrap();
        assert_eq!(c.instance, 7);
        assert_eq!(c.tipsets()[0].key.len(), 38);
        assert_eq!(c.signers.iter().collect::<Vec<_>>(), [0, 1, 2, 8, 9]);
        assert_eq!(c.signature, [0xaa]);
        assert_eq!(c.power_table_delta[0].power_delta, BigInt::from(-12));
        // An absent, null or empty delta is the same empty delta.
        for d in [None, Some(Value::Null), Some(json!([]))] {
            let mut v = cert();
            match d {
                None => v.as_object_mut().unwrap().remove("PowerTableDelta"),
                Some(d) => v
                    .as_object_mut()
                    .unwrap()
                    .insert("PowerTableDelta".into(), d),
            };
            assert!(certificate_from_json(&v, 0)
                .unwrap()
                .power_table_delta
                .is_empty());
        }
    }

    #[test]
    fn errors_name_the_certificate_and_the_field() {
        let e = err_of(|v| v["ECChain"][0]["Key"][0]["/"] = json!("nope"));
        assert_eq!(e.code(), "json-value");
        assert_eq!(e.index, Some(3));
        assert_eq!(e.field.as_deref(), Some("ECChain[0].Key[0]./"));
        let e = err_of(|v| {
            v["SupplementalData"]
                .as_object_mut()
                .unwrap()
                .remove("PowerTable");
        });
        assert_eq!(
            (e.code(), e.field.as_deref()),
            ("json-missing-field", Some("SupplementalData.PowerTable"))
        );
        let e = err_of(|v| v["Signers"] = json!([1, 0, 2]));
        assert_eq!(
            (e.code(), e.field.as_deref()),
            ("json-value", Some("Signers"))
        );
        let e = err_of(|v| v["PowerTableDelta"][0]["PowerDelta"] = json!("007"));
        assert_eq!(e.field.as_deref(), Some("PowerTableDelta[0].PowerDelta"));
        let e = err_of(|v| v["PowerTableDelta"][0]["PowerDelta"] = json!(12));
        assert_eq!(e.code(), "json-type");
        let e = err_of(|v| v["gpbftInstance"] = json!(1));
        assert_eq!(
            (e.code(), e.field.as_deref()),
            ("json-unknown-field", Some("gpbftInstance"))
        );
        let e = err_of(|v| v["ECChain"][0]["Commitments"] = json!("AAAA"));
        assert_eq!(e.field.as_deref(), Some("ECChain[0].Commitments"));
        let e = err_of(|v| v["Signature"] = json!("qg"));
        assert_eq!(
            (e.code(), e.field.as_deref()),
            ("json-value", Some("Signature"))
        );
        let e = err_of(|v| v["GPBFTInstance"] = json!(-1));
        assert_eq!(e.field.as_deref(), Some("GPBFTInstance"));
        let cid = json!({"/": "bafy2bzacedjrqan2fwfvhfopi64yickki7miiksecglpeiavf7xueytnzevlu"});
        let e = err_of(|v| v["ECChain"][0]["Key"] = json!(vec![cid; 21]));
        assert_eq!(
            (e.code(), e.field.as_deref()),
            ("json-value", Some("ECChain[0].Key"))
        );
        assert!(e
            .to_string()
            .contains("certificate 3, field ECChain[0].Key"));
    }

    #[test]
    fn big_integers_must_be_canonical_decimals() {
        let at = At {
            index: None,
            path: "x".into(),
        };
        for ok in ["0", "1", "-1", "119917495875272704"] {
            assert_eq!(bigint_of(&json!(ok), &at).unwrap().to_string(), ok, "{ok}");
        }
        for bad in ["", "-", "+1", "01", "-0", "1_000", " 1", "1e3", "0x10"] {
            assert!(bigint_of(&json!(bad), &at).is_err(), "{bad:?}");
        }
        let max = "9".repeat(305);
        assert!(bigint_of(&json!(max), &at).is_ok());
        assert!(bigint_of(&json!("9".repeat(310)), &at).is_err());
    }
}
