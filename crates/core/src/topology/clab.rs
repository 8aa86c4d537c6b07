//! containerlab topology files (`*.clab.yml`), decoded into the same
//! [`TopologyFile`] as Strata's own format so that both go through the same
//! checks.
//!
//! containerlab describes nodes (`topology.nodes.<name>`, with a `kind`) and
//! veth links (`endpoints: ["a:eth1", "b:eth1"]`, or the extended
//! `type: veth` form) but knows nothing of layers, SIDs or SRLGs. Those ride
//! along as `strata.*` labels, which containerlab allows on nodes (inherited
//! from `topology.defaults` and `topology.kinds`) and on links. Labels are
//! strings, so lists are comma-separated.
//!
//! Errors carry containerlab paths (`topology.nodes.pe9.labels.strata.node-sid`).
//! This module reports its own problems with them directly, and hands the
//! shared checks a [`PathMap`] that turns their native paths
//! (`nodes[3].node_sid`) into the same form.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::str::FromStr;

use serde_yaml_ng::{Mapping, Value};

use super::error::Sink;
use super::file::{
    key_text, kind, unknown_name_message, DefaultsFile, EndpointFile, LinkFile, NodeFile,
    TopologyFile,
};
use crate::model::{GeoPoint, Layer, Role};

#[cfg(test)]
mod tests;

const ROLE: &str = "strata.role";
const SITE: &str = "strata.site";
const LAT: &str = "strata.lat";
const LON: &str = "strata.lon";
const ADDRESS: &str = "strata.address";
const GNMI_PORT: &str = "strata.gnmi-port";
const ROUTER_ID: &str = "strata.router-id";
const NODE_SID: &str = "strata.node-sid";
const ACCESS_INTERFACES: &str = "strata.access-interfaces";
/// Fabric-wide, so only read from `topology.defaults.labels`.
const ADDRESS_BASE: &str = "strata.address-base";

const NODE_LABELS: &[&str] = &[
    ROLE,
    SITE,
    LAT,
    LON,
    ADDRESS,
    GNMI_PORT,
    ROUTER_ID,
    NODE_SID,
    ACCESS_INTERFACES,
];
const DEFAULTS_LABELS: &[&str] = &[
    ROLE,
    SITE,
    LAT,
    LON,
    ADDRESS,
    GNMI_PORT,
    ROUTER_ID,
    NODE_SID,
    ACCESS_INTERFACES,
    ADDRESS_BASE,
];

const NAME: &str = "strata.name";
const LAYER: &str = "strata.layer";
const LENGTH_KM: &str = "strata.length-km";
const LATENCY_US: &str = "strata.latency-us";
const CAPACITY_GBPS: &str = "strata.capacity-gbps";
const TE_METRIC: &str = "strata.te-metric";
const IGP_METRIC: &str = "strata.igp-metric";
const SRLGS: &str = "strata.srlgs";
const ADMIN_GROUPS: &str = "strata.admin-groups";
const RIDES: &str = "strata.rides";

const LINK_LABELS: &[&str] = &[
    NAME,
    LAYER,
    LENGTH_KM,
    LATENCY_US,
    CAPACITY_GBPS,
    TE_METRIC,
    IGP_METRIC,
    SRLGS,
    ADMIN_GROUPS,
    RIDES,
];

/// Where Strata dials a node that has only a `mgmt-ipv4`: the usual gNMI
/// port (SR Linux's default, and what gNMI clients assume).
const DEFAULT_GNMI_PORT: u16 = 57400;

