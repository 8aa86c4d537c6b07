//! The simulators' schema is a faithful subset of the published OpenConfig
//! models: every node exists at its path in the module it names, with the
//! same config/state split, list keys and a compatible type (checked against
//! `yanglint -f tree` for modules and `-f info` for resolved types), and what
//! the simulators serve validates with yanglint. Capabilities announce the
//! versions the YANG files carry.
//!
//! The models come from `$STRATA_YANG_DIR` or `../shared/openconfig-yang`;
//! without them, or without yanglint, the tests say so and pass.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path as FsPath, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use strata::gnmi::schema::{LeafType, NodeKind, Schema, SchemaNode};
use strata::proto::gnmi::{get_request, CapabilityRequest, Encoding, GetRequest, SetRequest};
use strata::simulators::schemas;

/// The modules a document may touch (as the conformance test loads them).
const MODULES: &[&str] = &[
    "network-instance/openconfig-network-instance.yang",
    "network-instance/openconfig-network-instance-types.yang",
    "network-instance/openconfig-evpn-types.yang",
    "network-instance/openconfig-evpn.yang",
    "interfaces/openconfig-interfaces.yang",
    "vlan/openconfig-vlan.yang",
    "policy-forwarding/openconfig-pf-srte.yang",
    "platform/openconfig-platform.yang",
    "platform/openconfig-platform-types.yang",
    "optical-transport/openconfig-terminal-device.yang",
    "optical-transport/openconfig-transport-types.yang",
    "platform/openconfig-platform-transceiver.yang",
    "platform/openconfig-platform-port.yang",
    "isis/openconfig-isis.yang",
    "policy/openconfig-policy-types.yang",
    "isis/openconfig-isis-lsdb-types.yang",
    "lldp/openconfig-lldp.yang",
];

struct Models {
    dir: PathBuf,
}

impl Models {
    /// The models and yanglint, or `None` (after saying why) to skip.
    fn find() -> Option<Models> {
        let dir = std::env::var_os("STRATA_YANG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/openconfig-yang")
            });
        if !dir.join("release/models").is_dir() {
            eprintln!(
                "SKIPPED: no OpenConfig models at {} (set STRATA_YANG_DIR)",
                dir.display()
            );
            return None;
        }
        if Command::new("yanglint").arg("--version").output().is_err() {
            eprintln!("SKIPPED: yanglint is not installed (Debian: libyang2-tools)");
            return None;
        }
        Some(Models { dir })
    }

    fn models(&self) -> PathBuf {
        self.dir.join("release/models")
    }

    fn yanglint(&self) -> Command {
        let mut c = Command::new("yanglint");
        c.arg("-i");
        c.arg("-p").arg(self.dir.join("third_party/ietf"));
        let mut dirs = vec![];
        collect_dirs(&self.models(), &mut dirs);
        for d in dirs {
            c.arg("-p").arg(d);
        }
        c
    }

    fn module_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = MODULES.iter().map(|m| self.models().join(m)).collect();
        v.push(self.dir.join("third_party/ietf/iana-if-type.yang"));
        v
    }

    fn schema_print(&self, format: &str, top: &str) -> String {
        let out = self
            .yanglint()
            .args(["-f", format, "-L", "1000", "-P", top])
            .args(self.module_files())
            .output()
            .expect("yanglint runs");
        assert!(
            out.status.success(),
            "yanglint -f {format} -P {top}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Validates a JSON_IETF document; `Err` carries yanglint's complaints.
    fn validate(&self, kind: &str, doc: &Value) -> Result<(), String> {
        let file = tempfile::Builder::new()
            .suffix(".json")
            .tempfile()
            .expect("temp file");
        std::fs::write(file.path(), serde_json::to_vec_pretty(doc).unwrap()).unwrap();
        let out = self
            .yanglint()
            .args(["-f", "json", "-t", kind])
            .args(self.module_files())
            .arg(file.path())
            .output()
            .expect("yanglint runs");
        let errors: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("libyang warn"))
            .map(str::to_string)
            .collect();
        if out.status.success() && errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    /// module name → (prefix, source text) for every published module.
    fn sources(&self) -> HashMap<String, (String, String)> {
        let mut files = vec![];
        collect_files(&self.dir, &mut files);
        let mut out = HashMap::new();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            let Some(module) = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("module "))
                .map(|m| m.trim_end_matches('{').trim().to_string())
            else {
                continue;
            };
            let prefix = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("prefix "))
                .map(|p| p.trim_end_matches(';').trim_matches('"').to_string())
                .unwrap_or_default();
            out.insert(module, (prefix, text));
        }
        out
    }
}

