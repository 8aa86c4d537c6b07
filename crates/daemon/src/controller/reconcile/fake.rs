//! A device for tests that needs no simulator: its configuration is one
//! RFC 7951 document from the root, Sets edit it (deletes, replaces, updates,
//! all or nothing), Gets read it. Its documents are what
//! `/work/val.sh`-style validation against the published models reads.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use crate::controller::programmer::Programmer;
use crate::gnmi::join_prefix;
use crate::model::{Role, Topology};
use crate::proto::gnmi::{
    typed_value, GetRequest, GetResponse, Notification, Path, SetRequest, TypedValue, Update,
};
use crate::southbound::SouthboundError;

/// Namespaces of the top-level containers, and of the nodes inside them
/// that another module augments in.
fn qualified(parent_is_root: bool, name: &str) -> String {
    let module = match (parent_is_root, name) {
        (true, "interfaces") => "openconfig-interfaces",
        (true, "network-instances") => "openconfig-network-instance",
        (true, "components") => "openconfig-platform",
        (true, "terminal-device") => "openconfig-terminal-device",
        (false, "optical-channel") => "openconfig-terminal-device",
        (false, "transceiver") => "openconfig-platform-transceiver",
        (false, "vlan") => "openconfig-vlan",
        _ => return name.to_string(),
    };
    format!("{module}:{name}")
}

fn bare(k: &str) -> &str {
    k.rsplit_once(':').map_or(k, |(_, n)| n)
}

fn key_of(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| bare(k) == name).cloned()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

const LIST_KEYS: &[&str] = &[
    "name",
    "index",
    "id",
    "evi",
    "sequence-id",
    "policy-id",
    "mode-id",
];

fn same_entry(a: &Value, b: &Value) -> bool {
    LIST_KEYS.iter().any(|k| {
        match (
            a.get(*k)
                .or_else(|| a.as_object().and_then(|o| o.get(&qualified(false, k)))),
            b.get(*k),
        ) {
            (Some(x), Some(y)) => text(x) == text(y),
            _ => false,
        }
    })
}

