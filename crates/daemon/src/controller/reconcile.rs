//! Reconciliation, kube-style: what Strata wants on a device (rendered from
//! its intents) against what the device holds (a gNMI Get), and the one Set
//! that closes the gap — push what is missing or different, remove what
//! Strata owns but no longer wants, leave everyone else's configuration alone.
//!
//! `diff` is the pure core; `Controller::reconcile_device` does the I/O. It
//! runs on start-up, whenever a device's session comes up (a device that
//! restarted empty gets everything back), and periodically.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::programmer::DeviceChange;
use super::Controller;
use crate::gnmi::parse_path;
use crate::model::Role;
use crate::proto::gnmi::{get_request::DataType, typed_value, Encoding, GetRequest};
use crate::render::{self, ConfigItem, OWNER};

/// The subtrees Strata writes into, per device role: one Get covers them.
pub fn containers(role: Role) -> &'static [&'static str] {
    match role {
        Role::Packet => &["/network-instances", "/interfaces"],
        Role::Optical => &["/components", "/terminal-device"],
    }
}

/// A field of a JSON_IETF object, with or without its module prefix.
fn field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.rsplit_once(':').is_some_and(|(_, n)| n == name))
            .map(|(_, v)| v)
    })
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Leaf values compare as text: JSON_IETF carries 64-bit numbers as strings
/// and identities with or without their module prefix.
fn same_leaf(want: &Value, have: &Value) -> bool {
    let (w, h) = (text(want), text(have));
    w == h || h.rsplit_once(':').is_some_and(|(_, n)| n == w)
}

/// Everything in `want` is in `have` (the device may hold more: defaults,
/// state, leaves someone else set).
pub fn contains(have: &Value, want: &Value) -> bool {
    match want {
        Value::Object(w) => w
            .iter()
            .all(|(k, wv)| field(have, k).is_some_and(|hv| contains(hv, wv))),
        Value::Array(items) => match have {
            Value::Array(have_items) => items
                .iter()
                .all(|wi| have_items.iter().any(|hi| contains(hi, wi))),
            _ => false,
        },
        leaf => !have.is_null() && same_leaf(leaf, have),
    }
}

/// The value at `path` inside `root`, the value of the container at `base`.
pub fn locate<'a>(root: &'a Value, base: &str, path: &str) -> Option<&'a Value> {
    Locator::default().locate(root, base, path)
}

/// Finds list entries by key, indexing each list the first time it is
/// searched, so reconciling N items against N entries is linear, not N².
/// A list's entries by their key values.
type KeyIndex<'a> = std::collections::HashMap<Vec<String>, &'a Value>;

#[derive(Default)]
struct Locator<'a> {
    /// (address of the list, its key names) → index.
    lists: std::collections::HashMap<(usize, Vec<String>), KeyIndex<'a>>,
}

impl<'a> Locator<'a> {
    fn locate(&mut self, root: &'a Value, base: &str, path: &str) -> Option<&'a Value> {
        let base = parse_path(base).ok()?;
        let path = parse_path(path).ok()?;
        let rest = path.elem.strip_prefix(base.elem.as_slice())?;
        let mut at = root;
        for elem in rest {
            at = field(at, &elem.name)?;
            if !elem.key.is_empty() {
                let mut names: Vec<String> = elem.key.keys().cloned().collect();
                names.sort();
                let wanted: Vec<String> = names.iter().map(|k| elem.key[k].clone()).collect();
                let list = at.as_array()?;
                let index = self
                    .lists
                    .entry((list.as_ptr() as usize, names.clone()))
                    .or_insert_with(|| {
                        list.iter()
                            .map(|entry| {
                                let key = names
                                    .iter()
                                    .map(|k| field(entry, k).map(text).unwrap_or_default())
                                    .collect();
                                (key, entry)
                            })
                            .collect()
                    });
                at = index.get(&wanted)?;
            }
        }
        Some(at)
    }
}

fn entries<'a>(v: Option<&'a Value>, list: &str) -> impl Iterator<Item = &'a Value> {
    v.and_then(|v| field(v, list))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn owned(entry: &Value) -> bool {
    field(entry, "config")
        .and_then(|c| field(c, "owner"))
        .is_some_and(|o| text(o) == OWNER)
}

