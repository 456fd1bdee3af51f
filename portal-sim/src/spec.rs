//! Job specs of `POST /admin/jobs`, turned into the object that goes on the wire.
//! A field the spec leaves out is left out on the wire too (the connector derives its
//! defaults); `"raw": <any JSON>` enqueues a deliberately malformed job verbatim.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::jobs::{NewJob, WireForm};

/// Longest job id the protocol allows (§2.3).
const MAX_ID_LEN: usize = 128;

/// Deserialize a field that is present, even as `null`, into `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// One job spec as the admin writes it.
#[derive(Debug, Deserialize)]
struct JobSpec {
    #[serde(default, deserialize_with = "present")]
    raw: Option<Value>,
    id: Option<String>,
    #[serde(rename = "type")]
    job_type: Option<String>,
    #[serde(default, deserialize_with = "present")]
    payload: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    priority: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    ordering_key: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    deadline: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    created_at: Option<Value>,
    lease_s: Option<u64>,
}

/// Parse one spec or an array of them; errors name the spec's position.
pub fn parse_specs(body: Value, default_lease_s: u64) -> Result<Vec<NewJob>, ApiError> {
    let items = match body {
        Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value::<JobSpec>(item)
                .map_err(|e| ApiError::BadRequest(format!("job spec {i}: {e}")))
                .and_then(|spec| build(spec, default_lease_s))
                .map_err(|e| match e {
                    ApiError::BadRequest(m) if !m.starts_with("job spec") => {
                        ApiError::BadRequest(format!("job spec {i}: {m}"))
                    }
                    other => other,
                })
        })
        .collect()
}

fn build(spec: JobSpec, default_lease_s: u64) -> Result<NewJob, ApiError> {
    let lease_s = spec.lease_s.unwrap_or(default_lease_s);
    if let Some(raw) = spec.raw {
        return Ok(NewJob {
            id: raw.get("id").and_then(Value::as_str).map(str::to_owned),
            job_type: raw.get("type").and_then(Value::as_str).unwrap_or_default().to_owned(),
            wire: raw,
            form: WireForm::Raw,
            lease_s,
        });
    }
    let job_type = spec.job_type.ok_or_else(|| ApiError::BadRequest("missing \"type\"".to_owned()))?;
    if let Some(id) = &spec.id {
        if id.is_empty() || id.len() > MAX_ID_LEN {
            return Err(ApiError::BadRequest(format!("id must be 1 to {MAX_ID_LEN} characters")));
        }
    }
    let mut wire = Map::new();
    wire.insert("type".into(), Value::String(job_type.clone()));
    let optional = [
        ("priority", spec.priority),
        ("ordering_key", spec.ordering_key),
        ("created_at", spec.created_at),
        ("deadline", spec.deadline),
        ("payload", spec.payload),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            wire.insert(name.into(), value);
        }
    }
    Ok(NewJob { id: spec.id, job_type, wire: Value::Object(wire), form: WireForm::Spec, lease_s })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::parse_specs;
    use crate::jobs::WireForm;

    #[test]
    fn one_or_many_with_left_out_fields_left_out() {
        let one = parse_specs(json!({"type": "t", "payload": {}, "deadline": null}), 60);
        let one = one.expect("one spec");
        assert_eq!(one[0].wire, json!({"type": "t", "payload": {}, "deadline": null}));
        assert_eq!(one[0].lease_s, 60);
        let many = parse_specs(json!([{"type": "a", "lease_s": 5}, {"raw": {"id": "r"}}]), 60);
        let many = many.expect("two specs");
        assert_eq!(many[0].lease_s, 5);
        assert_eq!(many[1].form, WireForm::Raw);
        assert_eq!(many[1].id.as_deref(), Some("r"));
        let raw_null = parse_specs(json!({"raw": null}), 60).expect("raw null");
        assert_eq!(raw_null[0].wire, json!(null));
    }

    #[test]
    fn missing_type_is_refused_with_its_position() {
        let err = parse_specs(json!([{"type": "a"}, {"payload": {}}]), 60);
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("job spec 1"), "{message}");
    }
}