/// containerlab kinds that are routers or switches, i.e. Strata packet
/// nodes, with their short aliases. Everything else (`linux`, bridges,
/// firewalls, traffic generators) says nothing about the role, so such nodes
/// need a `strata.role` label. containerlab has no optical kinds: optical
/// terminals are typically `linux` containers labelled `strata.role: optical`.
const PACKET_KINDS: &[&str] = &[
    "nokia_srlinux",
    "srl",
    "nokia_sros",
    "nokia_srsim",
    "vr-sros",
    "vr-nokia_sros",
    "arista_ceos",
    "ceos",
    "arista_veos",
    "vr-veos",
    "vr-arista_veos",
    "juniper_crpd",
    "crpd",
    "juniper_cjunosevolved",
    "juniper_vjunosrouter",
    "juniper_vjunosevolved",
    "juniper_vjunosswitch",
    "juniper_vmx",
    "vr-vmx",
    "vr-juniper_vmx",
    "juniper_vqfx",
    "vr-vqfx",
    "vr-juniper_vqfx",
    "cisco_xrd",
    "xrd",
    "cisco_xrv9k",
    "vr-xrv9k",
    "vr-cisco_xrv9k",
    "cisco_xrv",
    "vr-xrv",
    "vr-cisco_xrv",
    "cisco_c8000",
    "cisco_c8000v",
    "cisco_csr1000v",
    "vr-csr",
    "vr-cisco_csr",
    "cisco_iol",
    "cisco_nxos",
    "vr-nxos",
    "vr-cisco_nxos",
    "cisco_n9kv",
    "vr-n9kv",
    "vr-cisco_n9kv",
    "sonic-vs",
    "sonic-vm",
    "dell_sonic",
    "dell_ftosv",
    "vr-ftosv",
    "vr-dell_ftosv",
    "ipinfusion_ocnos",
    "mikrotik_ros",
    "vr-ros",
    "vr-mikrotik_ros",
    "huawei_vrp",
    "6wind_vsr",
];

/// Brief-format endpoint "nodes" that are places on the container host, not
/// nodes of the topology.
const HOST_SIDE: &[&str] = &["host", "mgmt-net", "macvlan"];

/// Whether a file's name marks it as containerlab's (`*.clab.yml`).
pub(super) fn has_clab_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".clab.yml") || n.ends_with(".clab.yaml"))
}

/// Whether to decode `doc` as a containerlab file. Content decides: a
/// `topology` mapping with a `nodes` mapping is containerlab's, a top-level
/// `nodes` is Strata's own. Only when the content says neither (a broken or
/// half-written file) does the name decide, so that its errors at least
/// speak the format the author meant.
pub(super) fn is_clab(doc: &Value, clab_name: bool) -> bool {
    let Value::Mapping(top) = doc else {
        return clab_name;
    };
    if let Some(Value::Mapping(topology)) = top.get("topology") {
        if matches!(topology.get("nodes"), Some(Value::Mapping(_))) {
            return true;
        }
    }
    if top.contains_key("nodes") {
        return false;
    }
    clab_name || top.contains_key("topology")
}

/// Decodes a containerlab document; the map turns the native paths the
/// shared checks report into this file's paths.
pub(super) fn decode(doc: &Value, sink: &mut Sink) -> (TopologyFile, PathMap) {
    let mut ctx = Ctx {
        sink,
        seen: HashSet::new(),
    };
    let mut file = TopologyFile {
        name: None,
        defaults: DefaultsFile::default(),
        nodes: Vec::new(),
        links: Vec::new(),
    };
    let mut paths = PathMap::default();
    let Value::Mapping(top) = doc else {
        ctx.error("", format!("expected a mapping, found {}", kind(doc)));
        return (file, paths);
    };
    file.name = string_field(top, "name", "", &mut ctx);
    if file.name.is_none() && field(top, "name").is_none() {
        ctx.error("name", "missing required field");
    }
    let Some(topology) = mapping_field(top, "topology", "", &mut ctx) else {
        if field(top, "topology").is_none() {
            ctx.error("topology", "missing required field");
        }
        return (file, paths);
    };
    let fabric = Fabric::read(topology, &mut ctx);
    file.defaults.access_interfaces = fabric.defaults_labels.list(ACCESS_INTERFACES);

    match field(topology, "nodes") {
        None => ctx.error("topology.nodes", "missing required field"),
        Some(Value::Mapping(nodes)) if nodes.is_empty() => {
            ctx.error("topology.nodes", "a topology needs at least one node");
        }
        Some(Value::Mapping(nodes)) => {
            for (index, (key, value)) in nodes.iter().enumerate() {
                let (node, node_paths) = decode_node(index, key, value, &fabric, &mut ctx);
                file.nodes.push(node);
                paths.nodes.push(node_paths);
            }
        }
        Some(other) => ctx.error(
            "topology.nodes",
            format!(
                "expected a mapping of node names to nodes, found {}",
                kind(other)
            ),
        ),
    }

    let roles: HashMap<String, Option<Role>> = file
        .nodes
        .iter()
        .filter_map(|n| Some((n.name.clone()?, n.role)))
        .collect();
    match field(topology, "links") {
        None => {}
        Some(Value::Sequence(items)) => {
            for (index, item) in items.iter().enumerate() {
                let (link, link_paths) = decode_link(index, item, &roles, &mut ctx);
                file.links.extend(link);
                paths.links.push(link_paths);
            }
        }
        Some(other) => ctx.error(
            "topology.links",
            format!("expected a list, found {}", kind(other)),
        ),
    }
    (file, paths)
}