/// Paths of configuration Strata created that is on the device, with what
/// to write first when removing it (a transponder is untuned, not deleted).
fn owned_objects(observed: &[(String, Value)]) -> Vec<(String, Vec<ConfigItem>)> {
    let mut out = Vec::new();
    for (base, root) in observed {
        match base.as_str() {
            "/network-instances" => {
                for ni in entries(Some(root), "network-instance") {
                    let name = field(ni, "name").map(text).unwrap_or_default();
                    if owned(ni) {
                        out.push((
                            format!("/network-instances/network-instance[name={name}]"),
                            vec![],
                        ));
                    }
                    let policies =
                        field(ni, "segment-routing").and_then(|s| field(s, "te-policies"));
                    for p in entries(policies, "te-policy").filter(|p| owned(p)) {
                        let color = field(p, "color").map(text).unwrap_or_default();
                        let endpoint = field(p, "endpoint").map(text).unwrap_or_default();
                        if let Ok(color) = color.parse() {
                            out.push((render::sr_policy_path(color, &endpoint), vec![]));
                        }
                    }
                }
            }
            "/interfaces" => {
                for i in entries(Some(root), "interface") {
                    let name = field(i, "name").map(text).unwrap_or_default();
                    for s in entries(field(i, "subinterfaces"), "subinterface") {
                        let ours = field(s, "config")
                            .and_then(|c| field(c, "description"))
                            .is_some_and(|d| text(d).ends_with(&format!("({OWNER})")));
                        let index = field(s, "index").map(text).unwrap_or_default();
                        if let (true, Ok(index)) = (ours, index.parse()) {
                            out.push((render::subinterface_path(&name, index), vec![]));
                        }
                    }
                }
            }
            "/terminal-device" => {
                for lc in entries(field(root, "logical-channels"), "channel").filter(|c| owned(c)) {
                    let Ok(index) = field(lc, "index").map(text).unwrap_or_default().parse() else {
                        continue;
                    };
                    let ports: Vec<String> =
                        entries(field(lc, "logical-channel-assignments"), "assignment")
                            .filter_map(|a| {
                                field(a, "config").and_then(|c| field(c, "optical-channel"))
                            })
                            .filter_map(|och| text(och).strip_prefix("och-").map(str::to_string))
                            .collect();
                    let mut untune = Vec::new();
                    for port in ports {
                        untune.extend(render::optical_channel_delete(&port, index).0);
                    }
                    out.push((render::logical_channel_path(index), untune));
                }
            }
            _ => {}
        }
    }
    out
}

/// The Set that brings a device from `observed` (container path → config
/// JSON) to `desired`. Empty when they agree.
pub fn diff(desired: &[ConfigItem], observed: &[(String, Value)]) -> DeviceChange {
    let mut change = DeviceChange::default();
    let wanted: BTreeSet<&str> = desired.iter().map(|i| i.path.as_str()).collect();
    for (path, untune) in owned_objects(observed) {
        if !wanted.contains(path.as_str()) {
            // Untuning a port a wanted channel also uses would undo it.
            change.replace.extend(
                untune
                    .into_iter()
                    .filter(|u| !wanted.contains(u.path.as_str())),
            );
            change.delete.push(path);
        }
    }
    let mut locator = Locator::default();
    for item in desired {
        let have = observed
            .iter()
            .find_map(|(base, root)| locator.locate(root, base, &item.path));
        if !have.is_some_and(|h| contains(h, &item.value)) {
            change.replace.push(item.clone());
        }
    }
    change
}

impl Controller {
    /// Everything Strata wants on `device`, rendered from its intents.
    pub fn desired_config(&self, device: &str) -> Vec<ConfigItem> {
        let inner = self.read();
        let mut items = Vec::new();
        for p in inner.policies.values().filter(|p| p.headend == device) {
            items.push(p.config());
        }
        for s in inner.services.values() {
            items.extend(s.config_on(device));
        }
        for w in inner.wavelengths.values() {
            for (node, port, lc) in w.ends() {
                if node == device {
                    items.extend(w.channel_config(port, lc));
                }
            }
        }
        items
    }

