//! A small YANG-like schema: enough structure for a gNMI target to tell an
//! unknown path (NOT_FOUND) from a bad value (INVALID_ARGUMENT), to merge lists
//! by key, to split config from state, and to encode leaves with their types.
//!
//! Leaves under a container named `state` are read-only (OpenConfig style).

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone)]
pub enum SchemaNode {
    Container(BTreeMap<String, SchemaNode>),
    List {
        keys: Vec<String>,
        entry: BTreeMap<String, SchemaNode>,
    },
    Leaf(LeafType),
    LeafList(LeafType),
}

#[derive(Debug, Clone)]
pub enum LeafType {
    String,
    Bool,
    /// Unsigned integer; `grid` = (anchor, step): the value must sit on it.
    Uint {
        bits: u8,
        min: u64,
        max: u64,
        grid: Option<(u64, u64)>,
    },
    Int {
        bits: u8,
        min: i64,
        max: i64,
    },
    /// decimal64 in YANG; RFC 7951 encodes it as a string.
    Decimal {
        min: f64,
        max: f64,
    },
    /// enumeration or identityref; values may arrive module-qualified.
    Enum(Vec<String>),
}

pub fn container(children: Vec<(&str, SchemaNode)>) -> SchemaNode {
    SchemaNode::Container(
        children
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

pub fn list(keys: &[&str], entry: Vec<(&str, SchemaNode)>) -> SchemaNode {
    SchemaNode::List {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        entry: entry.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

pub fn leaf(ty: LeafType) -> SchemaNode {
    SchemaNode::Leaf(ty)
}

pub fn leaf_list(ty: LeafType) -> SchemaNode {
    SchemaNode::LeafList(ty)
}

pub fn string() -> LeafType {
    LeafType::String
}

pub fn boolean() -> LeafType {
    LeafType::Bool
}

pub fn uint(bits: u8) -> LeafType {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    LeafType::Uint {
        bits,
        min: 0,
        max,
        grid: None,
    }
}

pub fn uint_range(bits: u8, min: u64, max: u64) -> LeafType {
    LeafType::Uint {
        bits,
        min,
        max,
        grid: None,
    }
}

pub fn int(bits: u8) -> LeafType {
    let max = if bits >= 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    LeafType::Int {
        bits,
        min: -max - 1,
        max,
    }
}

pub fn decimal(min: f64, max: f64) -> LeafType {
    LeafType::Decimal { min, max }
}

pub fn enumeration(values: &[&str]) -> LeafType {
    LeafType::Enum(values.iter().map(|v| v.to_string()).collect())
}

impl SchemaNode {
    pub fn children(&self) -> Option<&BTreeMap<String, SchemaNode>> {
        match self {
            SchemaNode::Container(c) => Some(c),
            SchemaNode::List { entry, .. } => Some(entry),
            _ => None,
        }
    }

    pub fn is_leafy(&self) -> bool {
        matches!(self, SchemaNode::Leaf(_) | SchemaNode::LeafList(_))
    }
}

impl LeafType {
    /// Checks a JSON value against the type and returns its canonical form
    /// (numbers as numbers, identities without module prefix).
    pub fn normalize(&self, value: &Value) -> Result<Value, String> {
        match self {
            LeafType::String => match value {
                Value::String(_) => Ok(value.clone()),
                other => Err(format!("expected a string, got {other}")),
            },
            LeafType::Bool => match value {
                Value::Bool(_) => Ok(value.clone()),
                Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
                other => Err(format!("expected a boolean, got {other}")),
            },
            LeafType::Uint { min, max, grid, .. } => {
                let n = match value {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| format!("expected an unsigned integer, got {value}"))?;
                if n < *min || n > *max {
                    return Err(format!("{n} is out of range [{min}, {max}]"));
                }
                if let Some((anchor, step)) = grid {
                    let off = n.abs_diff(*anchor);
                    if off % step != 0 {
                        return Err(format!("{n} is not on the grid {anchor} + k*{step}"));
                    }
                }
                Ok(Value::from(n))
            }
            LeafType::Int { min, max, .. } => {
                let n = match value {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| format!("expected an integer, got {value}"))?;
                if n < *min || n > *max {
                    return Err(format!("{n} is out of range [{min}, {max}]"));
                }
                Ok(Value::from(n))
            }
            LeafType::Decimal { min, max } => {
                let n = match value {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                }
                .filter(|f| f.is_finite())
                .ok_or_else(|| format!("expected a decimal number, got {value}"))?;
                if n < *min || n > *max {
                    return Err(format!("{n} is out of range [{min}, {max}]"));
                }
                Ok(Value::from(n))
            }
            LeafType::Enum(allowed) => {
                let s = value
                    .as_str()
                    .ok_or_else(|| format!("expected one of {allowed:?}, got {value}"))?;
                let bare = super::path::strip_module(s);
                if allowed.iter().any(|a| a == bare) {
                    Ok(Value::String(bare.to_string()))
                } else {
                    Err(format!("{s:?} is not one of {allowed:?}"))
                }
            }
        }
    }

    /// RFC 7951: 64-bit integers and decimal64 travel as strings.
    pub fn to_ietf(&self, value: &Value) -> Value {
        match self {
            LeafType::Uint { bits: 64, .. } | LeafType::Int { bits: 64, .. } => {
                Value::String(value.to_string().trim_matches('"').to_string())
            }
            LeafType::Decimal { .. } => match value.as_f64() {
                Some(f) => Value::String(format_decimal(f)),
                None => value.clone(),
            },
            _ => value.clone(),
        }
    }
}

fn format_decimal(f: f64) -> String {
    let s = format!("{f:.6}");
    let s = s.trim_end_matches('0');
    let s = s.strip_suffix('.').unwrap_or(s);
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// The root of a device's schema, with the YANG module owning each top-level
/// container (used for RFC 7951 member qualification and Capabilities).
#[derive(Debug, Clone)]
pub struct Schema {
    pub root: SchemaNode,
    pub modules: BTreeMap<String, String>,
}

impl Schema {
    pub fn new(top: Vec<(&str, &str, SchemaNode)>) -> Self {
        let mut children = BTreeMap::new();
        let mut modules = BTreeMap::new();
        for (module, name, node) in top {
            modules.insert(name.to_string(), module.to_string());
            children.insert(name.to_string(), node);
        }
        Schema {
            root: SchemaNode::Container(children),
            modules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uint_range_and_grid() {
        let t = LeafType::Uint {
            bits: 64,
            min: 191_300_000,
            max: 196_100_000,
            grid: Some((193_100_000, 75_000)),
        };
        assert_eq!(
            t.normalize(&json!(193_175_000)).unwrap(),
            json!(193_175_000)
        );
        assert_eq!(
            t.normalize(&json!("193175000")).unwrap(),
            json!(193_175_000)
        );
        assert!(t
            .normalize(&json!(193_150_000))
            .unwrap_err()
            .contains("grid"));
        assert!(t
            .normalize(&json!(190_000_000))
            .unwrap_err()
            .contains("range"));
        assert!(t.normalize(&json!(-5)).is_err());
        assert_eq!(t.to_ietf(&json!(193_175_000)), json!("193175000"));
    }

    #[test]
    fn enums_accept_module_prefix() {
        let t = enumeration(&["UP", "DOWN"]);
        assert_eq!(t.normalize(&json!("openconfig-x:UP")).unwrap(), json!("UP"));
        assert!(t.normalize(&json!("SIDEWAYS")).is_err());
        assert!(t.normalize(&json!(1)).is_err());
    }

    #[test]
    fn decimals_reject_nan_and_encode_as_string() {
        let t = decimal(-20.0, 3.0);
        assert!(t.normalize(&json!("NaN")).is_err());
        assert!(t.normalize(&json!(4.5)).is_err());
        assert_eq!(t.to_ietf(&json!(-1.5)), json!("-1.5"));
    }
}
