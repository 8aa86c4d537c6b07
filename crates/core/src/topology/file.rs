//! The file's shape: structs mirroring the YAML, decoded from a
//! `serde_yaml_ng::Value` one field at a time.
//!
//! Why not `#[derive(Deserialize)]` with `deny_unknown_fields` on the whole
//! file: derived deserialization stops at the first problem, and
//! serde_yaml_ng only exposes the failing path inside its message text. Here
//! each scalar still goes through serde (so type errors read like serde's),
//! but a bad field is recorded with its exact path and decoding carries on,
//! so one run reports every unknown key, missing field and wrong type.
//! Fields are `None` when absent or undecodable; the checks that follow skip
//! what they cannot know rather than report knock-on errors.

use std::net::{Ipv4Addr, SocketAddr};

use serde::de::DeserializeOwned;
use serde_yaml_ng::{Mapping, Value};

use super::error::Sink;
use crate::model::{GeoPoint, Layer, Role};

pub(super) struct TopologyFile {
    pub name: Option<String>,
    pub defaults: DefaultsFile,
    pub nodes: Vec<NodeFile>,
    pub links: Vec<LinkFile>,
}

#[derive(Default)]
pub(super) struct DefaultsFile {
    pub address_base: Option<SocketAddr>,
    pub capacity_gbps: Option<f64>,
    pub access_interfaces: Option<Vec<String>>,
}

pub(super) struct NodeFile {
    /// Position in `nodes`, kept because undecodable items are dropped.
    pub index: usize,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub site: Option<String>,
    pub location: Option<GeoPoint>,
    pub address: Option<SocketAddr>,
    pub router_id: Option<Ipv4Addr>,
    pub node_sid: Option<u32>,
    pub access_interfaces: Option<Vec<String>>,
    /// The decoder already reported why `address` is missing: the node checks
    /// neither derive one nor repeat the complaint in native terms.
    pub address_reported: bool,
}

#[derive(Default)]
pub(super) struct EndpointFile {
    pub node: Option<String>,
    pub interface: Option<String>,
}

pub(super) struct LinkFile {
    pub index: usize,
    pub name: Option<String>,
    pub a: EndpointFile,
    pub b: EndpointFile,
    pub layer: Option<Layer>,
    pub length_km: Option<f64>,
    pub latency_us: Option<u32>,
    pub capacity_gbps: Option<f64>,
    pub te_metric: Option<u32>,
    pub igp_metric: Option<u32>,
    pub srlgs: Vec<u32>,
    pub admin_groups: Vec<String>,
    pub rides: Vec<String>,
    /// The fiber's physical attributes (`optical:`), fiber links only.
    pub optical: Option<OpticalFile>,
}

/// `links[i].optical` as written; `optical.rs` checks it and fills defaults.
#[derive(Default)]
pub(super) struct OpticalFile {
    pub fiber_type: Option<crate::pathcomp::optical::FiberType>,
    pub loss_db_per_km: Option<f64>,
    pub dispersion_ps_nm_km: Option<f64>,
    pub pmd_ps_per_sqrt_km: Option<f64>,
    pub spans_km: Option<Vec<f64>>,
    pub amplifier_spacing_km: Option<f64>,
    pub amp_noise_figure_db: Option<f64>,
    pub launch_dbm: Option<f64>,
    pub connector_loss_db: Option<f64>,
    pub eol_margin_db: Option<f64>,
    pub pdl_db: Option<f64>,
}

impl NodeFile {
    pub(super) fn path(&self) -> String {
        format!("nodes[{}]", self.index)
    }
}

impl LinkFile {
    pub(super) fn path(&self) -> String {
        format!("links[{}]", self.index)
    }
}