fn collect_dirs(dir: &FsPath, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            collect_dirs(&e.path(), out);
        }
    }
}

fn collect_files(dir: &FsPath, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yang") {
            out.push(p);
        }
    }
}

/// One node of `yanglint -f tree`.
#[derive(Debug)]
struct TreeNode {
    module: String,
    rw: bool,
    keys: Vec<String>,
    kind: &'static str,
    ty: String,
}

/// Parses `-f tree` output into schema path (bare names) → node.
fn parse_tree(text: &str, prefixes: &HashMap<String, String>) -> BTreeMap<String, TreeNode> {
    let mut out = BTreeMap::new();
    let mut header = String::new();
    // (column of the marker, data node name or None for choice/case)
    let mut stack: Vec<(usize, Option<String>)> = vec![];
    for line in text.lines() {
        if let Some(m) = line.strip_prefix("module: ") {
            header = m.trim().to_string();
            continue;
        }
        let Some(pos) = line.find("--") else { continue };
        if pos == 0 || !matches!(line.as_bytes()[pos - 1], b'+' | b'x' | b'o') {
            continue;
        }
        let col = pos - 1;
        while stack.last().is_some_and(|(c, _)| *c >= col) {
            stack.pop();
        }
        let rest = &line[pos + 2..];
        if rest.starts_with(":(") {
            stack.push((col, None));
            continue;
        }
        let mut words = rest.split_whitespace();
        let flags = words.next().unwrap_or_default();
        let Some(raw) = words.next() else { continue };
        if raw.starts_with('(') {
            stack.push((col, None));
            continue;
        }
        let remaining: Vec<&str> = words.collect();
        let (keys, ty): (Vec<String>, String) = match remaining.first() {
            Some(k) if k.starts_with('[') => {
                let joined = remaining.join(" ");
                let end = joined.find(']').unwrap_or(joined.len());
                let keys = joined[1..end]
                    .split_whitespace()
                    .map(str::to_string)
                    .collect();
                (keys, String::new())
            }
            _ => (vec![], remaining.join(" ")),
        };
        let name_q = raw.trim_end_matches(['?', '*', '!']);
        let (module, name) = match name_q.split_once(':') {
            Some((p, n)) => (prefixes.get(p).cloned().unwrap_or(p.to_string()), n),
            None => (header.clone(), name_q),
        };
        let kind = if raw.ends_with('*') {
            if ty.is_empty() {
                "list"
            } else {
                "leaf-list"
            }
        } else if ty.is_empty() {
            "container"
        } else {
            "leaf"
        };
        let mut path: Vec<&str> = stack.iter().filter_map(|(_, n)| n.as_deref()).collect();
        path.push(name);
        out.insert(
            path.join("/"),
            TreeNode {
                module,
                rw: flags == "rw",
                keys,
                kind,
                ty,
            },
        );
        stack.push((col, Some(name.to_string())));
    }
    out
}

