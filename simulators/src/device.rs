//! One simulated device: its data tree, transactional Set, and the change feed
//! that ON_CHANGE subscriptions listen to. No sockets here (see `server`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::json;
use tokio::sync::broadcast;

use super::schemas::{self, operational_modes};
use crate::gnmi::schema::LeafType;
use crate::gnmi::tree::{Access, Change, Names, Tree, TreeError};
use crate::gnmi::value::{decode_update, raw_scalar_text};
use crate::gnmi::{format_path, join_prefix, parse_path};
use crate::model::{Layer, Role, Topology};
use crate::proto::gnmi::{update_result, Path, SetRequest, SetResponse, UpdateResult};

/// Capacity of a device's change feed; a subscriber that lags further behind
/// re-reads its paths instead of replaying changes.
const CHANGE_FEED_DEPTH: usize = 1024;
/// The longest value one leaf may take in a Set. Every subscriber's queue and
/// every snapshot carries it, so one huge leaf is a cost to all of them.
pub const MAX_LEAF_BYTES: usize = 1 << 20;

pub struct SimDevice {
    pub name: String,
    pub role: Role,
    tree: RwLock<Tree>,
    factory: Tree,
    changes: broadcast::Sender<Arc<Vec<Change>>>,
    alive: AtomicBool,
    /// Bench only: serve SAMPLE subscriptions back to back (see `server::burst_loop`).
    burst: AtomicBool,
    /// Bumped on every tree write, so a burst stream re-reads only what changed.
    generation: AtomicU64,
    pub sets_applied: AtomicU64,
    pub sets_rejected: AtomicU64,
    /// Subscribers dropped for not reading (their queue hit its bound).
    pub subscribers_dropped: AtomicU64,
    pub(crate) set_log: super::set_log::SetLog,
    /// gNMI master arbitration of Sets (see `arbitration`).
    pub arbiter: super::arbitration::Arbiter,
}

/// A Set that failed: the gNMI status to return (spec 3.4.7).
pub type SetError = tonic::Status;

pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl SimDevice {
    pub fn new(name: &str, role: Role, factory: Tree) -> Self {
        let (changes, _) = broadcast::channel(CHANGE_FEED_DEPTH);
        SimDevice {
            name: name.to_string(),
            role,
            tree: RwLock::new(factory.clone()),
            factory,
            changes,
            alive: AtomicBool::new(true),
            burst: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            sets_applied: AtomicU64::new(0),
            sets_rejected: AtomicU64::new(0),
            subscribers_dropped: AtomicU64::new(0),
            set_log: Default::default(),
            arbiter: Default::default(),
        }
    }

    /// Builds a device with the factory tree a real one of its role would boot with.
    pub fn from_topology(topology: &Topology, name: &str) -> Option<Self> {
        let node = topology.node(name)?;
        let tree = match node.role {
            Role::Packet => packet_factory_tree(topology, name),
            Role::Optical => optical_factory_tree(topology, name),
        };
        Some(Self::new(name, node.role, tree))
    }

    pub fn models(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self.role {
            Role::Packet => schemas::PACKET_MODELS,
            Role::Optical => schemas::OPTICAL_MODELS,
        }
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    pub fn set_alive(&self, alive: bool) {
        self.alive.store(alive, Ordering::Release);
    }

    /// Bench only: SAMPLE subscriptions stream as fast as the subscriber reads.
    pub fn set_burst(&self, on: bool) {
        self.burst.store(on, Ordering::Relaxed);
    }

    pub fn burst(&self) -> bool {
        self.burst.load(Ordering::Relaxed)
    }

    /// Changes whenever the tree may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Back to the factory tree, as after a reboot that lost its configuration.
    pub fn wipe(&self) {
        let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
        *tree = self.factory.clone();
        self.generation.fetch_add(1, Ordering::Release);
        drop(tree);
        let root = Path::default();
        let _ = self.changes.send(Arc::new(vec![
            Change::Deleted(root.clone()),
            Change::Updated(root),
        ]));
    }

    pub fn subscribe_changes(&self) -> broadcast::Receiver<Arc<Vec<Change>>> {
        self.changes.subscribe()
    }

    /// Runs `f` with the tree read-locked. Never hold the lock across an await.
    pub fn read<R>(&self, f: impl FnOnce(&Tree) -> R) -> R {
        let tree = self.tree.read().unwrap_or_else(|e| e.into_inner());
        f(&tree)
    }

    /// Device-side writes (telemetry), published as one batch of changes.
    pub fn device_write(&self, f: impl FnOnce(&mut Tree) -> Vec<Change>) {
        let changes = {
            let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
            let changes = f(&mut tree);
            self.generation.fetch_add(1, Ordering::Release);
            changes
        };
        if !changes.is_empty() {
            let _ = self.changes.send(Arc::new(changes));
        }
    }

    /// A gNMI Set as one transaction: deletes, then replaces, then updates, all
    /// applied to a copy that replaces the live tree only if every operation
    /// succeeded (spec 3.4.3). A failure leaves the tree exactly as it was.
    pub fn apply_set(&self, req: &SetRequest) -> Result<SetResponse, SetError> {
        // A deposed master's Set never reaches the tree.
        let result = self.arbiter.admit(req).and_then(|()| self.try_apply(req));
        if result.is_ok() {
            self.set_log
                .record(req, || self.read(super::set_log::config_of));
        }
        match &result {
            Ok(_) => self.sets_applied.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.sets_rejected.fetch_add(1, Ordering::Relaxed),
        };
        result
    }

    fn try_apply(&self, req: &SetRequest) -> Result<SetResponse, SetError> {
        if !req.union_replace.is_empty() {
            return Err(tonic::Status::unimplemented(
                "union_replace is not supported by this target",
            ));
        }
        let prefix = req.prefix.as_ref();
        check_origin(prefix)?;
        let mut results = Vec::new();
        let mut changes = Vec::new();
        let mut live = self.tree.write().unwrap_or_else(|e| e.into_inner());
        let fail = |op: &str, path: &Path, e: TreeError| {
            tonic::Status::new(e.code(), format!("{op} {}: {e}", format_path(path)))
        };
        // Every operation is checked against the schema first; then all are
        // applied to a copy, the commit-time constraints (leafrefs, `when`)
        // are checked on the result, and only a valid result replaces the
        // live tree: a failed Set changes nothing (spec 3.4.3).
        let mut deletes = Vec::with_capacity(req.delete.len());
        for del in &req.delete {
            check_origin(Some(del))?;
            let path = join_prefix(prefix, del);
            deletes.push((
                del,
                path.clone(),
                live.prepare_delete(&path, Access::Client)
                    .map_err(|e| fail("delete", &path, e))?,
            ));
        }
        let mut writes = Vec::with_capacity(req.replace.len() + req.update.len());
        for (op, updates, replace) in [
            (update_result::Operation::Replace, &req.replace, true),
            (update_result::Operation::Update, &req.update, false),
        ] {
            let verb = if replace { "replace" } else { "update" };
            for upd in updates {
                let rel = upd.path.clone().unwrap_or_default();
                check_origin(Some(&rel))?;
                let path = join_prefix(prefix, &rel);
                let mut value = decode_update(upd).map_err(|e| {
                    tonic::Status::new(e.code(), format!("{verb} {}: {e}", format_path(&path)))
                })?;
                if let Some((at, len)) = oversized_leaf(&value, String::new()) {
                    return Err(tonic::Status::invalid_argument(format!(
                        "{verb} {}{at}: a value of {len} bytes is over the {MAX_LEAF_BYTES}-byte limit for one leaf",
                        format_path(&path)
                    )));
                }
                // A bare `42` or `true` sent for a string leaf meant that text.
                let string_leaf = live
                    .schema_at(&path)
                    .ok()
                    .and_then(|n| n.leaf_type())
                    .is_some_and(|t| matches!(t.base(), LeafType::String));
                if string_leaf && !value.is_string() {
                    if let Some(text) = raw_scalar_text(upd) {
                        value = serde_json::Value::String(text);
                    }
                }
                let prepared = live
                    .prepare_write_with(&path, &value, replace, Access::Client, names_of(upd))
                    .map_err(|e| fail(verb, &path, e))?;
                writes.push((rel, op, path, prepared));
            }
        }
        let mut tree = live.clone();
        for (del, path, prepared) in deletes {
            changes.extend(tree.apply_delete(prepared));
            // deleting config also withdraws its applied state copy
            tree.mirror_config(&path);
            results.push(result(del, update_result::Operation::Delete));
        }
        for (rel, op, path, prepared) in writes {
            changes.push(tree.apply_write(prepared));
            tree.mirror_config(&path);
            results.push(result(&rel, op));
        }
        derive_state(&mut tree);
        tree.check_constraints()
            .map_err(|e| tonic::Status::new(e.code(), format!("commit rejected: {e}")))?;
        *live = tree;
        self.generation.fetch_add(1, Ordering::Release);
        drop(live);
        if !changes.is_empty() {
            let _ = self.changes.send(Arc::new(changes));
        }
        Ok(SetResponse {
            prefix: req.prefix.clone(),
            response: results,
            timestamp: now_ns(),
            ..Default::default()
        })
    }
}

/// The first leaf (scalar or leaf-list) in `value` longer than
/// `MAX_LEAF_BYTES`: where it is below the update's path, and its length.
fn oversized_leaf(value: &serde_json::Value, at: String) -> Option<(String, usize)> {
    use serde_json::Value;
    match value {
        Value::Object(members) => members
            .iter()
            .find_map(|(k, v)| oversized_leaf(v, format!("{at}/{k}"))),
        Value::Array(items) if items.iter().any(Value::is_object) => {
            items.iter().find_map(|v| oversized_leaf(v, at.clone()))
        }
        // A leaf-list is one leaf: its entries count together.
        Value::Array(items) => {
            let len: usize = items.iter().map(scalar_len).sum();
            (len > MAX_LEAF_BYTES).then_some((at, len))
        }
        v => {
            let len = scalar_len(v);
            (len > MAX_LEAF_BYTES).then_some((at, len))
        }
    }
}

fn scalar_len(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::String(s) => s.len(),
        // Numbers and booleans are a few bytes; nesting is handled above.
        _ => 8,
    }
}

