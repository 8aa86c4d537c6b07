//! Validation of JSON_IETF (RFC 7951) documents against the published
//! OpenConfig models with `yanglint` (libyang 2, Debian `libyang2-tools`).
//!
//! The models are read from `$STRATA_YANG_DIR`, else `../shared/openconfig-yang`
//! beside the workspace; `yanglint` from `$YANGLINT`, else `PATH`. When either
//! is missing, [`Yang::find`] prints a banner naming what is missing and how to
//! get it, and returns `None` (the caller skips), unless `$STRATA_REQUIRE_YANG`
//! is set (CI), where it fails.
//!
//! Documents are validated in batches: one interactive `yanglint` session loads
//! the modules once and runs one `data` command per document, so every error
//! is attributed to the document it came from (yanglint names the file in the
//! line that closes each failed document). A deliberately invalid sentinel
//! document ends every batch: if its error does not come back, yanglint
//! stopped early and the batch is reported as broken, never as valid.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value};
use strata::proto::gnmi::{Path, PathElem};

/// Module files (under `release/models/`, or `third_party/ietf/` for
/// `iana-if-type`) every validation loads: the models Strata's intents and
/// telemetry map to (docs/openconfig.md).
pub const MODULES: &[&str] = &[
    "interfaces/openconfig-interfaces.yang",
    "interfaces/openconfig-if-ethernet.yang",
    "vlan/openconfig-vlan.yang",
    "network-instance/openconfig-network-instance.yang",
    "network-instance/openconfig-network-instance-types.yang",
    "network-instance/openconfig-evpn.yang",
    "network-instance/openconfig-evpn-types.yang",
    "policy-forwarding/openconfig-pf-srte.yang",
    "policy/openconfig-policy-types.yang",
    "isis/openconfig-isis.yang",
    "isis/openconfig-isis-lsdb-types.yang",
    "platform/openconfig-platform.yang",
    "platform/openconfig-platform-types.yang",
    "platform/openconfig-platform-transceiver.yang",
    "platform/openconfig-platform-port.yang",
    "optical-transport/openconfig-terminal-device.yang",
    "optical-transport/openconfig-transport-types.yang",
    "lldp/openconfig-lldp.yang",
    "macsec/openconfig-macsec.yang",
    "iana-if-type.yang",
];

/// The module of each top-level container a document may start with.
pub const TOP_MODULES: &[(&str, &str)] = &[
    ("interfaces", "openconfig-interfaces"),
    ("network-instances", "openconfig-network-instance"),
    ("components", "openconfig-platform"),
    ("terminal-device", "openconfig-terminal-device"),
    ("lldp", "openconfig-lldp"),
    ("macsec", "openconfig-macsec"),
];

/// Nodes that another module augments in (parent element, child element) →
/// the augmenting module: where a path crosses into another namespace, the
/// nested document names the child module-qualified (RFC 7951 §4).
pub const AUGMENTS: &[(&str, &str, &str)] = &[
    ("subinterface", "vlan", "openconfig-vlan"),
    ("interface", "ethernet", "openconfig-if-ethernet"),
    ("interface", "routed-vlan", "openconfig-vlan"),
    ("ethernet", "switched-vlan", "openconfig-vlan"),
    ("rule", "srte", "openconfig-pf-srte"),
    ("action", "segment-lists", "openconfig-pf-srte"),
    ("component", "optical-channel", "openconfig-terminal-device"),
    (
        "component",
        "transceiver",
        "openconfig-platform-transceiver",
    ),
    ("component", "port", "openconfig-platform-port"),
];

/// What a document is, i.e. which `yanglint -t` type checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A complete configuration datastore (`-t config`): no state, every
    /// leafref resolves, mandatory nodes, `must`/`when`.
    Config,
    /// A complete datastore with state (`-t data`).
    Data,
    /// Configuration that is part of a datastore, e.g. one Set payload nested
    /// from the root (`-t edit`): names, namespaces, types, no state nodes;
    /// references to data outside it are not checked.
    ConfigFragment,
    /// Config and state that is part of a datastore, e.g. a Get of state
    /// only (`-t get`): names, namespaces, types; no references.
    DataFragment,
}