/// The sink, reporting each (path, message) once: labels inherited from
/// `topology.defaults` or `topology.kinds` are read once per node, but a bad
/// one is one mistake in the file.
struct Ctx<'s, 'l> {
    sink: &'s mut Sink<'l>,
    seen: HashSet<(String, String)>,
}

impl Ctx<'_, '_> {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let (path, message) = (path.into(), message.into());
        if self.seen.insert((path.clone(), message.clone())) {
            self.sink.error(path, message);
        }
    }
}

// --- fabric-wide settings -------------------------------------------------

/// What nodes inherit: `topology.defaults` and `topology.kinds`.
struct Fabric<'v> {
    default_kind: Option<String>,
    defaults_labels: Labels,
    kinds: Option<&'v Mapping>,
    address_base: Option<SocketAddr>,
}

impl<'v> Fabric<'v> {
    fn read(topology: &'v Mapping, ctx: &mut Ctx) -> Self {
        let defaults = mapping_field(topology, "defaults", "topology", ctx);
        let default_kind = defaults.and_then(|d| string_field(d, "kind", "topology.defaults", ctx));
        let defaults_labels = read_labels(
            defaults.and_then(|d| field(d, "labels")),
            "topology.defaults.labels",
            DEFAULTS_LABELS,
            true,
            ctx,
        );
        let address_base =
            defaults_labels.parse(ADDRESS_BASE, "ip:port, e.g. 127.0.0.1:20300", ctx);
        Fabric {
            default_kind,
            defaults_labels,
            kinds: mapping_field(topology, "kinds", "topology", ctx),
            address_base,
        }
    }

    /// A node's labels: its own over its kind's over the defaults', as
    /// containerlab merges them.
    fn labels_for(
        &self,
        node_kind: Option<&str>,
        own: Option<&Value>,
        base: &str,
        ctx: &mut Ctx,
    ) -> Labels {
        let mut labels = self.defaults_labels.clone();
        if let Some((kinds, node_kind)) = self.kinds.zip(node_kind) {
            if let Some(settings) = kinds.get(node_kind) {
                let path = format!("topology.kinds.{node_kind}");
                let from_kind = match settings {
                    Value::Mapping(m) => read_labels(
                        field(m, "labels"),
                        &format!("{path}.labels"),
                        NODE_LABELS,
                        false,
                        ctx,
                    ),
                    Value::Null => Labels::default(),
                    other => {
                        ctx.error(path, format!("expected a mapping, found {}", kind(other)));
                        Labels::default()
                    }
                };
                labels.extend(from_kind);
            }
        }
        labels.extend(read_labels(
            own,
            &format!("{base}.labels"),
            NODE_LABELS,
            false,
            ctx,
        ));
        labels
    }
}

// --- labels ----------------------------------------------------------------

/// One label as written, and where.
#[derive(Clone)]
struct Label {
    text: String,
    path: String,
    /// Inherited from `topology.defaults.labels`, which for
    /// `strata.access-interfaces` means the fabric default rather than the
    /// node's own list.
    from_defaults: bool,
}

/// The `strata.*` labels that apply to one node or link.
#[derive(Clone, Default)]
struct Labels(BTreeMap<String, Label>);

