//! A small YANG-like schema: enough structure for a gNMI target to tell an
//! unknown path (NOT_FOUND) from a bad value (INVALID_ARGUMENT), to merge lists
//! by key, to split config from state, to check the few leafrefs and `when`s a
//! device enforces, and to encode leaves RFC 7951 style.
//!
//! Every node knows its YANG module (RFC 7951 qualifies a member name exactly
//! where the module changes) and whether it is configuration: a child named
//! `state` is `config false` with everything below it (the OpenConfig
//! convention); other read-only subtrees are marked with [`read_only`].

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct SchemaNode {
    pub kind: NodeKind,
    /// The defining module. Empty while building: [`Schema::new`] fills in the
    /// parent's module wherever [`augment`] did not name one.
    pub module: String,
    /// `config true` in YANG terms.
    pub config: bool,
    /// A YANG `when`: the node may only exist if the condition holds.
    pub when: Option<When>,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Container(BTreeMap<String, SchemaNode>),
    List {
        keys: Vec<String>,
        entry: BTreeMap<String, SchemaNode>,
    },
    Leaf(LeafType),
    LeafList(LeafType),
}

/// `when "<sibling path> = 'v1' or … = 'v2'"`, the only form the simulated
/// models need. `path` is relative to the node's parent (e.g. `config/type`).
#[derive(Debug, Clone)]
pub struct When {
    pub path: Vec<String>,
    /// RFC 7951 values (identities module-qualified as stored).
    pub any_of: Vec<String>,
}

/// An identity of an identityref, with the module that defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub module: String,
    pub name: String,
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
        fraction_digits: u8,
    },
    /// A YANG enumeration: bare names, never module-qualified.
    Enum(Vec<String>),
    /// A YANG identityref: the identities it accepts.
    Identity(Vec<Identity>),
    /// A leafref with `require-instance true`: the value must name an existing
    /// entry. `target` is the referenced key leaf as a schema path, e.g.
    /// `/components/component/name`; a key predicate
    /// `[name=current()/../interface]` takes its value from a sibling leaf.
    Leafref {
        target: String,
        base: Box<LeafType>,
    },
}

fn node(kind: NodeKind) -> SchemaNode {
    SchemaNode {
        kind,
        module: String::new(),
        config: true,
        when: None,
    }
}

fn children_of(entries: Vec<(&str, SchemaNode)>) -> BTreeMap<String, SchemaNode> {
    entries
        .into_iter()
        .map(|(k, mut v)| {
            if k == "state" {
                v = read_only(v);
            }
            (k.to_string(), v)
        })
        .collect()
}

pub fn container(children: Vec<(&str, SchemaNode)>) -> SchemaNode {
    node(NodeKind::Container(children_of(children)))
}

pub fn list(keys: &[&str], entry: Vec<(&str, SchemaNode)>) -> SchemaNode {
    node(NodeKind::List {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        entry: children_of(entry),
    })
}

pub fn leaf(ty: LeafType) -> SchemaNode {
    node(NodeKind::Leaf(ty))
}

pub fn leaf_list(ty: LeafType) -> SchemaNode {
    node(NodeKind::LeafList(ty))
}

/// Marks a subtree as defined by `module` (an augment or a top-level node);
/// descendants inherit it unless they name their own.
pub fn augment(module: &str, mut n: SchemaNode) -> SchemaNode {
    n.module = module.to_string();
    n
}

/// Marks a subtree `config false`.
pub fn read_only(mut n: SchemaNode) -> SchemaNode {
    n.config = false;
    match &mut n.kind {
        NodeKind::Container(c) | NodeKind::List { entry: c, .. } => {
            for child in c.values_mut() {
                let taken = std::mem::replace(child, leaf(LeafType::Bool));
                *child = read_only(taken);
            }
        }
        NodeKind::Leaf(_) | NodeKind::LeafList(_) => {}
    }
    n
}

