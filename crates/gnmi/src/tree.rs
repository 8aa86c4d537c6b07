//! A schema-checked OpenConfig data tree, as held by a gNMI target.
//!
//! Internally list entries are stored in a JSON object keyed by their key
//! values, so lookups, merges and deletes by key are O(log n) however many
//! entries a device holds; `export` turns them back into RFC 7951 arrays.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::path::{format_path, strip_module};
use super::schema::{split_qualified, LeafType, NodeKind, Schema, SchemaNode};
use crate::proto::gnmi::{Path, PathElem};

/// Why a tree operation was refused; `code()` gives the gNMI status (spec 3.4.7).
#[derive(Debug, Clone, PartialEq)]
pub enum TreeError {
    /// The path names nothing in the schema.
    UnknownPath { path: String, reason: String },
    /// The path is in the schema but holds no data (Get).
    NoData { path: String },
    /// The path is malformed for this operation (e.g. missing list keys).
    BadPath { path: String, reason: String },
    /// The value does not fit the schema at `path`.
    BadValue { path: String, reason: String },
    /// A client wrote or deleted `config false` data.
    ReadOnly { path: String },
    /// A leafref, `when` or similar constraint fails after the change.
    Constraint { path: String, reason: String },
}

impl TreeError {
    pub fn code(&self) -> tonic::Code {
        match self {
            TreeError::UnknownPath { .. } | TreeError::NoData { .. } => tonic::Code::NotFound,
            TreeError::BadPath { .. } | TreeError::BadValue { .. } | TreeError::ReadOnly { .. } => {
                tonic::Code::InvalidArgument
            }
            // gNMI spec 3.4.7: a Set that would leave the data invalid.
            TreeError::Constraint { .. } => tonic::Code::FailedPrecondition,
        }
    }

    pub fn to_status(&self) -> tonic::Status {
        tonic::Status::new(self.code(), self.to_string())
    }
}

impl std::fmt::Display for TreeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeError::UnknownPath { path, reason } => {
                write!(f, "path {path} is not in the schema: {reason}")
            }
            TreeError::NoData { path } => write!(f, "no data at path {path}"),
            TreeError::BadPath { path, reason } => write!(f, "invalid path {path}: {reason}"),
            TreeError::BadValue { path, reason } => write!(f, "invalid value at {path}: {reason}"),
            TreeError::ReadOnly { path } => {
                write!(f, "{path} is read-only (config false) data")
            }
            TreeError::Constraint { path, reason } => write!(f, "{path}: {reason}"),
        }
    }
}

impl std::error::Error for TreeError {}

/// Who writes: clients may not touch read-only (`state`) leaves; the device may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Client,
    Device,
}

/// How member names and identities of a written value are spelled: JSON_IETF
/// (RFC 7951: qualified where the module changes, foreign identities
/// prefixed; checked strictly) or plain JSON (RFC 7159, where gNMI sets no
/// naming rule: qualified names are still checked, bare ones are accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    Ietf,
    Plain,
}

#[derive(Debug, Clone, Copy)]
struct Ctx {
    access: Access,
    names: Names,
}

/// Which part of the data a reader wants (GetRequest.DataType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFilter {
    All,
    Config,
    State,
}

/// What a write changed, for ON_CHANGE subscribers.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Updated(Path),
    Deleted(Path),
}

#[derive(Debug, Clone)]
enum Step {
    Child(String),
    /// A list with one value per key, in schema key order; `None` = any.
    List {
        name: String,
        keys: Vec<String>,
        values: Vec<Option<String>>,
    },
    /// A list addressed without keys: the whole collection.
    WholeList(String),
}

/// A write that passed every check; applying it cannot fail.
#[derive(Debug, Clone)]
pub struct PreparedWrite {
    path: Path,
    steps: Vec<Step>,
    internal: Value,
    replace: bool,
    access: Access,
}

/// A delete that passed every check.
#[derive(Debug, Clone)]
pub struct PreparedDelete {
    path: Path,
    root: bool,
}

/// A match of a (possibly wildcarded) path against the data.
#[derive(Debug)]
pub struct Found<'a> {
    pub path: Path,
    pub schema: &'a SchemaNode,
    pub value: &'a Value,
}

#[derive(Debug, Clone)]
pub struct Tree {
    schema: Arc<Schema>,
    root: Value,
}

const KEY_SEP: char = '\u{1f}';