impl Kind {
    /// The `yanglint -t` type.
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Config => "config",
            Kind::Data => "data",
            Kind::ConfigFragment => "edit",
            Kind::DataFragment => "get",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Config => "config",
            Kind::Data => "data",
            Kind::ConfigFragment => "config fragment",
            Kind::DataFragment => "data fragment",
        })
    }
}

/// One document to validate.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Where it came from, e.g. `pe1 Set #3 replace[0] /network-instances/…`.
    pub name: String,
    pub kind: Kind,
    pub json: Value,
}

/// A document yanglint rejected.
#[derive(Debug, Clone)]
pub struct Invalid {
    pub name: String,
    pub kind: Kind,
    pub errors: Vec<String>,
}

/// The models, yanglint, and what the loaded models say about lists and leaves.
pub struct Yang {
    pub dir: PathBuf,
    pub yanglint: PathBuf,
    search: Vec<PathBuf>,
    modules: Vec<PathBuf>,
    schema: SchemaIndex,
}

fn banner(what: &str, how: &str) {
    let line = "!".repeat(78);
    // straight to the process's stderr: libtest captures eprintln! of passing tests
    let _ = writeln!(
        std::io::stderr(),
        "\n{line}\n!! OPENCONFIG CONFORMANCE SKIPPED: {what}\n!! {how}\n{line}\n"
    );
    // CI (.ci/run) installs yanglint and has the models: skipping there would hide findings
    if std::env::var_os("STRATA_REQUIRE_YANG").is_some() {
        panic!("STRATA_REQUIRE_YANG is set but the conformance check cannot run: {what}");
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn model_dir() -> PathBuf {
    match std::env::var_os("STRATA_YANG_DIR") {
        Some(d) => PathBuf::from(d),
        None => FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../shared/openconfig-yang"),
    }
}

impl Yang {
    /// The models and yanglint, or `None` after a loud banner.
    pub fn find() -> Option<Yang> {
        let dir = model_dir();
        let models = dir.join("release/models");
        if !models.is_dir() {
            banner(
                &format!("no OpenConfig models at {}", dir.display()),
                "set STRATA_YANG_DIR to a checkout of openconfig/public (v5.9.0) with release/models and third_party/ietf",
            );
            return None;
        }
        let yanglint = match std::env::var_os("YANGLINT") {
            Some(p) => Some(PathBuf::from(p)),
            None => which("yanglint"),
        };
        let Some(yanglint) = yanglint.filter(|p| p.is_file()) else {
            banner(
                "yanglint not found (PATH, or $YANGLINT)",
                "install it: apt-get install libyang2-tools (yanglint 2.x); .ci/run does this",
            );
            return None;
        };
        let mut search = vec![dir.join("third_party/ietf"), models.clone()];
        let mut subdirs: Vec<PathBuf> = std::fs::read_dir(&models)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default();
        subdirs.sort();
        search.extend(subdirs);
        let mut modules = Vec::new();
        for m in MODULES {
            let p = if m.starts_with("iana-") || m.starts_with("ietf-") {
                dir.join("third_party/ietf").join(m)
            } else {
                models.join(m)
            };
            if !p.is_file() {
                banner(
                    &format!("module {} missing from {}", m, dir.display()),
                    "the model directory is incomplete: use openconfig/public v5.9.0 unchanged",
                );
                return None;
            }
            modules.push(p);
        }
        let mut yang = Yang {
            dir,
            yanglint,
            search,
            modules,
            schema: SchemaIndex::default(),
        };
        yang.schema = match yang.schema_index() {
            Ok(s) => s,
            Err(e) => panic!("yanglint cannot load the OpenConfig modules: {e}"),
        };
        Some(yang)
    }

    /// Names of the loaded modules, for reports.
    pub fn module_names(&self) -> Vec<String> {
        self.modules
            .iter()
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect()
    }

    fn search_args(&self) -> Vec<String> {
        self.search
            .iter()
            .flat_map(|d| ["-p".to_string(), d.display().to_string()])
            .collect()
    }

    /// Compiled schema of every loaded module (`yanglint -f info`): list keys
    /// and leaf types, to type list keys taken from gNMI paths.
    fn schema_index(&self) -> Result<SchemaIndex, String> {
        let out = Command::new(&self.yanglint)
            .arg("-i")
            .args(self.search_args())
            .args(["-f", "info"])
            .args(&self.modules)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", self.yanglint.display()))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(SchemaIndex::parse(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Validates every document; one entry per invalid one, in input order.
    pub fn validate(&self, docs: &[Doc]) -> Vec<Invalid> {
        let mut invalid = Vec::new();
        for chunk in docs.chunks(400) {
            invalid.extend(self.validate_batch(chunk));
        }
        invalid
    }

    /// The errors of one document (empty when valid).
    pub fn errors(&self, kind: Kind, json: &Value) -> Vec<String> {
        self.validate(&[Doc {
            name: "document".into(),
            kind,
            json: json.clone(),
        }])
        .into_iter()
        .flat_map(|i| i.errors)
        .collect()
    }

    fn validate_batch(&self, docs: &[Doc]) -> Vec<Invalid> {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = |i: usize| dir.path().join(format!("doc-{i:05}.json"));
        let sentinel = docs.len();
        let mut script = String::new();
        script.push_str("clear -i\n");
        script.push_str(&format!(
            "searchpath {}\n",
            self.search
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
        script.push_str(&format!(
            "add -i {}\n",
            self.modules
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
        for (i, d) in docs.iter().enumerate() {
            std::fs::write(file(i), serde_json::to_vec_pretty(&d.json).unwrap()).unwrap();
            script.push_str(&format!(
                "data -t {} {}\n",
                d.kind.flag(),
                file(i).display()
            ));
        }
        // interfaces/interface needs a name: always invalid
        std::fs::write(
            file(sentinel),
            br#"{"openconfig-interfaces:interfaces":{"interface":[{"config":{"mtu":1500}}]}}"#,
        )
        .unwrap();
        script.push_str(&format!("data -t config {}\n", file(sentinel).display()));
        script.push_str("quit\n");
        let mut child = Command::new(&self.yanglint)
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.yanglint.display()));
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(script.as_bytes());
        });
        let out = child.wait_with_output().expect("yanglint runs");
        let _ = feeder.join();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut errors: HashMap<usize, Vec<String>> = HashMap::new();
        let mut pending: Vec<String> = Vec::new();
        for line in stderr.lines() {
            // warnings (schema compilation notes, history) are not findings
            if line.starts_with("libyang[1]")
                || line.starts_with("libyang[2]")
                || line.starts_with("YANGLINT[W]")
                || line.trim().is_empty()
            {
                continue;
            }
            let line = line.trim_start_matches("libyang[0]: ").to_string();
            match doc_index(&line) {
                Some(i) => {
                    let e = errors.entry(i).or_default();
                    e.append(&mut pending);
                    e.push(line);
                }
                None => pending.push(line),
            }
        }
        if !errors.contains_key(&sentinel) {
            panic!(
                "yanglint stopped before the end of a batch of {} documents (exit {:?}); its output:\n{stderr}",
                docs.len(),
                out.status.code()
            );
        }
        if !pending.is_empty() {
            panic!("yanglint printed errors naming no document: {pending:?}");
        }
        let mut invalid: Vec<(usize, Invalid)> = errors
            .into_iter()
            .filter(|(i, _)| *i != sentinel)
            .map(|(i, errs)| {
                let findings: Vec<String> = errs
                    .iter()
                    .filter(|l| !l.starts_with("YANGLINT[E]: Failed to parse input data file"))
                    .cloned()
                    .collect();
                let errors = if findings.is_empty() { errs } else { findings };
                (
                    i,
                    Invalid {
                        name: docs[i].name.clone(),
                        kind: docs[i].kind,
                        errors,
                    },
                )
            })
            .collect();
        invalid.sort_by_key(|(i, _)| *i);
        invalid.into_iter().map(|(_, v)| v).collect()
    }

    /// A gNMI Update (path + JSON_IETF value) as a whole-tree document from
    /// the root: the value nested under the path's elements, list entries
    /// with their key leaves (typed as the models type them), the top element
    /// and augmenting nodes module-qualified. Already-qualified elements and
    /// members are kept; a value at the root is taken as a whole tree.
    pub fn update_document(&self, path: &Path, value: &Value) -> Value {
        if path.elem.is_empty() {
            return qualify_top(value);
        }
        let mut schema_path: Vec<String> = Vec::new();
        let mut names = Vec::new();
        let mut parent = "";
        for (i, e) in path.elem.iter().enumerate() {
            let (prefix, bare) = split_name(&e.name);
            schema_path.push(bare.to_string());
            let member = match prefix {
                Some(_) => e.name.clone(),
                None if i == 0 => top_module(bare)
                    .map(|m| format!("{m}:{bare}"))
                    .unwrap_or_else(|| bare.to_string()),
                None => AUGMENTS
                    .iter()
                    .find(|(p, c, _)| *p == parent && *c == bare)
                    .map(|(_, _, m)| format!("{m}:{bare}"))
                    .unwrap_or_else(|| bare.to_string()),
            };
            names.push((member, schema_path.join("/")));
            parent = bare;
        }
        let mut node = value.clone();
        for (i, e) in path.elem.iter().enumerate().rev() {
            let (member, spath) = &names[i];
            let last = i + 1 == path.elem.len();
            let inner = if last {
                node
            } else {
                let mut m = Map::new();
                m.insert(names[i + 1].0.clone(), node);
                Value::Object(m)
            };
            node = if e.key.is_empty() {
                inner
            } else {
                let mut entry = match inner {
                    Value::Object(m) => m,
                    other => {
                        // a scalar under a list entry: not a shape the models allow
                        let mut m = Map::new();
                        m.insert("value".into(), other);
                        m
                    }
                };
                for (k, v) in &e.key {
                    if !entry.contains_key(k) {
                        entry.insert(k.clone(), self.schema.key_value(spath, k, v));
                    }
                }
                Value::Array(vec![Value::Object(entry)])
            };
            let _ = member;
        }
        let mut root = Map::new();
        root.insert(names[0].0.clone(), node);
        Value::Object(root)
    }

    /// A gNMI path as a whole-tree skeleton (its list entries with their
    /// keys), e.g. to check that a delete addresses configuration the models
    /// have. A trailing leaf is dropped (its container is checked).
    pub fn path_document(&self, path: &Path) -> Value {
        let mut p = path.clone();
        if let Some(last) = p.elem.last() {
            let spath: Vec<&str> = p.elem.iter().map(|e| split_name(&e.name).1).collect();
            if last.key.is_empty() && self.schema.is_leaf(&spath.join("/")) {
                p.elem.pop();
            }
        }
        if p.elem.is_empty() {
            return Value::Object(Map::new());
        }
        self.update_document(&p, &Value::Object(Map::new()))
    }

    /// The keys of the list at a schema path (`a/b/list`, no prefixes).
    pub fn list_keys(&self, schema_path: &str) -> Option<&[String]> {
        self.schema.lists.get(schema_path).map(|k| k.as_slice())
    }

    /// Whether `path` ends at a leaf of the models.
    pub fn is_leaf(&self, path: &Path) -> bool {
        let spath: Vec<&str> = path.elem.iter().map(|e| split_name(&e.name).1).collect();
        self.schema.is_leaf(&spath.join("/"))
    }
}

fn doc_index(line: &str) -> Option<usize> {
    let at = line.find("doc-")?;
    let digits: String = line[at + 4..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    if line[at + 4 + digits.len()..].starts_with(".json") {
        digits.parse().ok()
    } else {
        None
    }
}

fn split_name(name: &str) -> (Option<&str>, &str) {
    match name.split_once(':') {
        Some((m, n)) => (Some(m), n),
        None => (None, name),
    }
}

fn top_module(name: &str) -> Option<&'static str> {
    TOP_MODULES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
}

/// A whole tree with its top-level members module-qualified (members that
/// are already qualified, or unknown, are kept as they are).
pub fn qualify_top(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let k = match (k.contains(':'), top_module(k)) {
                        (false, Some(module)) => format!("{module}:{k}"),
                        _ => k.clone(),
                    };
                    (k, v.clone())
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Merges whole-tree documents (top-level members side by side; the same
/// container twice is merged member by member, lists entry by entry).
pub fn merge(into: &mut Value, other: &Value) {
    match (into, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b.iter().cloned()),
        (slot, v) => *slot = v.clone(),
    }
}

/// How RFC 7951 encodes a leaf's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonKind {
    Number,
    String,
    Bool,
    /// An identity, module-qualified in JSON when its module differs from
    /// the leaf's (always qualifying it is valid too).
    Identityref,
}

/// From `yanglint -f info` (the compiled modules): the keys of every list
/// and the JSON kind of every leaf, by schema path without prefixes.
#[derive(Debug, Default)]
struct SchemaIndex {
    leaves: HashMap<String, JsonKind>,
    lists: HashMap<String, Vec<String>>,
    /// identity name → defining module
    identities: HashMap<String, String>,
}

impl SchemaIndex {
    fn key_value(&self, list: &str, key: &str, text: &str) -> Value {
        match self.leaves.get(&format!("{list}/{key}")) {
            Some(JsonKind::Number) => text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text.into())),
            Some(JsonKind::Identityref) if !text.contains(':') => match self.identities.get(text) {
                Some(module) => Value::String(format!("{module}:{text}")),
                None => Value::String(text.into()),
            },
            Some(JsonKind::Bool) => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(text.into()),
            },
            _ => Value::String(text.into()),
        }
    }

    fn is_leaf(&self, path: &str) -> bool {
        self.leaves.contains_key(path)
    }

    fn parse(text: &str) -> SchemaIndex {
        let tokens = tokenize(text);
        let mut index = SchemaIndex::default();
        let mut pos = 0;
        let mut stack: Vec<Frame> = Vec::new();
        let mut module = String::new();
        while pos < tokens.len() {
            let keyword = tokens[pos].clone();
            pos += 1;
            if keyword == "}" {
                if let Some(frame) = stack.pop() {
                    frame.close(&mut index, &mut stack);
                }
                continue;
            }
            // argument (optional), then ';' or '{'
            let mut arg = None;
            if pos < tokens.len() && tokens[pos] != ";" && tokens[pos] != "{" {
                arg = Some(tokens[pos].clone());
                pos += 1;
            }
            // string concatenation: "a" + "b"
            while pos + 1 < tokens.len() && tokens[pos] == "+" {
                arg = Some(format!("{}{}", arg.unwrap_or_default(), tokens[pos + 1]));
                pos += 2;
            }
            let opens = pos < tokens.len() && tokens[pos] == "{";
            pos += 1;
            let parent_path = stack
                .iter()
                .rev()
                .find_map(|f| f.data_path.clone())
                .unwrap_or_default();
            let in_data = stack.iter().all(|f| f.data);
            match keyword.as_str() {
                "module" => module = arg.clone().unwrap_or_default(),
                "identity" if stack.len() == 1 => {
                    if let Some(name) = &arg {
                        index
                            .identities
                            .entry(name.clone())
                            .or_insert_with(|| module.clone());
                    }
                }
                "key" => {
                    if let Some(f) = stack.last_mut() {
                        f.keys = arg
                            .clone()
                            .unwrap_or_default()
                            .split_whitespace()
                            .map(String::from)
                            .collect();
                    }
                }
                "type" => {
                    if let Some(f) = stack.iter_mut().rev().find(|f| f.leaf) {
                        f.types.push(arg.clone().unwrap_or_default());
                    }
                }
                _ => {}
            }
            if opens {
                let name = arg.clone().unwrap_or_default();
                let name = split_name(&name).1.to_string();
                let join = |p: &str| {
                    if p.is_empty() {
                        name.clone()
                    } else {
                        format!("{p}/{name}")
                    }
                };
                let frame = match keyword.as_str() {
                    "container" | "list" | "leaf" | "leaf-list" if in_data => Frame {
                        data_path: Some(join(&parent_path)),
                        data: true,
                        leaf: keyword == "leaf" || keyword == "leaf-list",
                        list: keyword == "list",
                        ..Default::default()
                    },
                    "module" | "choice" | "case" | "type" if in_data => Frame {
                        data: true,
                        ..Default::default()
                    },
                    _ => Frame::default(),
                };
                stack.push(frame);
            } else if matches!(keyword.as_str(), "leaf" | "leaf-list") && in_data {
                // a leaf with no substatements: unknown type, string
                if let Some(name) = arg {
                    let name = split_name(&name).1;
                    let p = if parent_path.is_empty() {
                        name.to_string()
                    } else {
                        format!("{parent_path}/{name}")
                    };
                    index.leaves.insert(p, JsonKind::String);
                }
            }
        }
        index
    }
}