/// Attaches a `when` condition (see [`When`]).
pub fn when(path: &str, any_of: &[&str], mut n: SchemaNode) -> SchemaNode {
    n.when = Some(When {
        path: path.split('/').map(str::to_string).collect(),
        any_of: any_of.iter().map(|v| v.to_string()).collect(),
    });
    n
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

/// decimal64 with two fraction digits (most OpenConfig measurements).
pub fn decimal(min: f64, max: f64) -> LeafType {
    decimal_digits(min, max, 2)
}

pub fn decimal_digits(min: f64, max: f64, fraction_digits: u8) -> LeafType {
    LeafType::Decimal {
        min,
        max,
        fraction_digits,
    }
}

pub fn enumeration(values: &[&str]) -> LeafType {
    LeafType::Enum(values.iter().map(|v| v.to_string()).collect())
}

/// An identityref over identities all defined in `module`.
pub fn identityref(module: &str, names: &[&str]) -> LeafType {
    LeafType::Identity(
        names
            .iter()
            .map(|n| Identity {
                module: module.to_string(),
                name: n.to_string(),
            })
            .collect(),
    )
}

pub fn leafref(target: &str, base: LeafType) -> LeafType {
    LeafType::Leafref {
        target: target.to_string(),
        base: Box::new(base),
    }
}

impl SchemaNode {
    pub fn children(&self) -> Option<&BTreeMap<String, SchemaNode>> {
        match &self.kind {
            NodeKind::Container(c) => Some(c),
            NodeKind::List { entry, .. } => Some(entry),
            _ => None,
        }
    }

    pub fn is_leafy(&self) -> bool {
        matches!(self.kind, NodeKind::Leaf(_) | NodeKind::LeafList(_))
    }

    pub fn leaf_type(&self) -> Option<&LeafType> {
        match &self.kind {
            NodeKind::Leaf(t) | NodeKind::LeafList(t) => Some(t),
            _ => None,
        }
    }

    pub fn list_keys(&self) -> Option<&[String]> {
        match &self.kind {
            NodeKind::List { keys, .. } => Some(keys),
            _ => None,
        }
    }

    /// Fills in inherited modules, below `parent`'s.
    fn resolve_modules(&mut self, parent: &str) {
        if self.module.is_empty() {
            self.module = parent.to_string();
        }
        let module = self.module.clone();
        if let NodeKind::Container(c) | NodeKind::List { entry: c, .. } = &mut self.kind {
            for child in c.values_mut() {
                child.resolve_modules(&module);
            }
        }
    }

    /// Calls `f` on every node below this one with its schema path
    /// (element names, unqualified).
    pub fn walk<'a>(&'a self, path: &mut Vec<&'a str>, f: &mut dyn FnMut(&[&'a str], &'a Self)) {
        if let Some(children) = self.children() {
            for (name, child) in children {
                path.push(name);
                f(path, child);
                child.walk(path, f);
                path.pop();
            }
        }
    }
}

/// `module:name` split; `None` module for a bare name.
pub fn split_qualified(name: &str) -> (Option<&str>, &str) {
    match name.split_once(':') {
        Some((m, n)) => (Some(m), n),
        None => (None, name),
    }
}

impl LeafType {
    /// Checks a JSON value against the type and returns its canonical form:
    /// numbers as JSON numbers, identities RFC 7951 style (module-qualified
    /// unless defined in `leaf_module`). 64-bit integers and decimals may come
    /// as strings (RFC 7951) or numbers.
    pub fn normalize(&self, value: &Value, leaf_module: &str) -> Result<Value, String> {
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
            LeafType::Decimal { min, max, .. } => {
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
                if allowed.iter().any(|a| a == s) {
                    Ok(Value::String(s.to_string()))
                } else {
                    Err(format!("{s:?} is not one of {allowed:?}"))
                }
            }
            LeafType::Identity(allowed) => {
                let s = value
                    .as_str()
                    .ok_or_else(|| format!("expected an identity, got {value}"))?;
                let (module, name) = split_qualified(s);
                let Some(id) = allowed.iter().find(|i| i.name == name) else {
                    let names: Vec<String> = allowed.iter().map(Identity::qualified).collect();
                    return Err(format!("{s:?} is not one of {names:?}"));
                };
                match module {
                    Some(m) if m != id.module => Err(format!(
                        "identity {name} is defined in {}, not {m}",
                        id.module
                    )),
                    None if id.module != leaf_module => Err(format!(
                        "identity {name} is from module {}: write \"{}\" (RFC 7951 §6.8)",
                        id.module,
                        id.qualified()
                    )),
                    _ => Ok(Value::String(id.ietf(leaf_module))),
                }
            }
            LeafType::Leafref { base, .. } => base.normalize(value, leaf_module),
        }
    }

    /// RFC 7951: 64-bit integers and decimal64 travel as strings.
    pub fn to_ietf(&self, value: &Value) -> Value {
        match self {
            LeafType::Uint { bits: 64, .. } | LeafType::Int { bits: 64, .. } => match value {
                Value::Number(n) => Value::String(n.to_string()),
                other => other.clone(),
            },
            LeafType::Decimal {
                fraction_digits, ..
            } => match value.as_f64() {
                Some(f) => Value::String(format_decimal(f, *fraction_digits)),
                None => value.clone(),
            },
            LeafType::Leafref { base, .. } => base.to_ietf(value),
            _ => value.clone(),
        }
    }

    /// The type a leafref resolves to (itself for any other type).
    pub fn base(&self) -> &LeafType {
        match self {
            LeafType::Leafref { base, .. } => base.base(),
            other => other,
        }
    }
}

impl Identity {
    pub fn qualified(&self) -> String {
        format!("{}:{}", self.module, self.name)
    }