fn entry_key(values: &[String]) -> String {
    values.join(&KEY_SEP.to_string())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Tree {
    pub fn new(schema: Arc<Schema>) -> Self {
        Tree {
            schema,
            root: Value::Object(Map::new()),
        }
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Resolves a path against the schema: element names (module-qualified or
    /// not), list keys, leaves last. The flag is "config false at the end".
    fn resolve<'s>(&'s self, path: &Path) -> Result<(Vec<Step>, &'s SchemaNode, bool), TreeError> {
        let text = || format_path(path);
        let mut node = &self.schema.root;
        let mut steps = Vec::with_capacity(path.elem.len());
        for (i, elem) in path.elem.iter().enumerate() {
            let (module, name) = split_qualified(&elem.name);
            let children = node.children().ok_or_else(|| TreeError::UnknownPath {
                path: text(),
                reason: format!("element {name:?} is below a leaf"),
            })?;
            if name == "*" || name == "..." {
                return Err(TreeError::BadPath {
                    path: text(),
                    reason: "element wildcards are not supported".into(),
                });
            }
            let child = children.get(name).ok_or_else(|| TreeError::UnknownPath {
                path: text(),
                reason: format!("no element {name:?} at position {}", i + 1),
            })?;
            if let Some(m) = module {
                if m != child.module {
                    return Err(TreeError::UnknownPath {
                        path: text(),
                        reason: format!(
                            "element {name:?} is defined in module {}, not {m}",
                            child.module
                        ),
                    });
                }
            }
            match &child.kind {
                NodeKind::List { keys, .. } => {
                    for k in elem.key.keys() {
                        if !keys.contains(k) {
                            return Err(TreeError::UnknownPath {
                                path: text(),
                                reason: format!("list {name:?} has no key {k:?} (keys: {keys:?})"),
                            });
                        }
                    }
                    if elem.key.is_empty() {
                        steps.push(Step::WholeList(name.to_string()));
                    } else {
                        let values = keys
                            .iter()
                            .map(|k| {
                                elem.key
                                    .get(k)
                                    .filter(|v| v.as_str() != "*")
                                    .map(|v| canonical_key(child, k, v))
                            })
                            .collect();
                        steps.push(Step::List {
                            name: name.to_string(),
                            keys: keys.clone(),
                            values,
                        });
                    }
                }
                _ => {
                    if !elem.key.is_empty() {
                        return Err(TreeError::UnknownPath {
                            path: text(),
                            reason: format!("{name:?} is not a list but keys were given"),
                        });
                    }
                    steps.push(Step::Child(name.to_string()));
                }
            }
            node = child;
        }
        Ok((steps, node, !node.config))
    }

    /// The schema node a path names (keys may be absent or wildcards).
    pub fn schema_at(&self, path: &Path) -> Result<&SchemaNode, TreeError> {
        self.resolve(path).map(|(_, n, _)| n)
    }

    /// Every data node matching the path; list steps without (all) keys
    /// expand to each entry. An empty result means "no data".
    pub fn find(&self, path: &Path) -> Result<Vec<Found<'_>>, TreeError> {
        let (steps, _, _) = self.resolve(path)?;
        let mut out = Vec::new();
        let origin = Path {
            origin: path.origin.clone(),
            target: path.target.clone(),
            ..Default::default()
        };
        walk_find(&self.schema.root, &self.root, &steps, origin, &mut out);
        Ok(out)
    }

    /// Applies a client's (or the device's own) update or replace at `path`.
    pub fn write(
        &mut self,
        path: &Path,
        value: &Value,
        replace: bool,
        access: Access,
    ) -> Result<Change, TreeError> {
        let prepared = self.prepare_write(path, value, replace, access)?;
        Ok(self.apply_write(prepared))
    }

    /// Checks a write against the schema without touching the data: every way
    /// a write can fail is found here, so a transaction can check all of its
    /// operations first and then apply them in place (no copy of the tree).
    pub fn prepare_write(
        &self,
        path: &Path,
        value: &Value,
        replace: bool,
        access: Access,
    ) -> Result<PreparedWrite, TreeError> {
        self.prepare_write_with(path, value, replace, access, Names::Ietf)
    }

    /// `prepare_write` for a value spelled as `names` says.
    pub fn prepare_write_with(
        &self,
        path: &Path,
        value: &Value,
        replace: bool,
        access: Access,
        names: Names,
    ) -> Result<PreparedWrite, TreeError> {
        let (steps, schema_node, in_state) = self.resolve(path)?;
        let text = format_path(path);
        if steps.is_empty() && !value.is_object() {
            return Err(TreeError::BadValue {
                path: text,
                reason: "the root takes a JSON object".into(),
            });
        }
        // The entry keys named in the path are implied members of the payload.
        let path_keys: Vec<(String, String)> = match steps.last() {
            Some(Step::List { keys, values, .. }) => {
                if values.iter().any(Option::is_none) {
                    return Err(TreeError::BadPath {
                        path: text,
                        reason: "update and replace need every list key (spec 3.4.5)".into(),
                    });
                }
                keys.iter()
                    .cloned()
                    .zip(values.iter().flatten().cloned())
                    .collect()
            }
            _ => Vec::new(),
        };
        for step in &steps[..steps.len().saturating_sub(1)] {
            let partial = match step {
                Step::List { values, .. } => values.iter().any(Option::is_none),
                Step::WholeList(_) => true,
                Step::Child(_) => false,
            };
            if partial {
                return Err(TreeError::BadPath {
                    path: text,
                    reason: "update and replace need every list key (spec 3.4.5)".into(),
                });
            }
        }
        let is_entry = matches!(steps.last(), Some(Step::List { .. }));
        let _ = in_state;
        let ctx = Ctx { access, names };
        let internal = check_value(schema_node, value, &text, ctx, is_entry, &path_keys)?;
        Ok(PreparedWrite {
            path: path.clone(),
            steps,
            internal,
            replace,
            access,
        })
    }

    /// Applies a prepared write; it cannot fail.
    // A `PreparedWrite` only comes from `prepare_write`, which resolved every
    // step against this tree's schema: the expects below restate that, and a
    // broken invariant must stop the simulator rather than write elsewhere.
    #[allow(clippy::expect_used)]
    pub fn apply_write(&mut self, prepared: PreparedWrite) -> Change {
        let PreparedWrite {
            path,
            steps,
            internal,
            replace,
            access,
        } = prepared;
        // A client's replace is of configuration: the device's own state
        // under the replaced node (counters, oper-status, …) stays.
        let keep_state = replace && access == Access::Client;
        if steps.is_empty() {
            let old = if keep_state {
                self.root.clone()
            } else {
                Value::Null
            };
            place(&mut self.root, internal, replace);
            if keep_state {
                carry(&self.schema.root, old, &mut self.root, false);
            }
            return Change::Updated(path);
        }
        // Walk down, creating containers and entries as needed.
        let mut cur = &mut self.root;
        let mut schema_cur = &self.schema.root;
        let last = steps.len().saturating_sub(1);
        for (i, step) in steps.iter().enumerate() {
            let children = schema_cur.children().expect("resolved path");
            let map = cur.as_object_mut().expect("tree nodes are objects");
            match step {
                Step::Child(name) => {
                    schema_cur = &children[name];
                    if i == last {
                        let slot = map.entry(name.clone()).or_insert(Value::Null);
                        let old = if keep_state {
                            slot.clone()
                        } else {
                            Value::Null
                        };
                        place(slot, internal, replace);
                        if keep_state {
                            carry(schema_cur, old, slot, false);
                        }
                        break;
                    }
                    cur = map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                Step::WholeList(name) => {
                    let slot = map.entry(name.clone()).or_insert(Value::Null);
                    let old = if keep_state {
                        slot.clone()
                    } else {
                        Value::Null
                    };
                    place(slot, internal, replace);
                    if keep_state {
                        carry(&children[name], old, slot, false);
                    }
                    break;
                }
                Step::List { name, keys, values } => {
                    schema_cur = &children[name];
                    let values: Vec<String> = values.iter().flatten().cloned().collect();
                    let list = map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                    let entries = list.as_object_mut().expect("lists are objects");
                    let entry = entries
                        .entry(entry_key(&values))
                        .or_insert_with(|| new_entry(schema_cur, keys, &values));
                    if i == last {
                        let old = if keep_state {
                            entry.clone()
                        } else {
                            Value::Null
                        };
                        place(entry, internal, replace);
                        if keep_state {
                            carry(schema_cur, old, entry, true);
                        }
                        // replace must not drop the keys that name the entry
                        if let Some(obj) = entry.as_object_mut() {
                            for (k, v) in keys.iter().zip(&values) {
                                obj.entry(k.clone())
                                    .or_insert_with(|| typed_key(schema_cur.children(), k, v));
                            }
                        }
                        break;
                    }
                    cur = entry;
                }
            }
        }
        Change::Updated(path)
    }

    /// Deletes whatever matches `path` (wildcards allowed); absent data is fine.
    pub fn delete(&mut self, path: &Path, access: Access) -> Result<Vec<Change>, TreeError> {
        let prepared = self.prepare_delete(path, access)?;
        Ok(self.apply_delete(prepared))
    }

    /// Checks a delete against the schema (see `prepare_write`).
    pub fn prepare_delete(&self, path: &Path, access: Access) -> Result<PreparedDelete, TreeError> {
        let (steps, _, in_state) = self.resolve(path)?;
        if in_state && access == Access::Client {
            return Err(TreeError::ReadOnly {
                path: format_path(path),
            });
        }
        Ok(PreparedDelete {
            path: path.clone(),
            root: steps.is_empty(),
        })
    }

    /// Applies a prepared delete; absent data is fine (spec 3.4.6).
    pub fn apply_delete(&mut self, prepared: PreparedDelete) -> Vec<Change> {
        if prepared.root {
            self.root = Value::Object(Map::new());
            return vec![Change::Deleted(prepared.path)];
        }
        let concrete: Vec<Path> = self
            .find(&prepared.path)
            .map(|found| found.into_iter().map(|f| f.path).collect())
            .unwrap_or_default();
        let mut changes = Vec::new();
        for p in concrete {
            if remove_concrete(&self.schema.root, &mut self.root, &p.elem) {
                changes.push(Change::Deleted(p));
            }
        }
        changes
    }

    /// Copies `config` leaves into the sibling `state` container below `path`
    /// (and drops state copies of deleted config), as a device does once it
    /// has applied configuration.
    pub fn mirror_config(&mut self, path: &Path) {
        let owner: Vec<PathElem> = path
            .elem
            .iter()
            .take_while(|e| strip_module(&e.name) != "config")
            .cloned()
            .collect();
        let Ok((steps, _, _)) = self.resolve(&Path {
            elem: owner,
            ..Default::default()
        }) else {
            return;
        };
        mirror_at(&self.schema.root, &mut self.root, &steps);
    }

    /// RFC 7951 JSON of a found node (lists as arrays, 64-bit numbers as strings
    /// when `ietf`), filtered to config or state.
    pub fn export(found: &Found<'_>, ietf: bool, filter: DataFilter) -> Value {
        export_node(found.schema, found.value, ietf, filter).unwrap_or(Value::Null)
    }

    /// Does the found node hold anything the filter keeps?
    pub fn has_data(found: &Found<'_>, filter: DataFilter) -> bool {
        if found.schema.is_leafy() {
            return kept(found.schema, filter, false);
        }
        if filter == DataFilter::Config && !found.schema.config {
            return false;
        }
        !is_empty(&Self::export(found, false, filter))
    }

    /// Every leaf below a found node, with its full path and type.
    pub fn leaves<'a>(found: &Found<'a>, out: &mut Vec<(Path, &'a Value, &'a LeafType)>) {
        flatten(found.schema, found.value, found.path.clone(), out);
    }

    /// Reads one leaf (device use: telemetry generators).
    pub fn leaf_value(&self, path: &Path) -> Option<&Value> {
        let found = self.find(path).ok()?;
        found.into_iter().next().map(|f| f.value)
    }

    /// Checks the constraints a commit must satisfy on the configuration:
    /// every leafref names an existing entry and every node with a `when`
    /// has it hold. The first violation is returned, naming its path.
    pub fn check_constraints(&self) -> Result<(), TreeError> {
        let mut path = String::new();
        self.constraints_in(&self.schema.root, &self.root, &mut path)
    }

    fn constraints_in(
        &self,
        schema: &SchemaNode,
        value: &Value,
        path: &mut String,
    ) -> Result<(), TreeError> {
        let (Some(children), Some(obj)) = (schema.children(), value.as_object()) else {
            return Ok(());
        };
        for (name, v) in obj {
            let Some(child) = children.get(name) else {
                continue;
            };
            if !child.config {
                continue;
            }
            let len = path.len();
            path.push('/');
            path.push_str(name);
            if let Some(w) = &child.when {
                let actual = w
                    .path
                    .iter()
                    .try_fold(value, |cur, step| cur.get(step))
                    .and_then(scalar_text);
                if !actual
                    .as_deref()
                    .is_some_and(|a| w.any_of.iter().any(|x| x == a))
                {
                    return Err(TreeError::Constraint {
                        path: path.clone(),
                        reason: format!(
                            "{name} is only valid when {} is one of {:?} (YANG when), not {}",
                            w.path.join("/"),
                            w.any_of,
                            actual.as_deref().unwrap_or("unset")
                        ),
                    });
                }
            }
            match &child.kind {
                NodeKind::Leaf(LeafType::Leafref { target, .. }) => {
                    self.check_leafref(target, v, obj, path)?;
                }
                NodeKind::LeafList(LeafType::Leafref { target, .. }) => {
                    for item in v.as_array().into_iter().flatten() {
                        self.check_leafref(target, item, obj, path)?;
                    }
                }
                NodeKind::List { keys, .. } => {
                    for (k, entry) in v.as_object().into_iter().flatten() {
                        let l = path.len();
                        for (key, kv) in keys.iter().zip(k.split(KEY_SEP)) {
                            path.push_str(&format!("[{key}={kv}]"));
                        }
                        self.constraints_in(child, entry, path)?;
                        path.truncate(l);
                    }
                }
                _ => self.constraints_in(child, v, path)?,
            }
            path.truncate(len);
        }
        Ok(())
    }

    fn check_leafref(
        &self,
        target: &str,
        value: &Value,
        siblings: &Map<String, Value>,
        path: &str,
    ) -> Result<(), TreeError> {
        let Some(wanted) = scalar_text(value) else {
            return Ok(());
        };
        let mut target_path =
            crate::gnmi::parse_path(target).map_err(|e| TreeError::Constraint {
                path: path.to_string(),
                reason: format!("schema leafref {target:?} does not parse: {e}"),
            })?;
        for elem in &mut target_path.elem {
            for v in elem.key.values_mut() {
                if let Some(sibling) = v.strip_prefix("current()/../") {
                    *v = siblings
                        .get(sibling)
                        .and_then(scalar_text)
                        .unwrap_or_else(|| "\u{0}".to_string());
                }
            }
        }
        let exists = self
            .find(&target_path)
            .map(|found| {
                found
                    .iter()
                    .any(|f| scalar_text(f.value).as_deref() == Some(wanted.as_str()))
            })
            .unwrap_or(false);
        if exists {
            Ok(())
        } else {
            Err(TreeError::Constraint {
                path: path.to_string(),
                reason: format!(
                    "leafref: {wanted:?} does not name an existing {}",
                    format_path(&target_path)
                ),
            })
        }
    }

    /// Sets one leaf from the device side; returns whether it changed.
    pub fn set_leaf(&mut self, path: &Path, value: Value) -> Result<bool, TreeError> {
        if self.leaf_value(path) == Some(&value) {
            return Ok(false);
        }
        self.write(path, &value, true, Access::Device)?;
        Ok(true)
    }
}

/// A key value from a path, typed as its key leaf (paths carry keys as text).
fn typed_key(
    children: Option<&std::collections::BTreeMap<String, SchemaNode>>,
    key: &str,
    text: &str,
) -> Value {
    let raw = Value::String(text.to_string());
    match children.and_then(|c| c.get(key)) {
        Some(n) => match &n.kind {
            NodeKind::Leaf(ty) => ty.normalize(&raw, &n.module).unwrap_or(raw),
            _ => raw,
        },
        _ => raw,
    }
}

fn new_entry(list_schema: &SchemaNode, keys: &[String], values: &[String]) -> Value {
    let mut m = Map::new();
    for (k, v) in keys.iter().zip(values) {
        m.insert(k.clone(), typed_key(list_schema.children(), k, v));
    }
    Value::Object(m)
}

fn place(slot: &mut Value, value: Value, replace: bool) {
    if replace || !slot.is_object() || !value.is_object() {
        *slot = value;
    } else {
        merge(slot, value);
    }
}

/// Puts the `config false` data of `old` back into `new` wherever the node
/// holding it survived a replace. `entry`: `old`/`new` are one entry of the
/// list `schema` (else a list's value is its map of entries).
fn carry(schema: &SchemaNode, old: Value, new: &mut Value, entry: bool) {
    let (Value::Object(old), Some(new)) = (old, new.as_object_mut()) else {
        return;
    };
    match &schema.kind {
        NodeKind::List {
            entry: children, ..
        } if entry => carry_object(children, old, new),
        NodeKind::Container(children) => carry_object(children, old, new),
        NodeKind::List { .. } => {
            for (k, o) in old {
                if let Some(n) = new.get_mut(&k) {
                    carry(schema, o, n, true);
                }
            }
        }
        NodeKind::Leaf(_) | NodeKind::LeafList(_) => {}
    }
}

fn carry_object(
    children: &std::collections::BTreeMap<String, SchemaNode>,
    old: Map<String, Value>,
    new: &mut Map<String, Value>,
) {
    for (k, o) in old {
        let Some(child) = children.get(&k) else {
            continue;
        };
        if !child.config {
            new.entry(k).or_insert(o);
        } else if !child.is_leafy() {
            if let Some(n) = new.get_mut(&k) {
                carry(child, o, n, false);
            }
        }
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Validates an external (RFC 7951) value against `node` and converts it to
/// the internal form.
/// Plain JSON may name a foreign identity bare: qualify it before the
/// (RFC 7951) check.
fn spelled(ty: &LeafType, value: &Value, names: Names) -> Value {
    if let (Names::Plain, LeafType::Identity(ids), Some(s)) = (names, ty.base(), value.as_str()) {
        if !s.contains(':') {
            if let Some(id) = ids.iter().find(|i| i.name == s) {
                return Value::String(id.qualified());
            }
        }
    }
    value.clone()
}

fn check_value(
    node: &SchemaNode,
    value: &Value,
    path: &str,
    ctx: Ctx,
    is_entry: bool,
    path_keys: &[(String, String)],
) -> Result<Value, TreeError> {
    let bad = |reason: String| TreeError::BadValue {
        path: path.to_string(),
        reason,
    };
    if !node.config && ctx.access == Access::Client {
        return Err(TreeError::ReadOnly {
            path: path.to_string(),
        });
    }
    match &node.kind {
        NodeKind::Leaf(ty) => ty
            .normalize(&spelled(ty, value, ctx.names), &node.module)
            .map_err(bad),
        NodeKind::LeafList(ty) => {
            let items = value
                .as_array()
                .ok_or_else(|| bad(format!("expected a leaf-list array, got {value}")))?;
            items
                .iter()
                .map(|v| {
                    ty.normalize(&spelled(ty, v, ctx.names), &node.module)
                        .map_err(&bad)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        NodeKind::Container(children) => check_object(node, children, value, path, ctx, &[]),
        NodeKind::List { keys, entry } => {
            if is_entry {
                return check_object(node, entry, value, path, ctx, path_keys);
            }
            // The whole list: an array of entries, each carrying its keys.
            let items = value
                .as_array()
                .ok_or_else(|| bad(format!("a list takes an array of entries, got {value}")))?;
            let mut out = Map::new();
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                let obj = check_object(node, entry, item, &item_path, ctx, &[])?;
                let mut values = Vec::new();
                for k in keys {
                    let v =
                        obj.get(k)
                            .and_then(scalar_text)
                            .ok_or_else(|| TreeError::BadValue {
                                path: item_path.clone(),
                                reason: format!("list entry lacks key {k:?}"),
                            })?;
                    values.push(v);
                }
                out.insert(entry_key(&values), obj);
            }
            Ok(Value::Object(out))
        }
    }
}

/// Resolves an RFC 7951 member name below `parent`: a qualified name must
/// carry the child's module; an unqualified one is only valid where the
/// module does not change (RFC 7951 §4), so top-level members and augments
/// (`openconfig-vlan:vlan`) must be qualified, as libyang-based devices insist.
fn member<'s>(
    parent: &SchemaNode,
    children: &'s std::collections::BTreeMap<String, SchemaNode>,
    member: &str,
    path: &str,
    names: Names,
) -> Result<(&'s str, &'s SchemaNode), TreeError> {
    let (module, name) = split_qualified(member);
    let child_path = format!("{path}/{name}");
    let (key, child) = children
        .get_key_value(name)
        .ok_or_else(|| TreeError::BadValue {
            path: child_path.clone(),
            reason: format!("unknown member {member:?}"),
        })?;
    match module {
        Some(m) if m != child.module => Err(TreeError::BadValue {
            path: child_path,
            reason: format!(
                "member {member:?}: {name} is defined in module {}, not {m}",
                child.module
            ),
        }),
        None if names == Names::Ietf && child.module != parent.module => Err(TreeError::BadValue {
            path: child_path,
            reason: format!(
                "member {member:?} must be qualified as \"{}:{name}\" (its module differs from its parent's, RFC 7951 §4)",
                child.module
            ),
        }),
        _ => Ok((key.as_str(), child)),
    }
}

fn check_object(
    parent: &SchemaNode,
    children: &std::collections::BTreeMap<String, SchemaNode>,
    value: &Value,
    path: &str,
    ctx: Ctx,
    path_keys: &[(String, String)],
) -> Result<Value, TreeError> {
    let obj = value.as_object().ok_or_else(|| TreeError::BadValue {
        path: path.to_string(),
        reason: format!("expected a JSON object, got {value}"),
    })?;
    let mut out = Map::new();
    for (m, v) in obj {
        let (name, child) = member(parent, children, m, path, ctx.names)?;
        let child_path = format!("{path}/{name}");
        if out.contains_key(name) {
            return Err(TreeError::BadValue {
                path: child_path,
                reason: format!("member {name:?} is given twice"),
            });
        }
        let checked = check_value(child, v, &child_path, ctx, false, &[])?;
        out.insert(name.to_string(), checked);
    }
    for (k, v) in path_keys {
        match out.get(k) {
            Some(existing) if scalar_text(existing).as_deref() != Some(v.as_str()) => {
                return Err(TreeError::BadValue {
                    path: format!("{path}/{k}"),
                    reason: format!("key {k} is {v:?} in the path but {existing} in the value"),
                });
            }
            Some(_) => {}
            None => {
                out.insert(k.clone(), typed_key(Some(children), k, v));
            }
        }
    }
    Ok(Value::Object(out))
}

fn walk_find<'a>(
    schema: &'a SchemaNode,
    value: &'a Value,
    steps: &[Step],
    path: Path,
    out: &mut Vec<Found<'a>>,
) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(Found {
            path,
            schema,
            value,
        });
        return;
    };
    let (Some(children), Some(map)) = (schema.children(), value.as_object()) else {
        return;
    };
    match step {
        Step::Child(name) => {
            if let (Some(child_schema), Some(child)) = (children.get(name), map.get(name)) {
                let mut p = path;
                p.elem.push(PathElem {
                    name: name.clone(),
                    key: Default::default(),
                });
                walk_find(child_schema, child, rest, p, out);
            }
        }
        Step::WholeList(name) | Step::List { name, .. } => {
            let (Some(list_schema), Some(Value::Object(entries))) =
                (children.get(name), map.get(name))
            else {
                return;
            };
            let NodeKind::List { keys, .. } = &list_schema.kind else {
                return;
            };
            let wanted: Option<&Vec<Option<String>>> = match step {
                Step::List { values, .. } => Some(values),
                _ => None,
            };
            // Fully keyed: a direct lookup instead of a scan.
            if let Some(values) = wanted {
                if values.iter().all(Option::is_some) {
                    let vals: Vec<String> = values.iter().flatten().cloned().collect();
                    if let Some(entry) = entries.get(&entry_key(&vals)) {
                        let mut p = path;
                        p.elem.push(keyed_elem(list_schema, name, keys, &vals));
                        walk_find(list_schema, entry, rest, p, out);
                    }
                    return;
                }
            }
            for (k, entry) in entries {
                let vals: Vec<String> = k.split(KEY_SEP).map(str::to_string).collect();
                let matches = wanted.is_none_or(|want| {
                    want.iter()
                        .zip(&vals)
                        .all(|(w, v)| w.as_ref().is_none_or(|w| w == v))
                });
                if matches {
                    let mut p = path.clone();
                    p.elem.push(keyed_elem(list_schema, name, keys, &vals));
                    walk_find(list_schema, entry, rest, p, out);
                }
            }
        }
    }
}

/// A path element for a stored entry. Identity-valued keys are shown bare
/// (`protocol[identifier=ISIS]`), as gNMI paths conventionally write them.
fn keyed_elem(list: &SchemaNode, name: &str, keys: &[String], values: &[String]) -> PathElem {
    PathElem {
        name: name.to_string(),
        key: keys
            .iter()
            .zip(values)
            .map(|(k, v)| {
                let shown = match key_type(list, k) {
                    Some(LeafType::Identity(_)) => split_qualified(v).1.to_string(),
                    _ => v.clone(),
                };
                (k.clone(), shown)
            })
            .collect(),
    }
}

fn key_type<'a>(list: &'a SchemaNode, key: &str) -> Option<&'a LeafType> {
    list.children()?.get(key)?.leaf_type().map(LeafType::base)
}