/// A YANG-syntax statement, as `yanglint -f info` prints the compiled schema.
#[derive(Debug, Default)]
struct Stmt {
    keyword: String,
    arg: String,
    subs: Vec<Stmt>,
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = vec![];
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '{' || c == '}' || c == ';' {
            out.push(c.to_string());
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != c {
                if c == '"' && chars[i] == '\\' && i + 1 < chars.len() {
                    i += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            // \0 marks a quoted token so `"{"` is never a brace.
            out.push(format!("\0{s}"));
        } else {
            let mut s = String::new();
            while i < chars.len()
                && !chars[i].is_whitespace()
                && !matches!(chars[i], '{' | '}' | ';')
            {
                s.push(chars[i]);
                i += 1;
            }
            out.push(s);
        }
    }
    out
}

fn parse_stmts(tokens: &[String], i: &mut usize) -> Vec<Stmt> {
    let mut out = vec![];
    while *i < tokens.len() {
        if tokens[*i] == "}" {
            *i += 1;
            return out;
        }
        let mut st = Stmt {
            keyword: tokens[*i].trim_start_matches('\0').to_string(),
            ..Default::default()
        };
        *i += 1;
        let mut arg = vec![];
        while *i < tokens.len() && tokens[*i] != ";" && tokens[*i] != "{" {
            arg.push(tokens[*i].trim_start_matches('\0').to_string());
            *i += 1;
        }
        st.arg = arg.join(" ");
        if *i < tokens.len() && tokens[*i] == "{" {
            *i += 1;
            st.subs = parse_stmts(tokens, i);
        } else {
            *i += 1;
        }
        out.push(st);
    }
    out
}

/// Resolved type facts of a leaf.
#[derive(Debug, Default)]
struct InfoLeaf {
    types: BTreeSet<String>,
    enums: BTreeSet<String>,
    fraction_digits: Option<u8>,
}

fn collect_types(st: &Stmt, leaf: &mut InfoLeaf) {
    for s in &st.subs {
        match s.keyword.as_str() {
            "type" => {
                leaf.types.insert(s.arg.clone());
                collect_types(s, leaf);
            }
            "enum" => {
                leaf.enums.insert(s.arg.clone());
            }
            "fraction-digits" => leaf.fraction_digits = s.arg.parse().ok(),
            _ => {}
        }
    }
}

fn info_leaves(stmts: &[Stmt], path: &mut Vec<String>, out: &mut BTreeMap<String, InfoLeaf>) {
    for st in stmts {
        match st.keyword.as_str() {
            "container" | "list" => {
                path.push(st.arg.clone());
                info_leaves(&st.subs, path, out);
                path.pop();
            }
            "choice" | "case" => info_leaves(&st.subs, path, out),
            "leaf" | "leaf-list" => {
                let mut l = InfoLeaf::default();
                collect_types(st, &mut l);
                path.push(st.arg.clone());
                out.insert(path.join("/"), l);
                path.pop();
            }
            _ => {}
        }
    }
}

fn type_compatible(
    ours: &LeafType,
    yang: &InfoLeaf,
    tree_ty: &str,
    sources: &HashMap<String, (String, String)>,
) -> Result<(), String> {
    let has = |t: &str| yang.types.contains(t);
    match ours {
        LeafType::String => need(has("string"), "not a string"),
        LeafType::Bool => need(has("boolean"), "not a boolean"),
        LeafType::Uint { bits, .. } => need(has(&format!("uint{bits}")), "unsigned width differs"),
        LeafType::Int { bits, .. } => need(has(&format!("int{bits}")), "signed width differs"),
        LeafType::Decimal {
            fraction_digits, ..
        } => {
            if !has("decimal64") {
                return Err("not a decimal64".into());
            }
            if yang.fraction_digits != Some(*fraction_digits) {
                return Err(format!(
                    "fraction-digits {fraction_digits}, the model has {:?}",
                    yang.fraction_digits
                ));
            }
            Ok(())
        }
        LeafType::Enum(values) => {
            if !has("enumeration") {
                return Err("not an enumeration".into());
            }
            match values.iter().find(|v| !yang.enums.contains(*v)) {
                Some(v) => Err(format!("enum {v} is not in the model")),
                None => Ok(()),
            }
        }
        LeafType::Identity(ids) => {
            if !has("identityref") {
                return Err("not an identityref".into());
            }
            for id in ids {
                let text = sources
                    .get(&id.module)
                    .map(|(_, t)| t.as_str())
                    .unwrap_or_default();
                let defined = text.lines().any(|l| {
                    let l = l.trim();
                    l.strip_prefix("identity ")
                        .is_some_and(|r| r.trim_end_matches('{').trim() == id.name)
                });
                if !defined {
                    return Err(format!("identity {} is not defined there", id.qualified()));
                }
            }
            Ok(())
        }
        LeafType::Leafref { base, .. } => {
            if !tree_ty.starts_with("->") && !has("leafref") {
                return Err("not a leafref".into());
            }
            type_compatible(base, yang, tree_ty, sources)
        }
    }
}

fn need(ok: bool, why: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why.to_string())
    }
}