const TOP_KEYS: &[&str] = &["name", "defaults", "nodes", "links"];
const DEFAULTS_KEYS: &[&str] = &["address_base", "capacity_gbps", "access_interfaces"];
const NODE_KEYS: &[&str] = &[
    "name",
    "role",
    "site",
    "location",
    "address",
    "router_id",
    "node_sid",
    "access_interfaces",
];
const LOCATION_KEYS: &[&str] = &["lat", "lon"];
const ENDPOINT_KEYS: &[&str] = &["node", "interface"];
const LINK_KEYS: &[&str] = &[
    "name",
    "a",
    "b",
    "layer",
    "length_km",
    "latency_us",
    "capacity_gbps",
    "te_metric",
    "igp_metric",
    "srlgs",
    "admin_groups",
    "rides",
    "optical",
];
pub(super) const OPTICAL_KEYS: &[&str] = &[
    "fiber_type",
    "loss_db_per_km",
    "dispersion_ps_nm_km",
    "pmd_ps_per_sqrt_km",
    "spans_km",
    "amplifier_spacing_km",
    "amp_noise_figure_db",
    "launch_dbm",
    "connector_loss_db",
    "eol_margin_db",
    "pdl_db",
];

pub(super) fn decode(doc: &Value, sink: &mut Sink) -> TopologyFile {
    let mut file = TopologyFile {
        name: None,
        defaults: DefaultsFile::default(),
        nodes: Vec::new(),
        links: Vec::new(),
    };
    let Some(top) = Fields::open(doc, String::new(), TOP_KEYS, sink) else {
        return file;
    };
    file.name = top.required("name", sink);
    if let Some(value) = top.get("defaults") {
        if let Some(d) = Fields::open(value, top.path("defaults"), DEFAULTS_KEYS, sink) {
            file.defaults = DefaultsFile {
                address_base: d.optional("address_base", sink),
                capacity_gbps: d.optional("capacity_gbps", sink),
                access_interfaces: d.optional("access_interfaces", sink),
            };
        }
    }
    match top.get("nodes") {
        None => sink.error("nodes", "missing required field"),
        Some(Value::Sequence(items)) if items.is_empty() => {
            sink.error("nodes", "a topology needs at least one node");
        }
        Some(value) => {
            for (index, item) in top.items("nodes", value, sink) {
                if let Some(node) = decode_node(index, item, sink) {
                    file.nodes.push(node);
                }
            }
        }
    }
    if let Some(value) = top.get("links") {
        for (index, item) in top.items("links", value, sink) {
            if let Some(link) = decode_link(index, item, sink) {
                file.links.push(link);
            }
        }
    }
    file
}

fn decode_node(index: usize, item: &Value, sink: &mut Sink) -> Option<NodeFile> {
    let f = Fields::open(item, format!("nodes[{index}]"), NODE_KEYS, sink)?;
    let location = f.get("location").and_then(|value| {
        let l = Fields::open(value, f.path("location"), LOCATION_KEYS, sink)?;
        let lat = l.required("lat", sink);
        let lon = l.required("lon", sink);
        Some(GeoPoint {
            lat: lat?,
            lon: lon?,
        })
    });
    Some(NodeFile {
        index,
        name: f.required("name", sink),
        role: f.required("role", sink),
        site: f.optional("site", sink),
        location,
        address: f.optional("address", sink),
        router_id: f.optional("router_id", sink),
        node_sid: f.optional("node_sid", sink),
        access_interfaces: f.optional("access_interfaces", sink),
        address_reported: false,
    })
}

fn decode_link(index: usize, item: &Value, sink: &mut Sink) -> Option<LinkFile> {
    let f = Fields::open(item, format!("links[{index}]"), LINK_KEYS, sink)?;
    let endpoint = |key: &str, sink: &mut Sink| -> EndpointFile {
        let Some(value) = f.get(key) else {
            sink.error(f.path(key), "missing required field");
            return EndpointFile::default();
        };
        match Fields::open(value, f.path(key), ENDPOINT_KEYS, sink) {
            Some(e) => EndpointFile {
                node: e.required("node", sink),
                interface: e.required("interface", sink),
            },
            None => EndpointFile::default(),
        }
    };
    let a = endpoint("a", sink);
    let b = endpoint("b", sink);
    Some(LinkFile {
        index,
        name: f.optional("name", sink),
        a,
        b,
        layer: f.required("layer", sink),
        length_km: f.optional("length_km", sink),
        latency_us: f.optional("latency_us", sink),
        capacity_gbps: f.optional("capacity_gbps", sink),
        te_metric: f.optional("te_metric", sink),
        igp_metric: f.optional("igp_metric", sink),
        srlgs: f.list("srlgs", sink),
        admin_groups: f.list("admin_groups", sink),
        rides: f.list("rides", sink),
        optical: f.get("optical").and_then(|value| {
            let o = Fields::open(value, f.path("optical"), OPTICAL_KEYS, sink)?;
            Some(OpticalFile {
                fiber_type: o.optional("fiber_type", sink),
                loss_db_per_km: o.optional("loss_db_per_km", sink),
                dispersion_ps_nm_km: o.optional("dispersion_ps_nm_km", sink),
                pmd_ps_per_sqrt_km: o.optional("pmd_ps_per_sqrt_km", sink),
                spans_km: o.get("spans_km").map(|_| o.list("spans_km", sink)),
                amplifier_spacing_km: o.optional("amplifier_spacing_km", sink),
                amp_noise_figure_db: o.optional("amp_noise_figure_db", sink),
                launch_dbm: o.optional("launch_dbm", sink),
                connector_loss_db: o.optional("connector_loss_db", sink),
                eol_margin_db: o.optional("eol_margin_db", sink),
                pdl_db: o.optional("pdl_db", sink),
            })
        }),
    })
}