#[derive(Debug, Default)]
struct Frame {
    data_path: Option<String>,
    /// Inside the data tree (not rpc, notification, grouping, …).
    data: bool,
    leaf: bool,
    list: bool,
    keys: Vec<String>,
    types: Vec<String>,
    /// Names of the leaves directly in this list.
    leaf_children: Vec<String>,
}

/// `joined` as a run of `names` (each used once), if it is one.
fn split_keys(joined: &str, names: &[String]) -> Option<Vec<String>> {
    if joined.is_empty() {
        return Some(Vec::new());
    }
    for n in names {
        if let Some(rest) = joined.strip_prefix(n.as_str()) {
            let others: Vec<String> = names.iter().filter(|m| *m != n).cloned().collect();
            if let Some(mut tail) = split_keys(rest, &others) {
                tail.insert(0, n.clone());
                return Some(tail);
            }
        }
    }
    None
}

impl Frame {
    fn close(self, index: &mut SchemaIndex, stack: &mut [Frame]) {
        let Some(path) = self.data_path else { return };
        if self.list {
            // yanglint 2.1's info printer runs several keys together
            // ("identifiername"): split them along the list's own leaves
            let keys = self
                .keys
                .iter()
                .flat_map(|k| {
                    if self.leaf_children.contains(k) {
                        vec![k.clone()]
                    } else {
                        split_keys(k, &self.leaf_children).unwrap_or_else(|| vec![k.clone()])
                    }
                })
                .collect();
            index.lists.insert(path, keys);
        } else if self.leaf {
            if let Some(parent) = stack.iter_mut().rev().find(|f| f.data_path.is_some()) {
                if parent.list {
                    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
                    parent.leaf_children.push(name);
                }
            }
            index.leaves.insert(path, json_kind(&self.types));
        }
    }
}