    /// RFC 7951 form in a leaf of `leaf_module`: qualified only when the
    /// identity comes from another module. Always-qualified is also valid
    /// RFC 7951, but libyang prints it this way, so Gets compare equal.
    pub fn ietf(&self, leaf_module: &str) -> String {
        if self.module == leaf_module {
            self.name.clone()
        } else {
            self.qualified()
        }
    }
}

/// A decimal64 with at most `digits` fraction digits, trailing zeros trimmed
/// (more digits than the type has is invalid in YANG).
pub fn format_decimal(f: f64, digits: u8) -> String {
    let s = format!("{f:.*}", usize::from(digits));
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
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
        for (module, name, mut node) in top {
            modules.insert(name.to_string(), module.to_string());
            node.module = module.to_string();
            node.resolve_modules(module);
            children.insert(name.to_string(), node);
        }
        // The root belongs to no module: every top-level member is qualified.
        let mut root = container(vec![]);
        root.kind = NodeKind::Container(children);
        Schema { root, modules }
    }

    /// Every module a node of the schema is defined in.
    pub fn all_modules(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.root.walk(&mut Vec::new(), &mut |_, n| {
            out.insert(n.module.clone());
            if let Some(LeafType::Identity(ids)) = n.leaf_type().map(LeafType::base) {
                out.extend(ids.iter().map(|i| i.module.clone()));
            }
        });
        out
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
            t.normalize(&json!(193_175_000), "m").unwrap(),
            json!(193_175_000)
        );
        assert_eq!(
            t.normalize(&json!("193175000"), "m").unwrap(),
            json!(193_175_000)
        );
        assert!(t
            .normalize(&json!(193_150_000), "m")
            .unwrap_err()
            .contains("grid"));
        assert!(t
            .normalize(&json!(190_000_000), "m")
            .unwrap_err()
            .contains("range"));
        assert!(t.normalize(&json!(-5), "m").is_err());
        assert_eq!(t.to_ietf(&json!(193_175_000)), json!("193175000"));
    }

    #[test]
    fn enums_are_never_qualified() {
        let t = enumeration(&["UP", "DOWN"]);
        assert_eq!(t.normalize(&json!("UP"), "m").unwrap(), json!("UP"));
        assert!(t.normalize(&json!("openconfig-x:UP"), "m").is_err());
        assert!(t.normalize(&json!("SIDEWAYS"), "m").is_err());
        assert!(t.normalize(&json!(1), "m").is_err());
    }

    #[test]
    fn identities_carry_their_module_when_foreign() {
        let t = identityref("iana-if-type", &["ethernetCsmacd"]);
        let leaf_mod = "openconfig-interfaces";
        assert_eq!(
            t.normalize(&json!("iana-if-type:ethernetCsmacd"), leaf_mod)
                .unwrap(),
            json!("iana-if-type:ethernetCsmacd")
        );
        let e = t.normalize(&json!("ethernetCsmacd"), leaf_mod).unwrap_err();
        assert!(e.contains("iana-if-type:ethernetCsmacd"), "{e}");
        assert!(t
            .normalize(&json!("openconfig-interfaces:ethernetCsmacd"), leaf_mod)
            .is_err());
        // bare is right in the identity's own module
        let t = identityref("openconfig-x", &["A"]);
        assert_eq!(
            t.normalize(&json!("A"), "openconfig-x").unwrap(),
            json!("A")
        );
        assert_eq!(
            t.normalize(&json!("openconfig-x:A"), "openconfig-x")
                .unwrap(),
            json!("A")
        );
    }

    #[test]
    fn decimals_reject_nan_and_encode_as_string() {
        let t = decimal(-20.0, 3.0);
        assert!(t.normalize(&json!("NaN"), "m").is_err());
        assert!(t.normalize(&json!(4.5), "m").is_err());
        assert_eq!(t.to_ietf(&json!(-1.5)), json!("-1.5"));
        assert_eq!(t.to_ietf(&json!(-1.456)), json!("-1.46"));
        assert_eq!(t.to_ietf(&json!(2.0)), json!("2"));
        let ber = decimal_digits(0.0, 1.0, 18);
        assert_eq!(ber.to_ietf(&json!(0.00012)), json!("0.00012"));
    }

    #[test]
    fn modules_inherit_and_state_is_read_only() {
        let s = Schema::new(vec![(
            "a",
            "top",
            container(vec![
                ("x", leaf(string())),
                ("aug", augment("b", container(vec![("y", leaf(string()))]))),
                ("state", container(vec![("z", leaf(string()))])),
            ]),
        )]);
        let top = &s.root.children().unwrap()["top"];
        let c = top.children().unwrap();
        assert_eq!(c["x"].module, "a");
        assert_eq!(c["aug"].children().unwrap()["y"].module, "b");
        assert!(c["x"].config);
        assert!(!c["state"].children().unwrap()["z"].config);
        assert!(s.root.module.is_empty());
    }
}