/// The operational leaves a device keeps for configured interfaces and
/// subinterfaces (the model makes admin-status and oper-status mandatory):
/// admin-status follows `enabled`; a new subinterface is as up as its port.
fn derive_state(tree: &mut Tree) {
    let Ok(found) = tree.find(&p("/interfaces/interface")) else {
        return;
    };
    // Paths are built from entry names clients chose: unparsable ones (none
    // should be, format_path escapes keys) are skipped, never a panic.
    let mut edits: Vec<(String, serde_json::Value)> = Vec::new();
    for f in found {
        let base = format_path(&f.path);
        let enabled = |v: &serde_json::Value| {
            v.pointer("/config/enabled")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true)
        };
        let admin = |on: bool| if on { "UP" } else { "DOWN" };
        let port_admin = admin(enabled(f.value));
        edits.push((format!("{base}/state/admin-status"), json!(port_admin)));
        let port_oper = f
            .value
            .pointer("/state/oper-status")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("DOWN")
            .to_string();
        if f.value.pointer("/state/oper-status").is_none() {
            edits.push((format!("{base}/state/oper-status"), json!("DOWN")));
        }
        let subs = f
            .value
            .pointer("/subinterfaces/subinterface")
            .and_then(serde_json::Value::as_object);
        for (key, sub) in subs.into_iter().flatten() {
            let Ok(index) = key.parse::<u32>() else {
                continue;
            };
            let sb = format!("{base}/subinterfaces/subinterface[index={index}]/state");
            let sub_admin = admin(enabled(sub));
            edits.push((format!("{sb}/admin-status"), json!(sub_admin)));
            let oper = if sub_admin == "UP" {
                port_oper.as_str()
            } else {
                "DOWN"
            };
            edits.push((format!("{sb}/oper-status"), json!(oper)));
        }
    }
    for (path, v) in edits {
        if let Ok(path) = parse_path(&path) {
            let _ = tree.set_leaf(&path, v);
        }
    }
}