fn check_schema(models: &Models, schema: &Schema, sources: &HashMap<String, (String, String)>) {
    let prefixes: HashMap<String, String> = sources
        .iter()
        .map(|(m, (p, _))| (p.clone(), m.clone()))
        .collect();
    let mut problems = vec![];
    let mut checked = 0;
    for (top, module) in &schema.modules {
        let sel = format!("/{module}:{top}");
        let tree = parse_tree(&models.schema_print("tree", &sel), &prefixes);
        let info_text = models.schema_print("info", &sel);
        let mut info = BTreeMap::new();
        let tokens = tokenize(&info_text);
        let mut i = 0;
        info_leaves(&parse_stmts(&tokens, &mut i), &mut vec![], &mut info);
        let top_node = &schema.root.children().unwrap()[top];
        let mut visit = |path: &[&str], node: &SchemaNode| {
            checked += 1;
            let key = std::iter::once(top.as_str())
                .chain(path.iter().copied())
                .collect::<Vec<_>>()
                .join("/");
            let Some(y) = tree.get(&key) else {
                problems.push(format!("{key}: not in the models"));
                return;
            };
            if y.module != node.module {
                problems.push(format!(
                    "{key}: module {} in the models, {} here",
                    y.module, node.module
                ));
            }
            if y.rw != node.config {
                problems.push(format!(
                    "{key}: config {} in the models, {} here",
                    y.rw, node.config
                ));
            }
            let kind = match &node.kind {
                NodeKind::Container(_) => "container",
                NodeKind::List { .. } => "list",
                NodeKind::Leaf(_) => "leaf",
                NodeKind::LeafList(_) => "leaf-list",
            };
            if y.kind != kind {
                problems.push(format!("{key}: a {} in the models, a {kind} here", y.kind));
            }
            if let NodeKind::List { keys, .. } = &node.kind {
                if &y.keys != keys {
                    problems.push(format!(
                        "{key}: keys {:?} in the models, {keys:?} here",
                        y.keys
                    ));
                }
            }
            if let Some(ty) = node.leaf_type() {
                match info.get(&key) {
                    None => problems.push(format!("{key}: no type information from yanglint")),
                    Some(l) => {
                        if let Err(e) = type_compatible(ty, l, &y.ty, sources) {
                            problems.push(format!("{key}: {e} (model: {:?})", l.types));
                        }
                    }
                }
            }
        };
        // The top node itself.
        visit(&[], top_node);
        top_node.walk(&mut vec![], &mut visit);
    }
    assert!(
        problems.is_empty(),
        "the simulator schema departs from the models:\n{}",
        problems.join("\n")
    );
    assert!(checked > 50, "only {checked} nodes checked");
}

#[test]
fn simulator_schemas_are_a_subset_of_the_models() {
    let Some(models) = Models::find() else { return };
    let sources = models.sources();
    check_schema(&models, &schemas::packet_schema(), &sources);
    check_schema(&models, &schemas::optical_schema(), &sources);
}