/// Reads one `labels:` mapping. Other tools' labels are not ours to judge;
/// `strata.*` ones must be known (typos get a "did you mean") and scalar.
fn read_labels(
    value: Option<&Value>,
    path: &str,
    known: &[&str],
    from_defaults: bool,
    ctx: &mut Ctx,
) -> Labels {
    let mut labels = Labels::default();
    let Some(value) = value else {
        return labels;
    };
    let Value::Mapping(map) = value else {
        ctx.error(path, format!("expected a mapping, found {}", kind(value)));
        return labels;
    };
    for (key, value) in map {
        let name = key_text(key);
        if !name.starts_with("strata.") {
            continue;
        }
        let at = format!("{path}.{name}");
        if name == ADDRESS_BASE && !known.contains(&ADDRESS_BASE) {
            ctx.error(
                at,
                "strata.address-base is fabric-wide: set it in topology.defaults.labels",
            );
            continue;
        }
        if !known.contains(&name.as_str()) {
            ctx.error(at, unknown_name_message("label", &name, known));
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Null => continue,
            other => {
                ctx.error(
                    at,
                    format!(
                        "expected a string or a number, found {} (containerlab labels are \
                         strings: write lists comma-separated)",
                        kind(other)
                    ),
                );
                continue;
            }
        };
        labels.0.insert(
            name,
            Label {
                text,
                path: at,
                from_defaults,
            },
        );
    }
    labels
}

impl Labels {
    /// Adds `other`'s labels, replacing ours with the same name.
    fn extend(&mut self, other: Labels) {
        self.0.extend(other.0);
    }

