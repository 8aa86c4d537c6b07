//! Device facts Strata discovers instead of assuming: which components sit
//! behind a transponder's line interface, and which operational modes it
//! supports. One Get per line interface, cached for the device's session.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::gnmi::join_prefix;
use crate::proto::gnmi::{get_request::DataType, typed_value, Encoding, GetRequest, GetResponse};
use crate::render::json::{config_leaf, entries, field, identity, text};
use crate::render::openconfig::optical::LinePort;
use crate::render::openconfig::{component, components, interface, terminal_device};
use crate::render::Path;

use super::request::{gnmi_path, RequestError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FactsError {
    #[error("device {device}: interface {interface} reports no hardware-port")]
    NoPort { device: String, interface: String },
    #[error(
        "device {device}: port {port} (interface {interface}) has no TRANSCEIVER subcomponent"
    )]
    NoTransceiver {
        device: String,
        interface: String,
        port: String,
    },
    #[error("device {device}: no OPTICAL_CHANNEL component has line-port {port} (interface {interface})")]
    NoOpticalChannel {
        device: String,
        interface: String,
        port: String,
    },
    #[error("device {device}: {0}", device = .1)]
    Request(RequestError, String),
}

fn hardware_port(ifname: &str) -> Path {
    interface(ifname).child("state").child("hardware-port")
}

fn operational_modes() -> Path {
    terminal_device().child("operational-modes")
}

/// The one Get that answers everything about `ifname`.
pub fn request(device: &str, ifname: &str) -> Result<GetRequest, FactsError> {
    let paths = [hardware_port(ifname), components(), operational_modes()]
        .iter()
        .map(|p| gnmi_path(p, "get"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FactsError::Request(e, device.to_string()))?;
    Ok(GetRequest {
        path: paths,
        r#type: DataType::All as i32,
        encoding: Encoding::JsonIetf as i32,
        ..Default::default()
    })
}

/// The member `name` of `obj` (qualified or not), created if absent.
fn member<'a>(obj: &'a mut Map<String, Value>, name: &str) -> &'a mut Value {
    let key = obj
        .keys()
        .find(|k| k.as_str() == name || k.rsplit_once(':').is_some_and(|(_, n)| n == name))
        .cloned()
        .unwrap_or_else(|| name.to_string());
    obj.entry(key).or_insert(Value::Null)
}

fn merge(into: &mut Value, value: Value) {
    match (into, value) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let name = k
                    .rsplit_once(':')
                    .map_or(k.as_str(), |(_, n)| n)
                    .to_string();
                merge(member(a, &name), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Puts a Get answer (`value` at `path`) into one document from the root, so
/// answers rooted at any depth read alike.
fn graft(root: &mut Value, path: &crate::proto::gnmi::Path, value: Value) {
    let mut at = root;
    for e in &path.elem {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let Value::Object(obj) = at else { return };
        let slot = member(obj, &e.name);
        if e.key.is_empty() {
            at = slot;
            continue;
        }
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let Value::Array(list) = slot else { return };
        let pos = list.iter().position(|entry| {
            e.key
                .iter()
                .all(|(k, v)| field(entry, k).map(text).as_deref() == Some(v.as_str()))
        });
        let pos = pos.unwrap_or_else(|| {
            let keys: Map<String, Value> = e
                .key
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            list.push(Value::Object(keys));
            list.len() - 1
        });
        at = &mut list[pos];
    }
    merge(at, value);
}

fn decode(v: &typed_value::Value) -> Option<Value> {
    use typed_value::Value as V;
    match v {
        V::JsonIetfVal(b) | V::JsonVal(b) => serde_json::from_slice(b).ok(),
        V::StringVal(s) => Some(Value::String(s.clone())),
        V::UintVal(u) => Some(Value::from(*u)),
        V::IntVal(i) => Some(Value::from(*i)),
        V::BoolVal(b) => Some(Value::Bool(*b)),
        _ => None,
    }
}

/// Every update of a Get response in one document from the root.
pub fn document(resp: &GetResponse) -> Value {
    let mut root = Value::Object(Map::new());
    for n in &resp.notification {
        for u in &n.update {
            let (Some(path), Some(val)) = (&u.path, u.val.as_ref().and_then(|v| v.value.as_ref()))
            else {
                continue;
            };
            if let Some(value) = decode(val) {
                graft(&mut root, &join_prefix(n.prefix.as_ref(), path), value);
            }
        }
    }
    root
}

/// Walks `doc` along a render path (list entries matched by key).
fn at<'a>(doc: &'a Value, path: &Path) -> Option<&'a Value> {
    let mut v = doc;
    for e in &path.elems {
        v = field(v, &e.name)?;
        if !e.keys.is_empty() {
            v = v.as_array()?.iter().find(|entry| {
                e.keys
                    .iter()
                    .all(|(k, want)| field(entry, k).map(text).as_deref() == Some(want.as_str()))
            })?;
        }
    }
    Some(v)
}

fn state_leaf(obj: &Value, leaf: &str) -> Option<String> {
    field(obj, "state").and_then(|s| field(s, leaf)).map(text)
}

fn is_type(c: &Value, ty: &str, container: &str) -> bool {
    match state_leaf(c, "type") {
        Some(t) => identity(&t) == ty,
        // A device that leaves the type out still shows what the component is.
        None => field(c, container).is_some(),
    }
}