#[test]
fn capabilities_versions_are_the_models_versions() {
    let Some(models) = Models::find() else { return };
    let sources = models.sources();
    for (list, schema) in [
        (schemas::PACKET_MODELS, schemas::packet_schema()),
        (schemas::OPTICAL_MODELS, schemas::optical_schema()),
    ] {
        for (name, org, version) in list {
            let (_, text) = sources
                .get(*name)
                .unwrap_or_else(|| panic!("{name} is not a published module"));
            let ours = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("oc-ext:openconfig-version "))
                .map(|v| v.trim_end_matches(';').trim_matches('"').to_string())
                .or_else(|| {
                    text.lines()
                        .find_map(|l| l.trim().strip_prefix("revision "))
                        .map(|v| {
                            v.trim_end_matches(['{', ';'])
                                .trim()
                                .trim_matches('"')
                                .to_string()
                        })
                });
            assert_eq!(ours.as_deref(), Some(*version), "version of {name}");
            assert!(
                text.contains(&format!("organization \"{org}"))
                    || text.contains(&format!("\"{org}\"")),
                "organization of {name} is not {org:?}"
            );
        }
        for m in schema.all_modules() {
            assert!(
                list.iter().any(|(n, _, _)| *n == m),
                "schema uses {m} but Capabilities do not list it"
            );
        }
    }
}

async fn get_root(
    c: &mut strata::proto::gnmi::g_nmi_client::GNmiClient<tonic::transport::Channel>,
    ty: get_request::DataType,
) -> Value {
    let resp = c
        .get(GetRequest {
            path: vec![path("/")],
            encoding: Encoding::JsonIetf as i32,
            r#type: ty as i32,
            ..Default::default()
        })
        .await
        .expect("get /")
        .into_inner();
    json_of(resp.notification[0].update[0].val.as_ref().unwrap())
}

fn example(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/examples")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("example document")).expect("json")
}

#[tokio::test]
async fn what_the_simulators_serve_validates_against_the_models() {
    let Some(models) = Models::find() else { return };
    // The check itself must be able to fail.
    assert!(models
        .validate(
            "config",
            &serde_json::json!({"openconfig-interfaces:interfaces": {"bogus": 1}})
        )
        .is_err());
    let fabric = start_sims(&small_topology()).await;
    fabric.measure_once();
    // Every device of the fabric as it boots.
    for node in &small_topology().nodes {
        let mut c = raw_client(&fabric, &node.name).await;
        for (ty, kind) in [
            (get_request::DataType::Config, "config"),
            (get_request::DataType::All, "data"),
        ] {
            let doc = get_root(&mut c, ty).await;
            models
                .validate(kind, &doc)
                .unwrap_or_else(|e| panic!("{} {kind}: {e}\n{doc:#}", node.name));
        }
    }
    for (device, config) in [("pe1", "pe-config.json"), ("ot1", "ot-config.json")] {
        let mut c = raw_client(&fabric, device).await;
        let factory = get_root(&mut c, get_request::DataType::Config).await;
        models
            .validate("config", &factory)
            .unwrap_or_else(|e| panic!("{device} factory config: {e}\n{factory:#}"));
        let all = get_root(&mut c, get_request::DataType::All).await;
        models
            .validate("data", &all)
            .unwrap_or_else(|e| panic!("{device} state: {e}\n{all:#}"));
        // The example configuration (what the controller sends) is accepted
        // as is, and the device's data stays valid afterwards.
        c.set(SetRequest {
            update: vec![json_update("/", example(config))],
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{device} refuses {config}: {}", e.message()));
        fabric.measure_once();
        let cfg = get_root(&mut c, get_request::DataType::Config).await;
        let marker = if device == "pe1" {
            "strata-evpn-1001"
        } else {
            "[strata] w1 line"
        };
        assert!(
            cfg.to_string().contains(marker),
            "{config} did not land: {cfg}"
        );
        models
            .validate("config", &cfg)
            .unwrap_or_else(|e| panic!("{device} config after {config}: {e}\n{cfg:#}"));
        let all = get_root(&mut c, get_request::DataType::All).await;
        models
            .validate("data", &all)
            .unwrap_or_else(|e| panic!("{device} data after {config}: {e}\n{all:#}"));
    }
    let mut c = raw_client(&fabric, "pe2").await;
    let caps = c
        .capabilities(CapabilityRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(caps
        .supported_models
        .iter()
        .any(|m| m.name == "openconfig-pf-srte" && m.organization == "OpenConfig working group"));
}
