//! The JSON objects `inspect --json` and `check --json` print. Their shapes are documented in
//! README.md and are stable: fields may be added, never renamed or removed.

use cid::Cid;
use serde_json::{json, Map, Value};

use super::{Analysis, Format};
use crate::chain::consistency::{key_string, Consistency, TipsetRef};
use crate::error::Error;
use crate::validate::Level;

fn error_json(e: &Error) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), json!(e.code()));
    m.insert("message".into(), json!(e.kind.to_string()));
    if let Some(i) = e.location.instance {
        m.insert("instance".into(), json!(i));
    }
    if let Some(o) = e.location.offset {
        m.insert("offset".into(), json!(o));
    }
    if let Some(f) = e.location.field {
        m.insert("field".into(), json!(f));
    }
    Value::Object(m)
}

fn cid_json(c: &Option<Cid>) -> Value {
    c.map_or(Value::Null, |c| json!(c.to_string()))
}

impl Analysis {
    fn f3_json(&self) -> Option<Value> {
        let f3 = self.f3.as_ref()?;
        let header = f3.header.as_ref().map(|h| {
            json!({
                "version": h.version,
                "first_instance": h.first_instance,
                "latest_instance": h.latest_instance,
                "initial_power_table": {
                    "entries": h.initial_power_table.0.len(),
                    "cid": cid_json(&f3.initial_power_table_cid),
                },
            })
        });
        Some(json!({
            "cid": cid_json(&f3.cid),
            "bytes": f3.bytes,
            "header": header,
            "certificates": f3.certificates,
        }))
    }

    /// The `inspect --json` object.
    pub fn inspect_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "format".into(),
            self.format.map_or(Value::Null, |f| json!(f.name())),
        );
        m.insert("compression".into(), json!(self.compression.name()));
        if let Some(car) = &self.car {
            m.insert(
                "container".into(),
                car.container.map_or(Value::Null, |c| json!(c.name())),
            );
            m.insert(
                "roots".into(),
                json!(car.roots.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
            );
            if let Some(md) = &car.metadata {
                m.insert(
                    "metadata".into(),
                    json!({
                        "cid": cid_json(&car.metadata_cid),
                        "version": md.version,
                        "head_tipset_key": md.head_tipset_key.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                        "f3_data": cid_json(&md.f3_data),
                    }),
                );
            }
            m.insert("sections".into(), json!(car.sections));
        }
        if let Some(f3) = self.f3_json() {
            m.insert("f3".into(), f3);
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), error_json(e));
        }
        Value::Object(m)
    }

    /// The `check --json` object.
    pub fn check_json(&self) -> Value {
        let summary = self.f3.as_ref().and_then(|f| f.summary.as_ref());
        let final_pt = summary.and_then(|s| s.final_power_table);
        let hashed = summary.map(|s| s.tables_hashed).unwrap_or_default();
        json!({
            "result": if self.is_valid() { "valid" } else { "invalid" },
            "level": self.level.map(Level::name),
            "format": self.format.map(Format::name),
            "compression": self.compression.name(),
            "f3": self.f3_json(),
            "final_power_table": cid_json(&final_pt),
            "power_tables_hashed": {"tables": hashed.tables, "bytes": hashed.bytes},
            "consistency": self.consistency.as_ref().map_or(Value::Null, consistency_json),
            "errors": self.error.iter().map(error_json).collect::<Vec<_>>(),
        })
    }
}

fn tipset_json(t: &TipsetRef) -> Value {
    let key = match t.cids() {
        Some(cids) => json!(cids.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
        None => json!(key_string(&t.key)),
    };
    json!({"epoch": t.epoch, "key": key})
}

/// The `consistency` object of `check --json`: `checked`, and either `skipped` (why not) or
/// what was found (`finalized`, `head`, `headers_kept`, `tipsets_walked`).
fn consistency_json(c: &Consistency) -> Value {
    if !c.checked {
        return json!({"checked": false, "skipped": c.skipped});
    }
    json!({
        "checked": true,
        "finalized": c.finalized.as_ref().map_or(Value::Null, tipset_json),
        "head": c.head.as_ref().map_or(Value::Null, tipset_json),
        "headers_kept": c.headers_kept,
        "tipsets_walked": c.tipsets_walked,
    })
}
