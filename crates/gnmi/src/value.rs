//! TypedValue ↔ JSON: decoding what clients send in Set, and encoding leaves
//! and subtrees in the encoding a client asked for.

use serde_json::Value;

use super::schema::LeafType;
use crate::proto::gnmi::{typed_value, Encoding, ScalarArray, TypedValue, Update};

#[derive(Debug, Clone, PartialEq)]
pub enum ValueError {
    /// An encoding this target does not accept (UNIMPLEMENTED per spec 3.4.7).
    Unsupported(String),
    /// Bytes that do not parse (INVALID_ARGUMENT).
    Malformed(String),
    Missing,
}

impl ValueError {
    pub fn code(&self) -> tonic::Code {
        match self {
            ValueError::Unsupported(_) => tonic::Code::Unimplemented,
            ValueError::Malformed(_) | ValueError::Missing => tonic::Code::InvalidArgument,
        }
    }
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueError::Unsupported(what) => write!(f, "unsupported value encoding {what}"),
            ValueError::Malformed(why) => write!(f, "malformed value: {why}"),
            ValueError::Missing => write!(f, "update carries no value"),
        }
    }
}

/// The JSON value an Update carries, whatever scalar or JSON form it came in.
pub fn decode_update(update: &Update) -> Result<Value, ValueError> {
    if let Some(tv) = &update.val {
        return typed_to_json(tv);
    }
    #[allow(deprecated)]
    if let Some(v) = &update.value {
        return match Encoding::try_from(v.r#type) {
            Ok(Encoding::Json) | Ok(Encoding::JsonIetf) => parse_json(&v.value),
            other => Err(ValueError::Unsupported(format!("{other:?}"))),
        };
    }
    Err(ValueError::Missing)
}

/// JSON text, or a bare scalar: pygnmi's `set(update=[(leaf, "text")],
/// encoding="json_ietf")` sends the string's bytes unquoted. Text that could
/// only have meant a JSON object, array or string stays an error.
fn parse_json(bytes: &[u8]) -> Result<Value, ValueError> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(e) => match bare_scalar(bytes) {
            Some(text) => Ok(Value::String(text)),
            None => Err(ValueError::Malformed(e.to_string())),
        },
    }
}

fn bare_scalar(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let first = text.trim_start().chars().next()?;
    if matches!(first, '{' | '[' | '"') || text.len() > 64 * 1024 {
        return None;
    }
    Some(text.to_string())
}

/// The raw text of a JSON scalar payload that parsed as a number, boolean or
/// null. A client that sends `42` bare for a string leaf meant the text "42";
/// only the target knows the leaf's type, so it asks for this.
pub fn raw_scalar_text(update: &Update) -> Option<String> {
    use typed_value::Value as V;
    let bytes = match update.val.as_ref()?.value.as_ref()? {
        V::JsonVal(b) | V::JsonIetfVal(b) => b,
        _ => return None,
    };
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Number(_) | Value::Bool(_) | Value::Null => std::str::from_utf8(bytes)
            .ok()
            .map(|t| t.trim().to_string()),
        _ => None,
    }
}

pub fn typed_to_json(tv: &TypedValue) -> Result<Value, ValueError> {
    use typed_value::Value as V;
    match tv.value.as_ref().ok_or(ValueError::Missing)? {
        V::JsonVal(b) | V::JsonIetfVal(b) => parse_json(b),
        V::StringVal(s) => Ok(Value::String(s.clone())),
        V::IntVal(i) => Ok(Value::from(*i)),
        V::UintVal(u) => Ok(Value::from(*u)),
        V::BoolVal(b) => Ok(Value::Bool(*b)),
        V::DoubleVal(d) => serde_json::Number::from_f64(*d)
            .map(Value::Number)
            .ok_or_else(|| ValueError::Malformed(format!("non-finite number {d}"))),
        #[allow(deprecated)]
        V::FloatVal(f) => serde_json::Number::from_f64(f64::from(*f))
            .map(Value::Number)
            .ok_or_else(|| ValueError::Malformed(format!("non-finite number {f}"))),
        V::LeaflistVal(arr) => arr
            .element
            .iter()
            .map(typed_to_json)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        V::AsciiVal(_) => Err(ValueError::Unsupported("ASCII".into())),
        V::BytesVal(_) => Err(ValueError::Unsupported("BYTES".into())),
        V::ProtoBytes(_) => Err(ValueError::Unsupported("PROTO bytes".into())),
        V::AnyVal(_) => Err(ValueError::Unsupported("protobuf Any".into())),
        #[allow(deprecated)]
        V::DecimalVal(d) => {
            let f = d.digits as f64 / 10f64.powi(d.precision as i32);
            Ok(Value::from(f))
        }
    }
}