    /// Brings one device to what Strata wants. A create half-way through is
    /// already in the desired state (staged objects are), so its config is
    /// never mistaken for configuration to remove. Takes its turn with
    /// reroutes, never with the API. Returns the change made.
    pub async fn reconcile_device(&self, device: &str) -> Result<DeviceChange, String> {
        let _turn = self.reroutes.lock().await;
        let started = std::time::Instant::now();
        let role = self
            .read()
            .topology
            .node(device)
            .map(|n| n.role)
            .ok_or_else(|| format!("unknown device {device}"))?;
        let desired = self.desired_config(device);
        let mut observed = Vec::new();
        for base in containers(role) {
            let req = GetRequest {
                path: vec![parse_path(base).map_err(|e| e.to_string())?],
                r#type: DataType::Config as i32,
                encoding: Encoding::JsonIetf as i32,
                ..Default::default()
            };
            let value = match self.programmer.get(device, req).await {
                Ok(resp) => resp
                    .notification
                    .iter()
                    .flat_map(|n| &n.update)
                    .find_map(|u| match u.val.as_ref()?.value.as_ref()? {
                        typed_value::Value::JsonIetfVal(b) | typed_value::Value::JsonVal(b) => {
                            serde_json::from_slice(b).ok()
                        }
                        _ => None,
                    })
                    .unwrap_or(Value::Null),
                // Nothing there yet (a device that restarted empty).
                Err(crate::southbound::SouthboundError::Rejected {
                    code: tonic::Code::NotFound,
                    ..
                }) => Value::Null,
                // No longer managed (removed, or the controller is stopping).
                Err(crate::southbound::SouthboundError::UnknownDevice(_)) => {
                    return Ok(DeviceChange::default())
                }
                Err(e) => return Err(e.to_string()),
            };
            observed.push((base.to_string(), value));
        }
        let fetched = started.elapsed();
        let mut change = diff(&desired, &observed);
        self.hold_deletions_after_journal_recovery(device, &desired, &mut change);
        tracing::debug!(device, items = desired.len(), ?fetched, diffed = ?(started.elapsed() - fetched), "reconcile compared");
        if !change.replace.is_empty() || !change.delete.is_empty() {
            let req = render::set_request(&change.replace, &change.delete);
            self.programmer
                .set(device, req)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                device,
                pushed = change.replace.len(),
                removed = change.delete.len(),
                "reconciled"
            );
        }
        Ok(change)
    }
}

/// Reconciles each device when its session comes up, and every device every
/// `interval`; a failed pass is retried with exponential backoff (not left to
/// the next interval), and one device is never reconciled twice at once.
/// Passes run concurrently across devices. When `stop` fires, no new pass
/// starts and the running ones finish (their Sets are not cut off mid-way);
/// the task ends when they have.
pub fn spawn(
    controller: Arc<Controller>,
    interval: Duration,
    mut stop: crate::shutdown::Signal,
) -> Vec<tokio::task::JoinHandle<()>> {
    use schedule::{Action, Backoff, Schedule};
    use tokio::time::Instant;

    let Some(state) = controller.sessions().cloned() else {
        return Vec::new();
    };
    let mut events = state.subscribe();
    let runner = tokio::spawn(async move {
        let mut plan: Schedule<Instant> = Schedule::new(interval, Backoff::default());
        let mut passes = tokio::task::JoinSet::new();
        // Devices already up before we subscribed.
        for node in controller.read().topology.nodes.iter() {
            let up = state
                .device(&node.name)
                .is_some_and(|d| d.state == crate::state::SessionState::Up);
            if up {
                plan.request(&node.name, Instant::now());
            }
        }
        loop {
            for device in plan.take_due(Instant::now()) {
                let c = controller.clone();
                passes.spawn(async move {
                    let action = match c.reconcile_device(&device).await {
                        Ok(_) => Action::AwaitInterval,
                        Err(e) => {
                            tracing::warn!(device, error = %e, "reconcile failed; retrying with backoff");
                            Action::Retry
                        }
                    };
                    (device, action)
                });
            }
            let sleep_until = plan.next_due().unwrap_or_else(|| Instant::now() + interval);
            tokio::select! {
                _ = crate::shutdown::requested(&mut stop) => break,
                Some(done) = passes.join_next(), if !passes.is_empty() => {
                    if let Ok((device, action)) = done {
                        plan.finished(&device, action, Instant::now());
                    }
                }
                ev = events.recv() => match ev {
                    Ok(crate::state::Event::DeviceUp { device }) => plan.request(&device, Instant::now()),
                    Ok(crate::state::Event::DeviceDown { device, .. }) => plan.forget(&device),
                    // Missed events: reconcile everything that is up.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        for node in controller.read().topology.nodes.iter() {
                            plan.request(&node.name, Instant::now());
                        }
                    }
                    Err(_) => break,
                },
                _ = tokio::time::sleep_until(sleep_until) => {
                    // A device due for its periodic pass only runs if it is up.
                    let due: Vec<String> = controller.read().topology.nodes.iter().map(|n| n.name.clone()).collect();
                    for name in due {
                        let up = state
                            .device(&name)
                            .is_some_and(|d| d.state == crate::state::SessionState::Up);
                        if !up {
                            plan.forget(&name);
                        }
                    }
                }
            }
        }
        // Let running passes finish their Sets.
        while passes.join_next().await.is_some() {}
    });
    vec![runner]
}

pub mod schedule;

#[cfg(test)]
mod tests;