    fn get(&self, name: &str) -> Option<&Label> {
        self.0.get(name)
    }

    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|l| l.text.clone())
    }

    /// The label parsed with `parse`; a value it rejects is reported as not
    /// being `expected`.
    fn parse_with<T>(
        &self,
        name: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
        ctx: &mut Ctx,
    ) -> Option<T> {
        let label = self.get(name)?;
        let value = parse(label.text.trim());
        if value.is_none() {
            ctx.error(
                label.path.clone(),
                format!("expected {expected}, got {:?}", label.text),
            );
        }
        value
    }

    fn parse<T: FromStr>(&self, name: &str, expected: &str, ctx: &mut Ctx) -> Option<T> {
        self.parse_with(name, expected, |s| s.parse().ok(), ctx)
    }

    /// A comma-separated list; spaces around items and empty items (a
    /// trailing comma) are ignored.
    fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|l| split_list(&l.text))
    }

    /// A comma-separated list of numbers; each bad item is reported.
    fn numbers(&self, name: &str, ctx: &mut Ctx) -> Vec<u32> {
        let Some(label) = self.get(name) else {
            return Vec::new();
        };
        let mut numbers = Vec::new();
        for item in split_list(&label.text) {
            match item.parse() {
                Ok(n) => numbers.push(n),
                Err(_) => ctx.error(
                    label.path.clone(),
                    format!(
                        "expected comma-separated integers (0..=4294967295), got item {item:?}"
                    ),
                ),
            }
        }
        numbers
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn role_from(text: &str) -> Option<Role> {
    match text {
        "packet" => Some(Role::Packet),
        "optical" => Some(Role::Optical),
        _ => None,
    }
}

fn layer_from(text: &str) -> Option<Layer> {
    match text {
        "packet" => Some(Layer::Packet),
        "optical" => Some(Layer::Optical),
        "fiber" => Some(Layer::Fiber),
        _ => None,
    }
}

// --- nodes -----------------------------------------------------------------

fn decode_node(
    index: usize,
    key: &Value,
    value: &Value,
    fabric: &Fabric,
    ctx: &mut Ctx,
) -> (NodeFile, NodePaths) {
    let name = key_text(key);
    let base = format!("topology.nodes.{name}");
    // `pe1:` with nothing under it is a node that inherits everything.
    let map = match value {
        Value::Mapping(m) => Some(m),
        Value::Null => None,
        other => {
            ctx.error(
                base.clone(),
                format!("expected a mapping, found {}", kind(other)),
            );
            None
        }
    };
    let own_kind = map.and_then(|m| string_field(m, "kind", &base, ctx));
    let node_kind = own_kind.or_else(|| fabric.default_kind.clone());
    let labels = fabric.labels_for(
        node_kind.as_deref(),
        map.and_then(|m| field(m, "labels")),
        &base,
        ctx,
    );
    let role = if labels.get(ROLE).is_some() {
        labels.parse_with(ROLE, "packet or optical", role_from, ctx)
    } else {
        role_of_kind(node_kind.as_deref(), &name, &base, ctx)
    };
    let mgmt_written = map.is_some_and(|m| field(m, "mgmt-ipv4").is_some());
    let mgmt = map.and_then(|m| {
        let text = string_field(m, "mgmt-ipv4", &base, ctx)?;
        let parsed = text.parse::<Ipv4Addr>().ok();
        if parsed.is_none() {
            ctx.error(
                format!("{base}.mgmt-ipv4"),
                format!("expected an IPv4 address, got {text:?}"),
            );
        }
        parsed
    });
    // Parsed even when another source gives the address, so that a bad
    // value is reported wherever it is.
    let gnmi_port = if labels.get(GNMI_PORT).is_some() {
        labels.parse(GNMI_PORT, "a port number (0..=65535)", ctx)
    } else {
        Some(DEFAULT_GNMI_PORT)
    };
    let source = AddressSource {
        index,
        mgmt,
        mgmt_written,
        gnmi_port,
    };
    let (address, address_path) = address_of(&source, &labels, fabric, &base, ctx);
    let node = NodeFile {
        index,
        name: Some(name),
        role,
        site: labels.text(SITE),
        location: location_of(&labels, ctx),
        address,
        router_id: labels.parse(ROUTER_ID, "an IPv4 address", ctx),
        node_sid: labels.parse(NODE_SID, "an integer", ctx),
        // The defaults' list is the fabric default (packet nodes only), not
        // the node's own.
        access_interfaces: labels
            .get(ACCESS_INTERFACES)
            .filter(|l| !l.from_defaults)
            .map(|l| split_list(&l.text)),
        address_reported: true,
    };
    (
        node,
        NodePaths {
            base,
            address: address_path,
        },
    )
}

/// Routers and switches are packet nodes; any other kind must say.
fn role_of_kind(kind: Option<&str>, node: &str, base: &str, ctx: &mut Ctx) -> Option<Role> {
    match kind {
        Some(kind) if PACKET_KINDS.contains(&kind) => Some(Role::Packet),
        Some(kind) => {
            ctx.error(
                format!("{base}.kind"),
                format!(
                    "kind \"{kind}\" does not tell Strata whether node \"{node}\" is a packet or \
                     an optical node: add the label {ROLE}: packet (or optical)"
                ),
            );
            None
        }
        None => {
            ctx.error(
                format!("{base}.kind"),
                format!(
                    "node \"{node}\" has no kind (nor topology.defaults.kind): give it one, or \
                     the label {ROLE}: packet (or optical)"
                ),
            );
            None
        }
    }
}

/// What a node says about its management address, besides labels.
struct AddressSource {
    /// Position in `topology.nodes`.
    index: usize,
    mgmt: Option<Ipv4Addr>,
    /// `mgmt-ipv4` is present, even if it did not parse.
    mgmt_written: bool,
    /// Where gNMI listens on `mgmt`; `None` if the label did not parse.
    gnmi_port: Option<u16>,
}

/// The node's gNMI address and the path to blame for it: `strata.address`,
/// else `strata.address-base` plus the node's position (as the native
/// format's `defaults.address_base`), else `mgmt-ipv4` and the gNMI port.
/// `None` (reported) when there is none.
fn address_of(
    source: &AddressSource,
    labels: &Labels,
    fabric: &Fabric,
    base: &str,
    ctx: &mut Ctx,
) -> (Option<SocketAddr>, String) {
    let index = source.index;
    if labels.get(ADDRESS).is_some() {
        let address = labels.parse(ADDRESS, "ip:port, e.g. 127.0.0.1:57400", ctx);
        return (address, format!("{base}.labels.{ADDRESS}"));
    }
    if let Some(address_base) = fabric.address_base {
        let port = u16::try_from(index)
            .ok()
            .and_then(|offset| address_base.port().checked_add(offset));
        if port.is_none() {
            ctx.error(
                base,
                format!(
                    "address derived from topology.defaults.labels.{ADDRESS_BASE} {address_base} \
                     + {index} is past port 65535"
                ),
            );
        }
        let address = port.map(|p| SocketAddr::new(address_base.ip(), p));
        return (address, base.to_string());
    }
    if let Some(ip) = source.mgmt {
        let address = source.gnmi_port.map(|p| SocketAddr::new(ip.into(), p));
        return (address, format!("{base}.mgmt-ipv4"));
    }
    // A mgmt-ipv4 that did not parse was reported already.
    if !source.mgmt_written {
        ctx.error(
            base,
            format!(
                "no gNMI address: add the label {ADDRESS} (ip:port), give the node a mgmt-ipv4 \
                 (dialled on port {DEFAULT_GNMI_PORT}, or {GNMI_PORT}), or set {ADDRESS_BASE} in \
                 topology.defaults.labels"
            ),
        );
    }
    (None, base.to_string())
}

fn location_of(labels: &Labels, ctx: &mut Ctx) -> Option<GeoPoint> {
    let lat = labels.parse(LAT, "a latitude in degrees", ctx);
    let lon = labels.parse(LON, "a longitude in degrees", ctx);
    for (has, lacks) in [(LAT, LON), (LON, LAT)] {
        if let (Some(label), None) = (labels.get(has), labels.get(lacks)) {
            ctx.error(label.path.clone(), format!("{has} needs {lacks} as well"));
        }
    }
    Some(GeoPoint {
        lat: lat?,
        lon: lon?,
    })
}

// --- links -----------------------------------------------------------------

fn decode_link(
    index: usize,
    item: &Value,
    roles: &HashMap<String, Option<Role>>,
    ctx: &mut Ctx,
) -> (Option<LinkFile>, LinkPaths) {
    let base = format!("topology.links[{index}]");
    let mut paths = LinkPaths {
        base: base.clone(),
        mapped: [false; 2],
    };
    let Value::Mapping(map) = item else {
        ctx.error(base, format!("expected a mapping, found {}", kind(item)));
        return (None, paths);
    };
    if let Some(link_type) = string_field(map, "type", &base, ctx) {
        if link_type != "veth" {
            ctx.error(
                format!("{base}.type"),
                format!(
                    "link type \"{link_type}\" does not join two nodes: Strata reads veth links \
                     (type: veth, or the brief endpoints: [\"a:x\", \"b:y\"] form)"
                ),
            );
            return (None, paths);
        }
    }
    let [a, b] = endpoints(map, &base, roles, &mut paths, ctx);
    let labels = read_labels(
        field(map, "labels"),
        &format!("{base}.labels"),
        LINK_LABELS,
        false,
        ctx,
    );
    check_vars(map, &base, ctx);
    let layer = if labels.get(LAYER).is_some() {
        labels.parse_with(LAYER, "fiber, optical or packet", layer_from, ctx)
    } else {
        default_layer(&a, &b, roles, &base, ctx)
    };
    let link = LinkFile {
        index,
        name: labels.text(NAME),
        a,
        b,
        layer,
        length_km: labels.parse(LENGTH_KM, "a number of kilometres", ctx),
        latency_us: labels.parse(LATENCY_US, "an integer number of microseconds", ctx),
        capacity_gbps: labels.parse(CAPACITY_GBPS, "a number of Gb/s", ctx),
        te_metric: labels.parse(TE_METRIC, "an integer", ctx),
        igp_metric: labels.parse(IGP_METRIC, "an integer", ctx),
        srlgs: labels.numbers(SRLGS, ctx),
        admin_groups: labels.list(ADMIN_GROUPS).unwrap_or_default(),
        rides: labels.list(RIDES).unwrap_or_default(),
        // containerlab labels are flat strings: a span plan does not fit
        optical: None,
    };
    (Some(link), paths)
}

/// The two ends, each `"node:interface"` (brief form) or `{node, interface}`
/// (extended form).
fn endpoints(
    map: &Mapping,
    base: &str,
    roles: &HashMap<String, Option<Role>>,
    paths: &mut LinkPaths,
    ctx: &mut Ctx,
) -> [EndpointFile; 2] {
    let path = format!("{base}.endpoints");
    let items = match field(map, "endpoints") {
        None => {
            ctx.error(path, "missing required field");
            return Default::default();
        }
        Some(Value::Sequence(items)) if items.len() == 2 => items,
        Some(Value::Sequence(items)) => {
            ctx.error(
                path,
                format!("a link has exactly two endpoints, found {}", items.len()),
            );
            return Default::default();
        }
        Some(other) => {
            ctx.error(path, format!("expected a list, found {}", kind(other)));
            return Default::default();
        }
    };
    let mut ends: [EndpointFile; 2] = Default::default();
    for (i, item) in items.iter().enumerate() {
        paths.mapped[i] = matches!(item, Value::Mapping(_));
        ends[i] = endpoint(item, &format!("{path}[{i}]"), roles, ctx);
    }
    ends
}

fn endpoint(
    item: &Value,
    path: &str,
    roles: &HashMap<String, Option<Role>>,
    ctx: &mut Ctx,
) -> EndpointFile {
    match item {
        Value::String(text) => {
            let Some((node, interface)) = text
                .split_once(':')
                .filter(|(n, i)| !n.is_empty() && !i.is_empty())
            else {
                ctx.error(path, format!("expected \"node:interface\", got {text:?}"));
                return EndpointFile::default();
            };
            if HOST_SIDE.contains(&node) && !roles.contains_key(node) {
                ctx.error(
                    path,
                    format!(
                        "{text:?} attaches to the container host, not to a node: Strata models \
                         links between two nodes"
                    ),
                );
                return EndpointFile::default();
            }
            EndpointFile {
                node: Some(node.to_string()),
                interface: Some(interface.to_string()),
            }
        }
        Value::Mapping(m) => {
            let node = string_field(m, "node", path, ctx);
            let interface = string_field(m, "interface", path, ctx);
            for (key, value) in [("node", &node), ("interface", &interface)] {
                if value.is_none() && field(m, key).is_none() {
                    ctx.error(format!("{path}.{key}"), "missing required field");
                }
            }
            EndpointFile { node, interface }
        }
        other => {
            ctx.error(
                path,
                format!(
                    "expected \"node:interface\" or {{node, interface}}, found {}",
                    kind(other)
                ),
            );
            EndpointFile::default()
        }
    }
}

/// `vars` is containerlab's other per-link mapping (for config templates);
/// Strata's attributes found there would otherwise be silently ignored.
fn check_vars(map: &Mapping, base: &str, ctx: &mut Ctx) {
    let Some(Value::Mapping(vars)) = field(map, "vars") else {
        return;
    };
    for key in vars.keys() {
        let name = key_text(key);
        if name.starts_with("strata.") {
            ctx.error(
                format!("{base}.vars.{name}"),
                format!(
                    "Strata reads {name} from the link's labels, not its vars: move it to labels"
                ),
            );
        }
    }
}

/// Most containerlab links join two routers, so those default to packet;
/// between optical nodes (fiber span or optical channel?) the file must say.
fn default_layer(
    a: &EndpointFile,
    b: &EndpointFile,
    roles: &HashMap<String, Option<Role>>,
    base: &str,
    ctx: &mut Ctx,
) -> Option<Layer> {
    let role = |end: &EndpointFile| *end.node.as_ref().and_then(|n| roles.get(n))?;
    match (role(a), role(b)) {
        (Some(Role::Packet), Some(Role::Packet)) => Some(Layer::Packet),
        (Some(_), Some(_)) => {
            ctx.error(
                format!("{base}.labels.{LAYER}"),
                format!(
                    "missing label {LAYER} (fiber, optical or packet): only links between two \
                     packet nodes default to packet"
                ),
            );
            None
        }
        // An unknown or undecided end: reported elsewhere.
        _ => None,
    }
}

// --- plain fields ----------------------------------------------------------

/// The value of `key`; an explicit null counts as absent.
fn field<'v>(map: &'v Mapping, key: &str) -> Option<&'v Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