/// A mapping being decoded, with the path its fields are reported under.
struct Fields<'v> {
    map: &'v Mapping,
    path: String,
}

impl<'v> Fields<'v> {
    /// Checks `value` is a mapping and reports its unknown keys.
    fn open(value: &'v Value, path: String, known: &[&str], sink: &mut Sink) -> Option<Self> {
        let Value::Mapping(map) = value else {
            sink.error(path, format!("expected a mapping, found {}", kind(value)));
            return None;
        };
        let fields = Fields { map, path };
        for key in map.keys() {
            let name = key_text(key);
            if !known.contains(&name.as_str()) {
                sink.error(fields.path(&name), unknown_key_message(&name, known));
            }
        }
        Some(fields)
    }

    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The value of `key`; an explicit null counts as absent.
    fn get(&self, key: &str) -> Option<&'v Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn optional<T: DeserializeOwned>(&self, key: &str, sink: &mut Sink) -> Option<T> {
        decode_value(self.get(key)?, self.path(key), sink)
    }

    fn required<T: DeserializeOwned>(&self, key: &str, sink: &mut Sink) -> Option<T> {
        if self.get(key).is_none() {
            sink.error(self.path(key), "missing required field");
            return None;
        }
        self.optional(key, sink)
    }

    /// A list whose items are decoded (and reported) one by one; absent means
    /// empty.
    fn list<T: DeserializeOwned>(&self, key: &str, sink: &mut Sink) -> Vec<T> {
        let Some(value) = self.get(key) else {
            return Vec::new();
        };
        self.items(key, value, sink)
            .filter_map(|(i, item)| decode_value(item, format!("{}[{i}]", self.path(key)), sink))
            .collect()
    }

    fn items(
        &self,
        key: &str,
        value: &'v Value,
        sink: &mut Sink,
    ) -> impl Iterator<Item = (usize, &'v Value)> {
        let items: &[Value] = match value {
            Value::Sequence(items) => items,
            other => {
                sink.error(
                    self.path(key),
                    format!("expected a list, found {}", kind(other)),
                );
                &[]
            }
        };
        items.iter().enumerate()
    }
}

fn decode_value<T: DeserializeOwned>(value: &Value, path: String, sink: &mut Sink) -> Option<T> {
    match serde_yaml_ng::from_value(value.clone()) {
        Ok(v) => Some(v),
        Err(e) => {
            sink.error(path, e.to_string());
            None
        }
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

pub(super) fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "~".to_string(),
        other => format!("<{}>", kind(other)),
    }
}

fn unknown_key_message(name: &str, known: &[&str]) -> String {
    unknown_name_message("field", name, known)
}

/// Typos are the usual cause, so name the likely intended key. `what` is
/// "field", or "label" for containerlab labels.
pub(super) fn unknown_name_message(what: &str, name: &str, known: &[&str]) -> String {
    let closest = known
        .iter()
        .map(|k| (crate::suggest::edit_distance(name, k), *k))
        .min()
        .filter(|&(d, _)| d <= 2 && d < name.len());
    match closest {
        Some((_, k)) => format!("unknown {what} \"{name}\" (did you mean \"{k}\"?)"),
        None => format!(
            "unknown {what} \"{name}\"; expected one of: {}",
            known.join(", ")
        ),
    }
}