/// The JSON kind of a compiled leaf type (types in order of appearance:
/// `leafref` then its target's type; `union` then its members).
fn json_kind(types: &[String]) -> JsonKind {
    let base: Vec<&str> = types
        .iter()
        .map(|t| t.as_str())
        .filter(|t| *t != "leafref")
        .collect();
    let kind = |t: &str| match t {
        "int8" | "int16" | "int32" | "uint8" | "uint16" | "uint32" => JsonKind::Number,
        "boolean" => JsonKind::Bool,
        "identityref" => JsonKind::Identityref,
        _ => JsonKind::String,
    };
    match base.first() {
        Some(&"union") => {
            let members: Vec<JsonKind> = base[1..].iter().map(|t| kind(t)).collect();
            if !members.is_empty() && members.iter().all(|k| *k == JsonKind::Number) {
                JsonKind::Number
            } else {
                JsonKind::String
            }
        }
        Some(t) => kind(t),
        None => JsonKind::String,
    }
}

/// YANG tokens: words, quoted strings (unquoted), `{`, `}`, `;`, `+`.
fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '{' | '}' | ';' => {
                out.push(c.to_string());
                chars.next();
            }
            '"' | '\'' => {
                chars.next();
                let mut s = String::new();
                while let Some(ch) = chars.next() {
                    if ch == c {
                        break;
                    }
                    if ch == '\\' && c == '"' {
                        if let Some(n) = chars.next() {
                            s.push(n);
                        }
                        continue;
                    }
                    s.push(ch);
                }
                out.push(s);
            }
            '/' if {
                let mut it = chars.clone();
                it.next();
                matches!(it.peek(), Some('/') | Some('*'))
            } =>
            {
                chars.next();
                if chars.next() == Some('/') {
                    for ch in chars.by_ref() {
                        if ch == '\n' {
                            break;
                        }
                    }
                } else {
                    let mut prev = ' ';
                    for ch in chars.by_ref() {
                        if prev == '*' && ch == '/' {
                            break;
                        }
                        prev = ch;
                    }
                }
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || ch == '{' || ch == '}' || ch == ';' {
                        break;
                    }
                    s.push(ch);
                    chars.next();
                }
                out.push(s);
            }
        }
    }
    out
}

/// A gNMI path from its elements, for building documents in tests.
pub fn elems(p: &[(&str, &[(&str, &str)])]) -> Path {
    Path {
        elem: p
            .iter()
            .map(|(n, keys)| PathElem {
                name: n.to_string(),
                key: keys
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })
            .collect(),
        ..Default::default()
    }
}