/// A subtree as JSON or JSON_IETF text.
pub fn json_typed(value: &Value, ietf: bool) -> TypedValue {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    TypedValue {
        value: Some(if ietf {
            typed_value::Value::JsonIetfVal(bytes)
        } else {
            typed_value::Value::JsonVal(bytes)
        }),
    }
}

/// A leaf as a typed scalar (the PROTO encoding: "scalar values of TypedValue").
pub fn scalar_typed(value: &Value, ty: &LeafType) -> TypedValue {
    use typed_value::Value as V;
    let v = match (ty, value) {
        (_, Value::Array(items)) => V::LeaflistVal(ScalarArray {
            element: items.iter().map(|i| scalar_typed(i, ty)).collect(),
        }),
        (LeafType::Leafref { base, .. }, v) => return scalar_typed(v, base),
        (LeafType::Uint { .. }, v) if v.as_u64().is_some() => V::UintVal(v.as_u64().unwrap_or(0)),
        (LeafType::Int { .. }, v) if v.as_i64().is_some() => V::IntVal(v.as_i64().unwrap_or(0)),
        (LeafType::Decimal { .. }, v) if v.as_f64().is_some() => {
            V::DoubleVal(v.as_f64().unwrap_or(0.0))
        }
        (_, Value::Bool(b)) => V::BoolVal(*b),
        (_, Value::String(s)) => V::StringVal(s.clone()),
        (_, other) => V::StringVal(other.to_string()),
    };
    TypedValue { value: Some(v) }
}

/// A leaf in the encoding a subscriber or Get asked for.
pub fn encode_leaf(value: &Value, ty: &LeafType, encoding: Encoding) -> TypedValue {
    match encoding {
        Encoding::Json => json_typed(value, false),
        Encoding::JsonIetf => json_typed(&ty.to_ietf(value), true),
        _ => scalar_typed(value, ty),
    }
}

/// A number from any scalar encoding a device may use for an integer or a
/// decimal64: uint/int/double/float, decimal_val, a string, or JSON text
/// (bare or quoted). Never allocates: telemetry decodes millions a second.
pub fn typed_as_f64(tv: &TypedValue) -> Option<f64> {
    use typed_value::Value as V;
    match tv.value.as_ref()? {
        V::UintVal(u) => Some(*u as f64),
        V::IntVal(i) => Some(*i as f64),
        V::DoubleVal(d) => Some(*d),
        #[allow(deprecated)]
        V::FloatVal(f) => Some(f64::from(*f)),
        #[allow(deprecated)]
        V::DecimalVal(d) => {
            // decimal64 allows 1..=18 fraction digits.
            if d.precision > 18 {
                return None;
            }
            Some(d.digits as f64 / 10f64.powi(d.precision as i32))
        }
        V::StringVal(s) => s.trim().parse().ok(),
        V::JsonVal(b) | V::JsonIetfVal(b) => {
            let text = std::str::from_utf8(b).ok()?.trim();
            let text = text
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(text);
            text.trim().parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::gnmi::TypedValue;

    fn ietf(bytes: &[u8]) -> Update {
        Update {
            val: Some(TypedValue {
                value: Some(typed_value::Value::JsonIetfVal(bytes.to_vec())),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn bare_scalars_are_text() {
        assert_eq!(
            decode_update(&ietf(b"to pe2")).unwrap(),
            Value::String("to pe2".into())
        );
        assert_eq!(decode_update(&ietf(b"42")).unwrap(), Value::from(42));
        assert_eq!(raw_scalar_text(&ietf(b"42")).as_deref(), Some("42"));
        assert_eq!(raw_scalar_text(&ietf(b"\"42\"")), None);
        assert!(matches!(
            decode_update(&ietf(b"{not json")),
            Err(ValueError::Malformed(_))
        ));
        assert!(decode_update(&ietf(b"\"unterminated")).is_err());
    }
}