fn string_field(map: &Mapping, key: &str, parent: &str, ctx: &mut Ctx) -> Option<String> {
    match field(map, key)? {
        Value::String(s) => Some(s.clone()),
        other => {
            ctx.error(
                join(parent, key),
                format!("expected a string, found {}", kind(other)),
            );
            None
        }
    }
}

fn mapping_field<'v>(
    map: &'v Mapping,
    key: &str,
    parent: &str,
    ctx: &mut Ctx,
) -> Option<&'v Mapping> {
    match field(map, key)? {
        Value::Mapping(m) => Some(m),
        other => {
            ctx.error(
                join(parent, key),
                format!("expected a mapping, found {}", kind(other)),
            );
            None
        }
    }
}

// --- paths -----------------------------------------------------------------

/// Native paths of the shared checks, in this file's terms.
#[derive(Default)]
pub(super) struct PathMap {
    /// By position in `topology.nodes`, i.e. by native `nodes[i]`.
    nodes: Vec<NodePaths>,
    /// By position in `topology.links`.
    links: Vec<LinkPaths>,
}

struct NodePaths {
    /// `topology.nodes.<name>`.
    base: String,
    /// What the node's address came from.
    address: String,
}

struct LinkPaths {
    /// `topology.links[<i>]`.
    base: String,
    /// Per endpoint: written as `{node, interface}` rather than a string.
    mapped: [bool; 2],
}