fn merge(into: &mut Value, value: Value) {
    match (into, value) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let key = key_of(a, bare(&k)).unwrap_or(k);
                merge(a.entry(key).or_insert(Value::Null), v);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for v in b {
                match a.iter_mut().find(|e| same_entry(e, &v)) {
                    Some(e) => merge(e, v),
                    None => a.push(v),
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// The node at `path`, created (with list keys) if `create`.
fn node<'a>(root: &'a mut Value, path: &Path, create: bool) -> Option<&'a mut Value> {
    let mut at = root;
    let mut parent_is_root = true;
    for e in &path.elem {
        let obj = at.as_object_mut()?;
        let key = match key_of(obj, &e.name) {
            Some(k) => k,
            None if create => qualified(parent_is_root, &e.name),
            None => return None,
        };
        parent_is_root = false;
        let slot = obj.entry(key).or_insert_with(|| {
            if e.key.is_empty() {
                json!({})
            } else {
                json!([])
            }
        });
        if e.key.is_empty() {
            at = slot;
            continue;
        }
        let list = slot.as_array_mut()?;
        let pos = list.iter().position(|entry| {
            e.key
                .iter()
                .all(|(k, v)| entry.get(k).map(text).as_deref() == Some(v.as_str()))
        });
        let pos = match pos {
            Some(p) => p,
            None if create => {
                list.push(Value::Object(
                    e.key
                        .iter()
                        .map(|(k, v)| {
                            // Numeric keys are numbers unless 64-bit (strings).
                            let v = match v.parse::<u32>() {
                                Ok(n) if !matches!(k.as_str(), "evi") => json!(n),
                                _ => json!(v),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                ));
                list.len() - 1
            }
            None => return None,
        };
        at = &mut list[pos];
    }
    Some(at)
}

fn remove(root: &mut Value, path: &Path) {
    let Some((last, parent)) = path.elem.split_last() else {
        *root = json!({});
        return;
    };
    let parent_path = Path {
        elem: parent.to_vec(),
        ..Default::default()
    };
    let Some(Value::Object(obj)) = node(root, &parent_path, false) else {
        return;
    };
    let Some(key) = key_of(obj, &last.name) else {
        return;
    };
    if last.key.is_empty() {
        obj.remove(&key);
    } else if let Some(Value::Array(list)) = obj.get_mut(&key) {
        list.retain(|entry| {
            !last
                .key
                .iter()
                .all(|(k, v)| entry.get(k).map(text).as_deref() == Some(v.as_str()))
        });
    }
}

fn value_of(u: &Update) -> Result<Value, String> {
    match u.val.as_ref().and_then(|v| v.value.as_ref()) {
        Some(typed_value::Value::JsonIetfVal(b)) => {
            serde_json::from_slice(b).map_err(|e| e.to_string())
        }
        _ => Err("not JSON_IETF".into()),
    }
}

/// Drops `state` containers (and the state-only mode list): what a Config
/// Get returns.
pub fn config_only(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !matches!(bare(k), "state" | "operational-modes"))
                .map(|(k, v)| (k.clone(), config_only(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(config_only).collect()),
        v => v.clone(),
    }
}

pub struct Device {
    pub tree: Value,
    factory: Value,
    pub sets: usize,
}

impl Device {
    fn apply(&mut self, req: &SetRequest) -> Result<(), String> {
        let mut tree = self.tree.clone();
        let prefix = req.prefix.as_ref();
        for p in &req.delete {
            let p = join_prefix(prefix, p);
            if p.elem.is_empty() {
                return Err("root delete".into());
            }
            remove(&mut tree, &p);
        }
        for u in &req.replace {
            let p = join_prefix(prefix, &u.path.clone().unwrap_or_default());
            let v = value_of(u)?;
            let slot = node(&mut tree, &p, true).ok_or("bad path")?;
            // Keys stay as the path says; the rest is the value's.
            let keys: Map<String, Value> = slot
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| p.elem.last().is_some_and(|e| e.key.contains_key(*k)))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            *slot = Value::Object(keys);
            merge(slot, v);
        }
        for u in &req.update {
            let p = join_prefix(prefix, &u.path.clone().unwrap_or_default());
            let v = value_of(u)?;
            merge(node(&mut tree, &p, true).ok_or("bad path")?, v);
        }
        self.tree = tree;
        self.sets += 1;
        Ok(())
    }

    pub fn wipe(&mut self) {
        self.tree = self.factory.clone();
    }

    /// The whole configuration, as a Config Get of the root would return it.
    pub fn config(&self) -> Value {
        config_only(&self.tree)
    }
}

/// What a device of `role` boots with: its interfaces, the DEFAULT instance,
/// and on a transponder the components behind each line interface.
fn factory(topology: &Topology, name: &str) -> Value {
    let Some(n) = topology.node(name) else {
        return json!({});
    };
    // Packet nodes also have the customer-facing port the tests attach to.
    let mut names = n.interfaces.clone();
    if n.role == Role::Packet && !names.iter().any(|i| i == "ce-0/1/0") {
        names.push("ce-0/1/0".into());
    }
    let ifaces: Vec<Value> = names
        .iter()
        .map(|i| {
            let mut v = json!({"name": i, "config": {"name": i,
                "type": "iana-if-type:ethernetCsmacd", "enabled": true}});
            if n.role == Role::Optical {
                v["state"] = json!({"hardware-port": format!("port-{i}")});
            }
            v
        })
        .collect();
    match n.role {
        Role::Packet => json!({
            "openconfig-interfaces:interfaces": {"interface": ifaces},
            "openconfig-network-instance:network-instances": {"network-instance": [
                {"name": "DEFAULT", "config": {"name": "DEFAULT",
                 "type": "openconfig-network-instance-types:DEFAULT_INSTANCE"}}
            ]}
        }),
        Role::Optical => {
            let mut comps = Vec::new();
            for i in &n.interfaces {
                let (port, xcvr, och) = (
                    format!("port-{i}"),
                    format!("transceiver-{i}"),
                    format!("och-{i}"),
                );
                comps.push(json!({"name": port, "config": {"name": port},
                    "state": {"type": "openconfig-platform-types:PORT"},
                    "subcomponents": {"subcomponent": [{"name": xcvr, "config": {"name": xcvr}}]}}));
                comps.push(json!({"name": xcvr, "config": {"name": xcvr},
                    "state": {"type": "openconfig-platform-types:TRANSCEIVER"}}));
                comps.push(json!({"name": och, "config": {"name": och},
                    "state": {"type": "openconfig-transport-types:OPTICAL_CHANNEL"},
                    "openconfig-terminal-device:optical-channel": {
                        "config": {"line-port": port}, "state": {"line-port": port}}}));
            }
            let modes: Vec<Value> = (1..=4)
                .map(|m| json!({"mode-id": m, "state": {"mode-id": m}}))
                .collect();
            json!({
                "openconfig-interfaces:interfaces": {"interface": ifaces},
                "openconfig-platform:components": {"component": comps},
                "openconfig-terminal-device:terminal-device": {
                    "operational-modes": {"mode": modes}
                }
            })
        }
    }
}

pub struct Devices(pub HashMap<String, Mutex<Device>>);

impl Devices {
    pub fn of(topology: &Topology) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Devices(
            topology
                .nodes
                .iter()
                .map(|n| {
                    let f = factory(topology, &n.name);
                    (
                        n.name.clone(),
                        Mutex::new(Device {
                            tree: f.clone(),
                            factory: f,
                            sets: 0,
                        }),
                    )
                })
                .collect(),
        ))
    }

    pub fn with<R>(&self, name: &str, f: impl FnOnce(&mut Device) -> R) -> R {
        let mut d = self.0[name].lock().unwrap_or_else(|e| e.into_inner());
        f(&mut d)
    }

    pub fn config(&self, name: &str) -> Value {
        self.with(name, |d| d.config())
    }
}

fn refused(device: &str, code: tonic::Code, message: String) -> SouthboundError {
    SouthboundError::Rejected {
        device: device.to_string(),
        code,
        message,
    }
}

#[tonic::async_trait]
impl Programmer for Devices {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        self.with(device, |d| d.apply(&req))
            .map_err(|m| refused(device, tonic::Code::InvalidArgument, m))
    }

    async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        let config = req.r#type == crate::proto::gnmi::get_request::DataType::Config as i32;
        let update = self.with(device, |d| {
            req.path
                .iter()
                .filter_map(|p| {
                    let mut tree = d.tree.clone();
                    let v = node(&mut tree, p, false)?.clone();
                    let v = if config { config_only(&v) } else { v };
                    Some(Update {
                        path: Some(p.clone()),
                        val: Some(TypedValue {
                            value: Some(typed_value::Value::JsonIetfVal(
                                serde_json::to_vec(&v).unwrap_or_default(),
                            )),
                        }),
                        ..Default::default()
                    })
                })
                .collect::<Vec<_>>()
        });
        if update.is_empty() {
            return Err(refused(
                device,
                tonic::Code::NotFound,
                "nothing there".into(),
            ));
        }
        Ok(GetResponse {
            notification: vec![Notification {
                update,
                ..Default::default()
            }],
            ..Default::default()
        })
    }
}