/// A key value from a path as stored: identities in their RFC 7951 form,
/// whether the path wrote them bare or qualified (paths are lenient here:
/// gNMI has no rule for identity prefixes in keys).
fn canonical_key(list: &SchemaNode, key: &str, text: &str) -> String {
    let module = list
        .children()
        .and_then(|c| c.get(key))
        .map(|n| n.module.as_str())
        .unwrap_or_default();
    match key_type(list, key) {
        Some(LeafType::Identity(ids)) => {
            let (m, name) = split_qualified(text);
            ids.iter()
                .find(|i| i.name == name && m.is_none_or(|m| m == i.module))
                .map(|i| i.ietf(module))
                .unwrap_or_else(|| text.to_string())
        }
        _ => text.to_string(),
    }
}

fn remove_concrete(schema: &SchemaNode, value: &mut Value, elems: &[PathElem]) -> bool {
    let Some((elem, rest)) = elems.split_first() else {
        return false;
    };
    let name = strip_module(&elem.name);
    let (Some(children), Some(map)) = (schema.children(), value.as_object_mut()) else {
        return false;
    };
    let Some(child_schema) = children.get(name) else {
        return false;
    };
    match &child_schema.kind {
        NodeKind::List { keys, .. } if !elem.key.is_empty() => {
            let vals: Option<Vec<String>> = keys
                .iter()
                .map(|k| elem.key.get(k).map(|v| canonical_key(child_schema, k, v)))
                .collect();
            let (Some(vals), Some(Value::Object(entries))) = (vals, map.get_mut(name)) else {
                return false;
            };
            let k = entry_key(&vals);
            let removed = if rest.is_empty() {
                entries.remove(&k).is_some()
            } else {
                entries
                    .get_mut(&k)
                    .is_some_and(|e| remove_concrete(child_schema, e, rest))
            };
            if entries.is_empty() {
                map.remove(name);
            }
            removed
        }
        _ => {
            let removed = if rest.is_empty() {
                map.remove(name).is_some()
            } else {
                map.get_mut(name)
                    .is_some_and(|c| remove_concrete(child_schema, c, rest))
            };
            // A container left with nothing in it is no data at all.
            if map
                .get(name)
                .is_some_and(|c| c.as_object().is_some_and(Map::is_empty))
            {
                map.remove(name);
            }
            removed
        }
    }
}