/// Native node fields and the labels that carry them.
const NODE_FIELDS: &[(&str, &str)] = &[
    ("role", ROLE),
    ("site", SITE),
    ("location.lat", LAT),
    ("location.lon", LON),
    ("location", LAT),
    ("router_id", ROUTER_ID),
    ("node_sid", NODE_SID),
    ("access_interfaces", ACCESS_INTERFACES),
];

/// Native link fields and their labels (`rides[k]` maps to `strata.rides`:
/// one label holds the whole list).
const LINK_FIELDS: &[(&str, &str)] = &[
    ("name", NAME),
    ("layer", LAYER),
    ("length_km", LENGTH_KM),
    ("latency_us", LATENCY_US),
    ("capacity_gbps", CAPACITY_GBPS),
    ("te_metric", TE_METRIC),
    ("igp_metric", IGP_METRIC),
    ("srlgs", SRLGS),
    ("admin_groups", ADMIN_GROUPS),
    ("rides", RIDES),
];

impl PathMap {
    pub(super) fn rename(&self, path: &str) -> String {
        if let Some((i, rest)) = item(path, "nodes") {
            if let Some(node) = self.nodes.get(i) {
                return node.rename(rest);
            }
        }
        if let Some((i, rest)) = item(path, "links") {
            if let Some(link) = self.links.get(i) {
                return link.rename(rest);
            }
        }
        path.to_string()
    }
}

