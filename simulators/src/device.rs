//! One simulated device: its data tree, transactional Set, and the change feed
//! that ON_CHANGE subscriptions listen to. No sockets here (see `server`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde_json::json;
use tokio::sync::broadcast;

use super::schemas::{self, OPERATIONAL_MODES};
use crate::gnmi::tree::{Access, Change, Tree, TreeError};
use crate::gnmi::value::decode_update;
use crate::gnmi::{format_path, join_prefix, parse_path};
use crate::model::{Layer, Role, Topology};
use crate::proto::gnmi::{update_result, Path, SetRequest, SetResponse, UpdateResult};

/// Capacity of a device's change feed; a subscriber that lags further behind
/// re-reads its paths instead of replaying changes.
const CHANGE_FEED_DEPTH: usize = 1024;

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
    pub(crate) set_log: super::set_log::SetLog,
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
            set_log: Default::default(),
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
        let result = self.try_apply(req);
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
        let mut tree = self.tree.write().unwrap_or_else(|e| e.into_inner());
        let fail = |op: &str, path: &Path, e: TreeError| {
            tonic::Status::new(e.code(), format!("{op} {}: {e}", format_path(path)))
        };
        // Check every operation first; only then apply them all in place, so a
        // failed Set changes nothing and a good one copies nothing.
        let mut deletes = Vec::with_capacity(req.delete.len());
        for del in &req.delete {
            check_origin(Some(del))?;
            let path = join_prefix(prefix, del);
            deletes.push((
                del,
                path.clone(),
                tree.prepare_delete(&path, Access::Client)
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
                let value = decode_update(upd).map_err(|e| {
                    tonic::Status::new(e.code(), format!("{verb} {}: {e}", format_path(&path)))
                })?;
                let prepared = tree
                    .prepare_write(&path, &value, replace, Access::Client)
                    .map_err(|e| fail(verb, &path, e))?;
                writes.push((rel, op, path, prepared));
            }
        }
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
        self.generation.fetch_add(1, Ordering::Release);
        drop(tree);
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

fn packet_factory_tree(topology: &Topology, name: &str) -> Tree {
    let mut tree = Tree::new(schemas::packet_schema());
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
    for (ifname, speed) in ifaces {
        let kind = if ifname == "lo0" {
            "softwareLoopback"
        } else {
            "ethernetCsmacd"
        };
        seed(
            &mut tree,
            &format!("/interfaces/interface[name={ifname}]"),
            json!({
                "config": {"name": ifname, "enabled": true, "mtu": 9100, "type": kind},
                "state": {"oper-status": "UP", "admin-status": "UP", "speed-gbps": speed,
                          "counters": {"in-octets": 0, "out-octets": 0, "in-pkts": 0, "out-pkts": 0,
                                       "in-unicast-pkts": 0, "out-unicast-pkts": 0,
                                       "in-errors": 0, "out-errors": 0, "in-discards": 0, "out-discards": 0}}
            }),
        );
    }
    seed(
        &mut tree,
        "/network-instances/network-instance[name=DEFAULT]",
        json!({"config": {"name": "DEFAULT", "type": "DEFAULT_INSTANCE"}}),
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
        let port = &end.interface;
        seed(
            &mut tree,
            &format!("/components/component[name=port-{port}]"),
            json!({"config": {"name": format!("port-{port}"), "description": format!("line port toward {}", link.peer_of(name).map(|e| e.node.as_str()).unwrap_or("?"))},
                   "state": {"type": "PORT", "oper-status": "ACTIVE"}}),
        );
        seed(
            &mut tree,
            &format!("/components/component[name=och-{port}]"),
            json!({"config": {"name": format!("och-{port}")},
                   "state": {"type": "OPTICAL_CHANNEL", "oper-status": "INACTIVE"},
                   "optical-channel": {"config": {"line-port": format!("port-{port}")}}}),
        );
    }
    for (id, description) in OPERATIONAL_MODES {
        seed(
            &mut tree,
            &format!("/terminal-device/operational-modes/mode[mode-id={id}]"),
            json!({"state": {"mode-id": id, "description": description, "vendor-id": "strata-sim"}}),
        );
    }
    tree
}