/// JSON (RFC 7159) values follow no naming rule; everything else is held to
/// RFC 7951.
fn names_of(upd: &crate::proto::gnmi::Update) -> Names {
    use crate::proto::gnmi::{typed_value, Encoding};
    let plain = match upd.val.as_ref().and_then(|v| v.value.as_ref()) {
        Some(typed_value::Value::JsonVal(_)) => true,
        Some(_) => false,
        #[allow(deprecated)]
        None => upd
            .value
            .as_ref()
            .is_some_and(|v| v.r#type == Encoding::Json as i32),
    };
    if plain {
        Names::Plain
    } else {
        Names::Ietf
    }
}

fn result(path: &Path, op: update_result::Operation) -> UpdateResult {
    UpdateResult {
        path: Some(path.clone()),
        op: op as i32,
        ..Default::default()
    }
}

/// Only the OpenConfig origin is served; an unknown origin is an unknown path.
pub fn check_origin(path: Option<&Path>) -> Result<(), tonic::Status> {
    match path.map(|p| p.origin.as_str()) {
        None | Some("") | Some("openconfig") => Ok(()),
        Some(o) if o.starts_with("openconfig-") => Ok(()),
        Some(o) => Err(tonic::Status::not_found(format!(
            "origin {o:?} is not served by this target (use \"openconfig\")"
        ))),
    }
}

fn p(text: &str) -> Path {
    // Paths below are literals of this file; a typo is a programming error.
    parse_path(text).unwrap_or_else(|e| panic!("bad built-in path: {e}"))
}

fn seed(tree: &mut Tree, path: &str, value: serde_json::Value) {
    let path = p(path);
    if let Err(e) = tree.write(&path, &value, false, Access::Device) {
        panic!(
            "factory tree does not fit its schema at {}: {e}",
            format_path(&path)
        );
    }
    tree.mirror_config(&path);
}

/// A router's interfaces in a stable order (loopback, access ports, then
/// its packet links in topology order) with their speed in Gb/s. Position + 1
/// is the ifindex, so both ends of a link can name each other's.
pub fn packet_interfaces(topology: &Topology, name: &str) -> Vec<(String, u64)> {
    let mut ifaces: Vec<(String, u64)> = vec![("lo0".to_string(), 0)];
    if let Some(node) = topology.node(name) {
        ifaces.extend(node.access_interfaces.iter().map(|i| (i.clone(), 100)));
    }
    for link in topology.links_of(name) {
        if link.layer != Layer::Packet {
            continue;
        }
        let end = if link.a.node == name {
            &link.a
        } else {
            &link.b
        };
        ifaces.push((end.interface.clone(), link.capacity_gbps.round() as u64));
    }
    ifaces
}

/// The ifindex of `interface` on router `name`.
pub fn ifindex(topology: &Topology, name: &str, interface: &str) -> Option<u32> {
    packet_interfaces(topology, name)
        .iter()
        .position(|(i, _)| i == interface)
        .and_then(|i| u32::try_from(i + 1).ok())
}

pub use strata_core::model::isis_system_id;

pub const ISIS_PROTOCOL: &str =
    "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]";

fn packet_factory_tree(topology: &Topology, name: &str) -> Tree {
    let mut tree = Tree::new(schemas::packet_schema());
    for (i, (ifname, _speed)) in packet_interfaces(topology, name).into_iter().enumerate() {
        let kind = if ifname == "lo0" {
            "iana-if-type:softwareLoopback"
        } else {
            "iana-if-type:ethernetCsmacd"
        };
        seed(
            &mut tree,
            &format!("/interfaces/interface[name={ifname}]"),
            json!({
                "config": {"name": ifname, "enabled": true, "mtu": 9100, "type": kind},
                "state": {"ifindex": i + 1, "oper-status": "UP", "admin-status": "UP",
                          "counters": {"in-octets": 0, "out-octets": 0, "in-pkts": 0, "out-pkts": 0,
                                       "in-unicast-pkts": 0, "out-unicast-pkts": 0,
                                       "in-errors": 0, "out-errors": 0, "in-discards": 0, "out-discards": 0}}
            }),
        );
    }
    seed(
        &mut tree,
        "/lldp",
        json!({"config": {"enabled": true, "system-name": name}}),
    );
    for link in topology.links_of(name).filter(|l| l.layer == Layer::Packet) {
        let end = if link.a.node == name {
            &link.a
        } else {
            &link.b
        };
        seed(
            &mut tree,
            &format!("/lldp/interfaces/interface[name={}]", end.interface),
            json!({"config": {"name": end.interface, "enabled": true}}),
        );
    }
    let router_id = topology
        .node(name)
        .and_then(|n| n.router_id)
        .map(|r| r.to_string());
    let mut ni_config =
        json!({"name": "DEFAULT", "type": "openconfig-network-instance-types:DEFAULT_INSTANCE"});
    if let Some(r) = &router_id {
        ni_config["router-id"] = json!(r);
    }
    seed(
        &mut tree,
        "/network-instances/network-instance[name=DEFAULT]",
        json!({"config": ni_config}),
    );
    seed(
        &mut tree,
        ISIS_PROTOCOL,
        json!({"config": {"identifier": "openconfig-policy-types:ISIS", "name": "default", "enabled": true},
               "isis": {"levels": {"level": [{"level-number": 2, "config": {"level-number": 2}}]}}}),
    );
    tree
}

fn optical_factory_tree(topology: &Topology, name: &str) -> Tree {
    let mut tree = Tree::new(schemas::optical_schema());
    for link in topology.links_of(name) {
        if link.layer == Layer::Packet {
            continue;
        }
        let end = if link.a.node == name {
            &link.a
        } else {
            &link.b
        };
        let line = &end.interface;
        let (port, xcvr, och) = (
            format!("port-{line}"),
            format!("transceiver-{line}"),
            format!("och-{line}"),
        );
        let peer = link
            .peer_of(name)
            .map(|e| e.node.as_str())
            .unwrap_or("?")
            .to_string();
        seed(
            &mut tree,
            &format!("/components/component[name={port}]"),
            json!({"config": {"name": port},
                   "state": {"type": "openconfig-platform-types:PORT", "oper-status": "openconfig-platform-types:ACTIVE",
                             "description": format!("line port toward {peer}")},
                   "subcomponents": {"subcomponent": [{"name": xcvr, "config": {"name": xcvr}}]}}),
        );
        seed(
            &mut tree,
            &format!("/components/component[name={xcvr}]"),
            json!({"config": {"name": xcvr},
                   "state": {"type": "openconfig-platform-types:TRANSCEIVER", "oper-status": "openconfig-platform-types:ACTIVE",
                             "description": "400ZR QSFP-DD coherent module", "mfg-name": "Strata Sim",
                             "part-no": "SIM-400ZR-QDD", "serial-no": format!("SIM{:08X}", crate::simulators::physics::seed_of(&format!("{name}/{line}")) as u32)},
                   "openconfig-platform-transceiver:transceiver": {
                       "physical-channels": {"channel": [{"index": 1, "config": {"index": 1, "associated-optical-channel": och}}]}}}),
        );
        seed(
            &mut tree,
            &format!("/components/component[name={och}]"),
            json!({"config": {"name": och},
                   "state": {"type": "openconfig-transport-types:OPTICAL_CHANNEL", "oper-status": "openconfig-platform-types:INACTIVE"},
                   "openconfig-terminal-device:optical-channel": {"config": {"line-port": port}}}),
        );
        seed(
            &mut tree,
            &format!("/interfaces/interface[name={line}]"),
            json!({"config": {"name": line, "type": "iana-if-type:opticalChannel", "enabled": true},
                   "state": {"admin-status": "UP", "oper-status": "DOWN",
                             "openconfig-platform-port:hardware-port": port}}),
        );
    }
    for (id, description) in operational_modes() {
        seed(
            &mut tree,
            &format!("/terminal-device/operational-modes/mode[mode-id={id}]"),
            json!({"state": {"mode-id": id, "description": description, "vendor-id": "strata-sim"}}),
        );
    }
    tree
}