impl NodePaths {
    fn rename(&self, rest: &str) -> String {
        let field = rest.trim_start_matches('.');
        match field {
            "" | "name" => self.base.clone(),
            "address" => self.address.clone(),
            _ => match NODE_FIELDS.iter().find(|(native, _)| *native == field) {
                Some((_, label)) => format!("{}.labels.{label}", self.base),
                None => self.base.clone(),
            },
        }
    }
}

impl LinkPaths {
    fn rename(&self, rest: &str) -> String {
        let field = rest.trim_start_matches('.');
        let (head, tail) = field.split_once('.').unwrap_or((field, ""));
        let end = match head {
            "a" => Some(0),
            "b" => Some(1),
            _ => None,
        };
        if let Some(i) = end {
            let end_path = format!("{}.endpoints[{i}]", self.base);
            // A string endpoint holds node and interface in one scalar.
            return if self.mapped[i] && !tail.is_empty() {
                format!("{end_path}.{tail}")
            } else {
                end_path
            };
        }
        let head = head.split('[').next().unwrap_or(head);
        match LINK_FIELDS.iter().find(|(native, _)| *native == head) {
            Some((_, label)) => format!("{}.labels.{label}", self.base),
            None => self.base.clone(),
        }
    }
}

/// `nodes[3].router_id` → `(3, ".router_id")`.
fn item<'p>(path: &'p str, list: &str) -> Option<(usize, &'p str)> {
    let rest = path.strip_prefix(list)?.strip_prefix('[')?;
    let close = rest.find(']')?;
    Some((rest[..close].parse().ok()?, &rest[close + 1..]))
}
