//! Link checks that need only the link itself and the nodes: names,
//! endpoints, layer against node roles, lengths and metrics. What depends on
//! other links (`rides`, inherited SRLGs, derived lengths) is in `rides.rs`.

use std::collections::{BTreeSet, HashMap};

use super::error::Sink;
use super::file::{DefaultsFile, EndpointFile, LinkFile};
use super::nodes::NodeIndex;
use crate::model::{Endpoint, Layer, Role};

/// Used when neither the link nor `defaults` gives a capacity: one 400ZR wave.
const FALLBACK_CAPACITY_GBPS: f64 = 400.0;
pub(crate) const DEFAULT_IGP_METRIC: u32 = 10;

/// A link that passed (or partly passed) its own checks. `None` fields could
/// not be determined; with them the file has already been rejected, and later
/// checks skip them.
pub(super) struct LinkDraft {
    pub path: String,
    pub name: Option<String>,
    pub a: Option<Endpoint>,
    pub b: Option<Endpoint>,
    pub layer: Option<Layer>,
    /// As written; `rides.rs` fills in derived lengths.
    pub length_km: Option<f64>,
    pub latency_us: Option<u32>,
    pub capacity_gbps: f64,
    pub te_metric: Option<u32>,
    pub igp_metric: u32,
    pub srlgs: BTreeSet<u32>,
    pub admin_groups: BTreeSet<String>,
    pub rides: Vec<String>,
    pub plant: Option<crate::pathcomp::optical::FiberPlant>,
}

pub(super) fn check(
    files: Vec<LinkFile>,
    nodes: &NodeIndex,
    defaults: &DefaultsFile,
    sink: &mut Sink,
) -> Vec<LinkDraft> {
    let default_capacity = match defaults.capacity_gbps {
        Some(c) if !positive(c) => {
            sink.error(
                "defaults.capacity_gbps",
                format!("must be a positive number, got {c}"),
            );
            FALLBACK_CAPACITY_GBPS
        }
        Some(c) => c,
        None => FALLBACK_CAPACITY_GBPS,
    };
    let mut names: HashMap<String, String> = HashMap::new();
    let mut ports: HashMap<Endpoint, String> = HashMap::new();
    let mut drafts = Vec::with_capacity(files.len());

    for file in files {
        let path = file.path();
        let a = endpoint(&file.a, &format!("{path}.a"), file.layer, nodes, sink);
        let mut b = endpoint(&file.b, &format!("{path}.b"), file.layer, nodes, sink);
        if let (Some(a), Some(bb)) = (&a, &b) {
            if a.node == bb.node {
                sink.error(
                    format!("{path}.b.node"),
                    format!("link connects node \"{}\" to itself", a.node),
                );
                // Claiming b's port too would only repeat the complaint.
                b = None;
            }
        }
        for (side, end) in [("a", &a), ("b", &b)] {
            let Some(end) = end else { continue };
            if let Some(owner) = ports.get(end) {
                let message = format!(
                    "interface \"{}\" of node \"{}\" is already used by {}",
                    end.interface,
                    end.node,
                    sink.place(owner)
                );
                sink.error(format!("{path}.{side}.interface"), message);
            } else {
                ports.insert(end.clone(), path.clone());
            }
        }

        let name = match &file.name {
            Some(name) if name.is_empty() => {
                sink.error(format!("{path}.name"), "must not be empty");
                None
            }
            Some(name) => Some(name.clone()),
            None => default_name(&file.a, &file.b),
        };
        if let Some(name) = &name {
            if let Some(owner) = names.get(name) {
                let message = format!(
                    "duplicate link name \"{name}\", already used by {}",
                    sink.place(owner)
                );
                sink.error(format!("{path}.name"), message);
            } else {
                names.insert(name.clone(), path.clone());
            }
        }

        let length_km = check_length(&file, &path, sink);
        let plant = match &file.optical {
            None => None,
            Some(_) if file.layer != Some(Layer::Fiber) => {
                sink.error(
                    format!("{path}.optical"),
                    "only fiber links have optical attributes",
                );
                None
            }
            Some(o) => length_km.and_then(|l| super::optical::plant(o, l, &path, sink)),
        };
        if let Some(c) = file.capacity_gbps {
            if !positive(c) {
                sink.error(
                    format!("{path}.capacity_gbps"),
                    format!("must be a positive number, got {c}"),
                );
            }
        }
        for (key, metric) in [
            ("te_metric", file.te_metric),
            ("igp_metric", file.igp_metric),
        ] {
            if metric == Some(0) {
                sink.error(format!("{path}.{key}"), "must be at least 1");
            }
        }

        drafts.push(LinkDraft {
            name,
            a,
            b,
            layer: file.layer,
            length_km,
            latency_us: file.latency_us,
            capacity_gbps: file.capacity_gbps.unwrap_or(default_capacity),
            te_metric: file.te_metric,
            igp_metric: file.igp_metric.unwrap_or(DEFAULT_IGP_METRIC),
            srlgs: file.srlgs.into_iter().collect(),
            admin_groups: file.admin_groups.into_iter().collect(),
            rides: file.rides,
            plant,
            path,
        });
    }
    drafts
}