fn mirror_at(schema: &SchemaNode, value: &mut Value, steps: &[Step]) {
    let Some((step, rest)) = steps.split_first() else {
        mirror_subtree(schema, value);
        return;
    };
    let (Some(children), Some(map)) = (schema.children(), value.as_object_mut()) else {
        return;
    };
    match step {
        Step::Child(name) => {
            if let (Some(s), Some(v)) = (children.get(name), map.get_mut(name)) {
                mirror_at(s, v, rest);
            }
        }
        Step::WholeList(name) | Step::List { name, .. } => {
            let (Some(s), Some(Value::Object(entries))) = (children.get(name), map.get_mut(name))
            else {
                return;
            };
            let want: Option<String> = match step {
                Step::List { values, .. } if values.iter().all(Option::is_some) => Some(entry_key(
                    &values.iter().flatten().cloned().collect::<Vec<_>>(),
                )),
                _ => None,
            };
            for (k, e) in entries.iter_mut() {
                if want.as_ref().is_none_or(|w| w == k) {
                    mirror_at(s, e, rest);
                }
            }
        }
    }
}

fn mirror_subtree(schema: &SchemaNode, value: &mut Value) {
    let (Some(children), Some(map)) = (schema.children(), value.as_object_mut()) else {
        return;
    };
    if let (Some(NodeKind::Container(cfg_s)), Some(NodeKind::Container(st_s))) = (
        children.get("config").map(|n| &n.kind),
        children.get("state").map(|n| &n.kind),
    ) {
        let cfg = map
            .get("config")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let state = map
            .entry("state".to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let (Some(cfg), Some(st)) = (cfg.as_object(), state.as_object_mut()) {
            for name in cfg_s.keys() {
                if !st_s.contains_key(name) {
                    continue;
                }
                match cfg.get(name) {
                    Some(v) => {
                        st.insert(name.clone(), v.clone());
                    }
                    None => {
                        st.remove(name);
                    }
                }
            }
        }
    }
    for (name, child_schema) in children {
        if name == "config" || name == "state" || child_schema.is_leafy() {
            continue;
        }
        let Some(child) = map.get_mut(name) else {
            continue;
        };
        if let NodeKind::List { .. } = child_schema.kind {
            if let Some(entries) = child.as_object_mut() {
                for e in entries.values_mut() {
                    mirror_subtree(child_schema, e);
                }
            }
        } else {
            mirror_subtree(child_schema, child);
        }
    }
}

fn export_node(
    schema: &SchemaNode,
    value: &Value,
    ietf: bool,
    filter: DataFilter,
) -> Option<Value> {
    match &schema.kind {
        NodeKind::Leaf(ty) => Some(if ietf {
            ty.to_ietf(value)
        } else {
            value.clone()
        }),
        NodeKind::LeafList(ty) => Some(match value {
            Value::Array(items) if ietf => {
                Value::Array(items.iter().map(|v| ty.to_ietf(v)).collect())
            }
            other => other.clone(),
        }),
        NodeKind::Container(children) => export_object(schema, children, value, ietf, filter, &[]),
        // A found list node is always one entry (find expands collections).
        NodeKind::List { entry, keys } => export_object(schema, entry, value, ietf, filter, keys),
    }
}

/// Is this node kept by the filter? GetRequest CONFIG is `config true` data;
/// STATE is `config false` data plus the list keys that locate it.
fn kept(node: &SchemaNode, filter: DataFilter, is_key: bool) -> bool {
    match filter {
        DataFilter::All => true,
        DataFilter::Config => node.config,
        DataFilter::State => !node.config || is_key || !node.is_leafy(),
    }
}

fn export_object(
    parent: &SchemaNode,
    children: &std::collections::BTreeMap<String, SchemaNode>,
    value: &Value,
    ietf: bool,
    filter: DataFilter,
    keys: &[String],
) -> Option<Value> {
    let obj = value.as_object()?;
    let mut out = Map::new();
    for (k, v) in obj {
        let Some(s) = children.get(k) else { continue };
        if !kept(s, filter, keys.contains(k)) {
            continue;
        }
        let exported = match &s.kind {
            NodeKind::List { entry, keys } => v.as_object().map(|entries| {
                Value::Array(
                    entries
                        .values()
                        .filter_map(|e| export_object(s, entry, e, ietf, filter, keys))
                        .filter(|e| filter != DataFilter::State || !is_only_keys(e, keys))
                        .collect(),
                )
            }),
            _ => export_node(s, v, ietf, filter),
        };
        let Some(e) = exported else { continue };
        // A filtered-out subtree (state-only under CONFIG, config-only under
        // STATE) is no data at all, not an empty container.
        if !s.is_leafy() && is_empty(&e) {
            continue;
        }
        let name = if ietf && s.module != parent.module {
            format!("{}:{k}", s.module)
        } else {
            k.clone()
        };
        out.insert(name, e);
    }
    Some(Value::Object(out))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// A STATE export of a list entry that has no state: only its keys are left.
fn is_only_keys(entry: &Value, keys: &[String]) -> bool {
    entry
        .as_object()
        .is_some_and(|m| !keys.is_empty() && m.keys().all(|k| keys.contains(k)))
}

fn flatten<'a>(
    schema: &'a SchemaNode,
    value: &'a Value,
    path: Path,
    out: &mut Vec<(Path, &'a Value, &'a LeafType)>,
) {
    match &schema.kind {
        NodeKind::Leaf(ty) | NodeKind::LeafList(ty) => out.push((path, value, ty)),
        NodeKind::Container(children) => flatten_object(children, value, path, out),
        // As in export: a list node reached here is one entry.
        NodeKind::List { entry, .. } => flatten_object(entry, value, path, out),
    }
}

fn flatten_object<'a>(
    children: &'a std::collections::BTreeMap<String, SchemaNode>,
    value: &'a Value,
    path: Path,
    out: &mut Vec<(Path, &'a Value, &'a LeafType)>,
) {
    let Some(obj) = value.as_object() else { return };
    for (k, v) in obj {
        let Some(s) = children.get(k) else { continue };
        if let NodeKind::List { keys, .. } = &s.kind {
            for (entry_key, e) in v.as_object().into_iter().flatten() {
                let vals: Vec<String> = entry_key.split(KEY_SEP).map(str::to_string).collect();
                let mut p = path.clone();
                p.elem.push(keyed_elem(s, k, keys, &vals));
                flatten(s, e, p, out);
            }
            continue;
        }
        let mut p = path.clone();
        p.elem.push(PathElem {
            name: k.clone(),
            key: Default::default(),
        });
        flatten(s, v, p, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnmi::parse_path;
    use crate::gnmi::schema::*;
    use serde_json::json;

    fn schema() -> Arc<Schema> {
        let counters = container(vec![
            ("in-octets", leaf(uint(64))),
            ("out-octets", leaf(uint(64))),
        ]);
        let iface = list(
            &["name"],
            vec![
                ("name", leaf(string())),
                (
                    "config",
                    container(vec![
                        ("name", leaf(string())),
                        ("mtu", leaf(uint_range(16, 68, 9216))),
                    ]),
                ),
                (
                    "state",
                    container(vec![
                        ("name", leaf(string())),
                        ("mtu", leaf(uint(16))),
                        ("counters", counters),
                    ]),
                ),
            ],
        );
        Arc::new(Schema::new(vec![(
            "openconfig-interfaces",
            "interfaces",
            container(vec![("interface", iface)]),
        )]))
    }

    fn p(s: &str) -> Path {
        parse_path(s).unwrap()
    }

    #[test]
    fn write_read_mirror_and_export() {
        let mut t = Tree::new(schema());
        t.write(
            &p("/interfaces/interface[name=et1]/config"),
            &json!({"mtu": 9000}),
            false,
            Access::Client,
        )
        .unwrap();
        t.mirror_config(&p("/interfaces/interface[name=et1]/config"));
        let found = t.find(&p("/interfaces/interface[name=et1]")).unwrap();
        assert_eq!(found.len(), 1);
        let v = Tree::export(&found[0], true, DataFilter::All);
        assert_eq!(v["config"]["mtu"], json!(9000));
        assert_eq!(v["state"]["mtu"], json!(9000));
        assert_eq!(v["name"], json!("et1"));
        // whole list exports as an RFC 7951 array
        let found = t.find(&p("/interfaces")).unwrap();
        let v = Tree::export(&found[0], true, DataFilter::Config);
        assert_eq!(v["interface"][0]["config"]["mtu"], json!(9000));
        assert!(v["interface"][0].get("state").is_none());
    }

    #[test]
    fn errors_map_to_gnmi_codes() {
        let mut t = Tree::new(schema());
        let e = t
            .write(&p("/interfaces/bogus"), &json!(1), false, Access::Client)
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound);
        assert!(e.to_string().contains("/interfaces/bogus"));
        let e = t
            .write(
                &p("/interfaces/interface[name=et1]/config/mtu"),
                &json!(20),
                false,
                Access::Client,
            )
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = t
            .write(
                &p("/interfaces/interface[name=et1]/state/mtu"),
                &json!(1500),
                false,
                Access::Client,
            )
            .unwrap_err();
        assert!(e.to_string().contains("read-only"), "{e}");
        let e = t
            .write(
                &p("/interfaces/interface/config"),
                &json!({}),
                false,
                Access::Client,
            )
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        let e = t
            .write(
                &p("/interfaces/interface[name=et1]"),
                &json!({"name": "et2"}),
                false,
                Access::Client,
            )
            .unwrap_err();
        assert!(e.to_string().contains("key name"), "{e}");
        let e = t
            .write(
                &p("/interfaces"),
                &json!({"interface": [{"config": {"mtu": 1500}}]}),
                false,
                Access::Client,
            )
            .unwrap_err();
        assert!(e.to_string().contains("lacks key"), "{e}");
    }

    #[test]
    fn wildcards_find_and_delete() {
        let mut t = Tree::new(schema());
        for name in ["a", "b", "c"] {
            t.write(
                &p(&format!("/interfaces/interface[name={name}]/config/mtu")),
                &json!(1500),
                false,
                Access::Client,
            )
            .unwrap();
        }
        assert_eq!(
            t.find(&p("/interfaces/interface/config/mtu"))
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            t.find(&p("/interfaces/interface[name=*]/config"))
                .unwrap()
                .len(),
            3
        );
        let changes = t
            .delete(&p("/interfaces/interface[name=b]"), Access::Client)
            .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(t.find(&p("/interfaces/interface")).unwrap().len(), 2);
        // deleting what is not there is silently accepted
        assert!(t
            .delete(&p("/interfaces/interface[name=zz]"), Access::Client)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn update_merges_replace_overwrites() {
        let mut t = Tree::new(schema());
        let path = p("/interfaces/interface[name=a]/config");
        t.write(&path, &json!({"mtu": 1500}), false, Access::Client)
            .unwrap();
        t.write(&path, &json!({"name": "a"}), false, Access::Client)
            .unwrap();
        let v = t
            .leaf_value(&p("/interfaces/interface[name=a]/config/mtu"))
            .cloned();
        assert_eq!(v, Some(json!(1500)));
        t.write(&path, &json!({"name": "a"}), true, Access::Client)
            .unwrap();
        assert!(t
            .leaf_value(&p("/interfaces/interface[name=a]/config/mtu"))
            .is_none());
    }

    #[test]
    fn flatten_gives_leaf_paths() {
        let mut t = Tree::new(schema());
        t.write(
            &p("/interfaces/interface[name=a]/state/counters"),
            &json!({"in-octets": 5, "out-octets": "7"}),
            false,
            Access::Device,
        )
        .unwrap();
        let found = t.find(&p("/interfaces/interface")).unwrap();
        let mut leaves = Vec::new();
        for f in &found {
            Tree::leaves(f, &mut leaves);
        }
        let texts: Vec<String> = leaves.iter().map(|(p, _, _)| format_path(p)).collect();
        assert!(
            texts.contains(&"/interfaces/interface[name=a]/state/counters/out-octets".to_string())
        );
        assert!(texts.contains(&"/interfaces/interface[name=a]/name".to_string()));
    }

    fn modular() -> Arc<Schema> {
        let proto = || identityref("types", &["ISIS", "BGP"]);
        let entry = list(
            &["identifier"],
            vec![
                ("identifier", leaf(proto())),
                ("config", container(vec![("identifier", leaf(proto()))])),
                (
                    "ext",
                    augment("aug", container(vec![("x", leaf(uint(64)))])),
                ),
                ("peer", leaf(leafref("/top/item/identifier", proto()))),
                (
                    "only-bgp",
                    when(
                        "config/identifier",
                        &["types:BGP"],
                        container(vec![("y", leaf(string()))]),
                    ),
                ),
            ],
        );
        Arc::new(Schema::new(vec![(
            "main",
            "top",
            container(vec![("item", entry)]),
        )]))
    }

    #[test]
    fn members_are_qualified_where_the_module_changes() {
        let mut t = Tree::new(modular());
        let item = p("/top/item[identifier=ISIS]");
        let e = t
            .write(&item, &json!({"ext": {"x": 1}}), false, Access::Client)
            .unwrap_err();
        assert!(e.to_string().contains("\"aug:ext\""), "{e}");
        let e = t
            .write(&item, &json!({"main:ext": {"x": 1}}), false, Access::Client)
            .unwrap_err();
        assert!(e.to_string().contains("main:ext"), "{e}");
        t.write(
            &item,
            &json!({"aug:ext": {"x": "5"}, "main:config": {"identifier": "types:ISIS"}}),
            false,
            Access::Client,
        )
        .unwrap();
        // the root: every member qualified
        assert!(t
            .write(&p("/"), &json!({"top": {}}), false, Access::Client)
            .is_err());
        let root = t.find(&p("/")).unwrap();
        let v = Tree::export(&root[0], true, DataFilter::All);
        let e = &v["main:top"]["item"][0];
        assert_eq!(e["aug:ext"]["x"], json!("5"), "{v}");
        assert_eq!(e["identifier"], json!("types:ISIS"), "{v}");
        // identity keys match bare or qualified; paths show them bare
        let found = t.find(&p("/top/item[identifier=types:ISIS]/ext")).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            format_path(&found[0].path),
            "/top/item[identifier=ISIS]/ext"
        );
        // a qualified path element must name the right module
        assert!(t.find(&p("/top/item/aug:ext")).is_ok());
        assert_eq!(
            t.find(&p("/top/item/main:ext")).unwrap_err().code(),
            tonic::Code::NotFound
        );
    }

    #[test]
    fn constraints_hold_after_a_change() {
        let mut t = Tree::new(modular());
        let item = p("/top/item[identifier=ISIS]");
        t.write(&item, &json!({"peer": "types:BGP"}), false, Access::Client)
            .unwrap();
        let e = t.check_constraints().unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition);
        assert!(e.to_string().contains("types:BGP"), "{e}");
        t.write(
            &p("/top/item[identifier=BGP]/config"),
            &json!({"identifier": "types:BGP"}),
            false,
            Access::Client,
        )
        .unwrap();
        t.check_constraints().unwrap();
        t.write(
            &item,
            &json!({"only-bgp": {"y": "z"}}),
            false,
            Access::Client,
        )
        .unwrap();
        let e = t.check_constraints().unwrap_err();
        assert!(e.to_string().contains("only-bgp"), "{e}");
    }

    #[test]
    fn a_client_replace_keeps_device_state_and_the_root_takes_writes() {
        let mut t = Tree::new(schema());
        let e = p("/interfaces/interface[name=a]");
        t.write(
            &e,
            &json!({"state": {"counters": {"in-octets": 9}}}),
            false,
            Access::Device,
        )
        .unwrap();
        t.write(&e, &json!({"config": {"mtu": 1500}}), true, Access::Client)
            .unwrap();
        assert_eq!(
            t.leaf_value(&p("/interfaces/interface[name=a]/state/counters/in-octets")),
            Some(&json!(9))
        );
        t.write(
            &p("/"),
            &json!({"openconfig-interfaces:interfaces": {"interface": [{"name": "b", "config": {"name": "b"}}]}}),
            false,
            Access::Client,
        )
        .unwrap();
        assert!(t
            .leaf_value(&p("/interfaces/interface[name=b]/config/name"))
            .is_some());
        assert!(t
            .leaf_value(&p("/interfaces/interface[name=a]/config/mtu"))
            .is_some());
    }
}