/// Reads the line port's components and the device's modes out of a Get.
pub fn parse(device: &str, ifname: &str, resp: &GetResponse) -> Result<LinePort, FactsError> {
    let doc = document(resp);
    let port = at(&doc, &hardware_port(ifname))
        .map(text)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| FactsError::NoPort {
            device: device.to_string(),
            interface: ifname.to_string(),
        })?;
    let all: Vec<&Value> = entries(at(&doc, &components()), "component").collect();
    let transceiver = at(&doc, &component(&port))
        .map(|p| entries(field(p, "subcomponents"), "subcomponent"))
        .into_iter()
        .flatten()
        .filter_map(|s| field(s, "name").map(text))
        .find(|name| {
            all.iter().any(|c| {
                field(c, "name").map(text).as_deref() == Some(name)
                    && is_type(c, "TRANSCEIVER", "transceiver")
            })
        })
        .ok_or_else(|| FactsError::NoTransceiver {
            device: device.to_string(),
            interface: ifname.to_string(),
            port: port.clone(),
        })?;
    let optical_channel = all
        .iter()
        .filter(|c| is_type(c, "OPTICAL_CHANNEL", "optical-channel"))
        .find(|c| {
            field(c, "optical-channel").is_some_and(|o| {
                state_leaf(o, "line-port")
                    .or_else(|| config_leaf(o, "line-port"))
                    .as_deref()
                    == Some(port.as_str())
            })
        })
        .and_then(|c| field(c, "name").map(text))
        .ok_or_else(|| FactsError::NoOpticalChannel {
            device: device.to_string(),
            interface: ifname.to_string(),
            port: port.clone(),
        })?;
    let modes = entries(at(&doc, &operational_modes()), "mode")
        .filter_map(|m| field(m, "mode-id").map(text)?.parse().ok())
        .collect();
    Ok(LinePort {
        interface: ifname.to_string(),
        port,
        transceiver,
        optical_channel,
        modes,
    })
}

/// One device's facts: the session they were read in, by interface.
type SessionFacts = (u64, HashMap<String, LinePort>);

/// Facts per device, valid for one session: a reconnect may be to a device
/// that was re-cabled or replaced, so facts from before it are dropped.
#[derive(Default)]
pub struct FactsCache {
    /// device → (session number, interface → facts).
    devices: Mutex<HashMap<String, SessionFacts>>,
}

impl FactsCache {
    pub fn get(&self, device: &str, session: u64, ifname: &str) -> Option<LinePort> {
        let devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        let (s, ports) = devices.get(device)?;
        (*s == session).then(|| ports.get(ifname).cloned())?
    }

    /// The interface whose optical channel is `component`.
    pub fn interface_of(&self, device: &str, session: u64, component: &str) -> Option<String> {
        let devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        let (s, ports) = devices.get(device)?;
        if *s != session {
            return None;
        }
        ports
            .values()
            .find(|f| f.optical_channel == component)
            .map(|f| f.interface.clone())
    }

    pub fn put(&self, device: &str, session: u64, facts: LinePort) {
        let mut devices = self.devices.lock().unwrap_or_else(|e| e.into_inner());
        let entry = devices
            .entry(device.to_string())
            .or_insert_with(|| (session, HashMap::new()));
        if entry.0 != session {
            *entry = (session, HashMap::new());
        }
        entry.1.insert(facts.interface.clone(), facts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::gnmi::{Notification, TypedValue, Update};

    fn answer(parts: &[(&str, Value)]) -> GetResponse {
        GetResponse {
            notification: vec![Notification {
                update: parts
                    .iter()
                    .map(|(p, v)| Update {
                        path: Some(crate::gnmi::parse_path(p).unwrap()),
                        val: Some(TypedValue {
                            value: Some(typed_value::Value::JsonIetfVal(
                                serde_json::to_vec(v).unwrap(),
                            )),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn ot_state() -> Value {
        serde_json::from_str(include_str!(
            "../../../../tests/conformance/examples/ot-state.json"
        ))
        .unwrap()
    }

    #[test]
    fn the_documented_transponder_names_its_line_components() {
        let state = ot_state();
        let resp = answer(&[
            (
                "/interfaces/interface[name=line-1]/state/hardware-port",
                Value::String("port-line-1".into()),
            ),
            ("/", state),
        ]);
        let facts = parse("ot1", "line-1", &resp).unwrap();
        assert_eq!(
            facts,
            LinePort {
                interface: "line-1".into(),
                port: "port-line-1".into(),
                transceiver: "transceiver-line-1".into(),
                optical_channel: "och-line-1".into(),
                modes: vec![1],
            }
        );
    }

    #[test]
    fn missing_facts_are_named() {
        let resp = answer(&[("/components", serde_json::json!({"component": []}))]);
        let err = parse("ot1", "line-1", &resp).unwrap_err();
        assert_eq!(
            err.to_string(),
            "device ot1: interface line-1 reports no hardware-port"
        );
        let resp = answer(&[(
            "/interfaces/interface[name=line-1]/state",
            serde_json::json!({"hardware-port": "port-line-1"}),
        )]);
        let err = parse("ot1", "line-1", &resp).unwrap_err();
        assert!(err.to_string().contains("port port-line-1"), "{err}");
    }

    #[test]
    fn facts_last_one_session() {
        let cache = FactsCache::default();
        let f = LinePort {
            interface: "line-1".into(),
            port: "p".into(),
            transceiver: "t".into(),
            optical_channel: "o".into(),
            modes: vec![],
        };
        cache.put("ot1", 1, f.clone());
        assert_eq!(cache.get("ot1", 1, "line-1"), Some(f.clone()));
        assert_eq!(cache.get("ot1", 2, "line-1"), None);
        cache.put("ot1", 2, f);
        assert!(cache.get("ot1", 1, "line-1").is_none());
    }
}