/// `<a.node>:<a.interface>--<b.node>:<b.interface>`, if all four are known.
fn default_name(a: &EndpointFile, b: &EndpointFile) -> Option<String> {
    Some(format!(
        "{}:{}--{}:{}",
        a.node.as_ref()?,
        a.interface.as_ref()?,
        b.node.as_ref()?,
        b.interface.as_ref()?
    ))
}

/// The endpoint, if both its fields decoded; reports an unknown node or a
/// node whose role cannot terminate a link of this layer.
fn endpoint(
    file: &EndpointFile,
    path: &str,
    layer: Option<Layer>,
    nodes: &NodeIndex,
    sink: &mut Sink,
) -> Option<Endpoint> {
    if let Some(node) = &file.node {
        match nodes.roles.get(node) {
            None => sink.error(format!("{path}.node"), format!("unknown node \"{node}\"")),
            Some(Some(role)) => {
                if let Some(layer) = layer {
                    check_role(*role, layer, node, &format!("{path}.node"), sink);
                }
            }
            Some(None) => {}
        }
    }
    if file.interface.as_deref() == Some("") {
        sink.error(format!("{path}.interface"), "must not be empty");
        return None;
    }
    Some(Endpoint {
        node: file.node.clone()?,
        interface: file.interface.clone()?,
    })
}

fn check_role(role: Role, layer: Layer, node: &str, field: &str, sink: &mut Sink) {
    let (wanted, rule) = match layer {
        Layer::Packet => (Role::Packet, "packet links connect packet nodes"),
        Layer::Optical | Layer::Fiber => (
            Role::Optical,
            "fiber and optical links connect optical nodes",
        ),
    };
    if role != wanted {
        sink.error(
            field,
            format!(
                "{} node \"{node}\" cannot terminate {} link ({rule})",
                role_name(role),
                article(layer_name(layer))
            ),
        );
    }
}

/// Fiber spans must say how long they are (everything above derives latency
/// from them); other layers may leave it out.
fn check_length(file: &LinkFile, path: &str, sink: &mut Sink) -> Option<f64> {
    let field = format!("{path}.length_km");
    let fiber = file.layer == Some(Layer::Fiber);
    match file.length_km {
        None if fiber => {
            sink.error(field, "missing required field (fiber spans need a length)");
            None
        }
        None => None,
        Some(l) if fiber && !positive(l) => {
            sink.error(
                field,
                format!("must be a positive number of kilometres, got {l}"),
            );
            None
        }
        Some(l) if !(l.is_finite() && l >= 0.0) => {
            sink.error(
                field,
                format!("must be zero or a positive number of kilometres, got {l}"),
            );
            None
        }
        Some(l) => Some(l),
    }
}

fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

pub(super) fn layer_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Packet => "packet",
        Layer::Optical => "optical",
        Layer::Fiber => "fiber",
    }
}

/// "a packet", "an optical".
pub(super) fn article(word: &str) -> String {
    let a = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{a} {word}")
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Packet => "packet",
        Role::Optical => "optical",
    }
}
