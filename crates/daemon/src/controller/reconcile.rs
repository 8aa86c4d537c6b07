//! Reconciliation, kube-style: what Strata wants on a device (rendered from
//! its intents) against what the device holds (a gNMI Get), and the one Set
//! that closes the gap — push what is missing or different, remove what
//! Strata owns but no longer wants, leave everyone else's configuration alone.
//!
//! `diff` is the pure core; `Controller::reconcile_device` does the I/O. It
//! runs on start-up, whenever a device's session comes up (a device that
//! restarted empty gets everything back), and periodically.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::Controller;
use crate::proto::gnmi::{get_request::DataType, typed_value, Encoding, GetRequest};
use crate::render::json::{field, text};
use crate::render::{DeviceEdit, Dialect, Need, Path};
use crate::southbound::request::gnmi_path;

/// Leaf values compare as text: JSON_IETF carries 64-bit numbers as strings
/// and identities with or without their module prefix.
fn same_leaf(want: &Value, have: &Value) -> bool {
    let (w, h) = (text(want), text(have));
    w == h
        || h.rsplit_once(':').is_some_and(|(_, n)| n == w)
        || w.rsplit_once(':').is_some_and(|(_, n)| n == h)
}

/// Everything in `want` is in `have` (the device may hold more: defaults,
/// state, leaves someone else set).
pub fn contains(have: &Value, want: &Value) -> bool {
    covers(have, want, false)
}

/// As `contains`, and no list holds entries `want` lacks: for subtrees Strata
/// owns whole, where an extra entry (a segment list left by an interrupted
/// reroute) is drift.
pub fn matches_owned(have: &Value, want: &Value) -> bool {
    covers(have, want, true)
}

fn covers(have: &Value, want: &Value, exact_lists: bool) -> bool {
    match want {
        Value::Object(w) => w.iter().all(|(k, wv)| {
            let bare = k.rsplit_once(':').map_or(k.as_str(), |(_, n)| n);
            field(have, k)
                .or_else(|| field(have, bare))
                .is_some_and(|hv| covers(hv, wv, exact_lists))
        }),
        Value::Array(items) => match have {
            Value::Array(have_items) => {
                (!exact_lists || have_items.len() == items.len())
                    && items
                        .iter()
                        .all(|wi| have_items.iter().any(|hi| covers(hi, wi, exact_lists)))
            }
            _ => false,
        },
        leaf => !have.is_null() && same_leaf(leaf, have),
    }
}

/// The value at `path` inside `root`, the value of the container at `base`.
pub fn locate<'a>(root: &'a Value, base: &Path, path: &Path) -> Option<&'a Value> {
    Locator::default().locate(root, base, path)
}

/// A list's entries by their key values.
type KeyIndex<'a> = std::collections::HashMap<Vec<String>, &'a Value>;

/// Finds list entries by key, indexing each list the first time it is
/// searched, so reconciling N items against N entries is linear, not N².
#[derive(Default)]
struct Locator<'a> {
    /// (address of the list, its key names) → index.
    lists: std::collections::HashMap<(usize, Vec<String>), KeyIndex<'a>>,
}

impl<'a> Locator<'a> {
    fn locate(&mut self, root: &'a Value, base: &Path, path: &Path) -> Option<&'a Value> {
        let rest = path.elems.strip_prefix(base.elems.as_slice())?;
        let mut at = root;
        for elem in rest {
            at = field(at, &elem.name)?;
            if !elem.keys.is_empty() {
                let mut keys = elem.keys.clone();
                keys.sort();
                let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
                let wanted: Vec<String> = keys.into_iter().map(|(_, v)| v).collect();
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

/// The Set that brings a device from `observed` (container path → config
/// JSON) to `desired`: what is missing or different is written again as
/// render wrote it, and Strata's objects nobody wants any more are removed
/// (a logical channel's optical channel untuned with it). Objects without
/// Strata's marks are never in the Set. Empty when the device is in step.
pub fn diff(dialect: Dialect, desired: &DeviceEdit, observed: &[(Path, Value)]) -> DeviceEdit {
    let mut change = DeviceEdit::default();
    let wanted = |p: &Path| desired.items().any(|i| &i.path == p);
    // An optical channel a wanted wavelength tunes stays tuned.
    let tuned_by_wanted = |och: &str| {
        let c = dialect.component(och);
        desired.items().any(|i| i.path.starts_with(&c))
    };
    for o in dialect.owned(observed) {
        if wanted(&o.path) {
            continue;
        }
        if let Some(och) = o.tuned.as_deref().filter(|och| !tuned_by_wanted(och)) {
            change.delete.extend(dialect.untune(och));
        }
        change.delete.push(o.path);
    }
    let mut locator = Locator::default();
    for item in &desired.replace {
        if missing(item, observed, &mut locator, matches_owned) {
            change.replace.push(item.clone());
        }
    }
    for item in &desired.update {
        if missing(item, observed, &mut locator, contains) {
            change.update.push(item.clone());
        }
    }
    change
}

/// True if the device lacks `item` or holds something else there.
fn missing<'a>(
    item: &crate::render::ConfigItem,
    observed: &'a [(Path, Value)],
    locator: &mut Locator<'a>,
    holds: fn(&Value, &Value) -> bool,
) -> bool {
    let have = observed
        .iter()
        .find_map(|(base, root)| locator.locate(root, base, &item.path));
    !have.is_some_and(|h| holds(h, &item.value))
}

impl Controller {
    /// Everything Strata wants on `device`, rendered from its intents. Fails
    /// if a wavelength ending here has no known line facts: without them its
    /// channels could not be told from stale ones.
    pub fn desired_config(&self, device: &str) -> Result<DeviceEdit, String> {
        let d = self.dialect(device);
        let inner = self.read();
        let mut edit = DeviceEdit::default();
        // A device whose Capabilities lack what its intents need is reported,
        // not repaired blindly (nor stripped of what it holds).
        let need = |need: Need, what: &str, any: bool| {
            if any {
                self.check_models(device, need, what)
                    .map_err(|e| e.to_string())
            } else {
                Ok(())
            }
        };
        let mut policies = inner
            .policies
            .values()
            .filter(|p| p.headend == device)
            .peekable();
        need(
            Need::SrtePolicy,
            "its SR-TE policies",
            policies.peek().is_some(),
        )?;
        for p in policies {
            edit.extend(p.config(d));
        }
        let mut services = inner
            .services
            .values()
            .filter(|s| s.attachments.contains_key(device))
            .peekable();
        need(Need::Evpn, "its EVPN services", services.peek().is_some())?;
        for s in services {
            edit.extend(s.config_on(device, d));
        }
        let on_device =
            |w: &&super::WavelengthRecord| w.ends().iter().any(|(n, _, _)| *n == device);
        let any_wavelength = inner.wavelengths.values().any(|w| on_device(&w));
        need(Need::Wavelength, "its 400ZR wavelengths", any_wavelength)?;
        for w in inner.wavelengths.values() {
            for (node, port, lc) in w.ends() {
                if node == device {
                    let line = self
                        .known_line_port(device, port)
                        .ok_or_else(|| format!("{device} {port}: line components not known yet"))?;
                    edit.extend(w.channel_config(d, &line, lc));
                }
            }
        }
        Ok(edit)
    }

    /// Reads the line facts of every wavelength end on `device` not yet known.
    async fn discover_lines(&self, device: &str) -> Result<(), String> {
        let ports: Vec<String> = {
            let inner = self.read();
            inner
                .wavelengths
                .values()
                .flat_map(|w| w.ends().map(|(n, p, _)| (n.clone(), p.clone())))
                .filter(|(n, _)| n == device)
                .map(|(_, p)| p)
                .collect()
        };
        for port in ports {
            self.line_port(device, &port)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
    /// Brings one device to what Strata wants. A create half-way through is
    /// already in the desired state (staged objects are), so its config is
    /// never mistaken for configuration to remove. Holds no lock across its
    /// Get and Set: a pass whose comparison went stale (a change to the device
    /// was in flight, or was programmed after the Get) is run again shortly.
    /// Returns the change made.
    pub async fn reconcile_device(&self, device: &str) -> Result<DeviceEdit, String> {
        for _ in 0..STALE_PASSES {
            match self.reconcile_pass(device).await? {
                Some(change) => return Ok(change),
                None => tokio::time::sleep(STALE_WAIT).await,
            }
        }
        Err(format!(
            "{device} kept changing while being reconciled ({STALE_PASSES} tries); retrying later"
        ))
    }

    /// One comparison and repair; `None` if it went stale.
    async fn reconcile_pass(&self, device: &str) -> Result<Option<DeviceEdit>, String> {
        let Some(epoch) = self.writes.quiet_epoch(device) else {
            return Ok(None);
        };
        let started = std::time::Instant::now();
        let role = self
            .read()
            .topology
            .node(device)
            .map(|n| n.role)
            .ok_or_else(|| format!("unknown device {device}"))?;
        self.discover_lines(device).await?;
        let desired = self.desired_config(device)?;
        let mut observed = Vec::new();
        let mut unreadable = Vec::new();
        for base in self.dialect(device).containers(role) {
            let value = match self.read_config(device, &base).await {
                Ok(v) => v,
                // Nothing there yet (a device that restarted empty).
                Err(crate::southbound::SouthboundError::Rejected {
                    code: tonic::Code::NotFound,
                    ..
                }) => Value::Null,
                // No longer managed (removed, or the controller is stopping).
                Err(crate::southbound::SouthboundError::UnknownDevice(_)) => {
                    return Ok(Some(DeviceEdit::default()))
                }
                Err(e) if too_large(&e) => match self.dialect(device).container_list(&base) {
                    Some((list, key)) => self
                        .read_by_entries(device, &base, list, key, &mut unreadable)
                        .await
                        .map_err(|e| e.to_string())?,
                    None => return Err(e.to_string()),
                },
                Err(e) => return Err(e.to_string()),
            };
            observed.push((base, value));
        }
        let fetched = started.elapsed();
        let mut change = diff(self.dialect(device), &desired, &observed);
        self.hold_deletions_after_journal_recovery(device, &desired, &mut change);
        tracing::debug!(device, items = desired.items().count(), ?fetched, diffed = ?(started.elapsed() - fetched), "reconcile compared");
        if !change.is_empty() {
            let req = crate::southbound::request::set_request(&change)
                .map_err(|e| format!("{device}: {e}"))?;
            let sent = self
                .writes
                .set_if_unchanged(self.direct.as_ref(), device, epoch, req)
                .await
                .map_err(|e| e.to_string())?;
            if !sent {
                return Ok(None);
            }
            tracing::info!(
                device,
                pushed = change.replace.len() + change.update.len(),
                removed = change.delete.len(),
                "reconciled"
            );
        }
        // What could be read is repaired; what could not is reported, and
        // nothing under it was deleted (its objects were never seen).
        if !unreadable.is_empty() {
            return Err(format!(
                "{device}: reconciled all but {} entries too large to read even alone (over the response limit): {}",
                unreadable.len(),
                unreadable.join(", ")
            ));
        }
        Ok(Some(change))
    }

    /// A JSON_IETF Get of the config at `path` on `device`.
    async fn get_config(
        &self,
        device: &str,
        path: &crate::render::Path,
    ) -> Result<crate::proto::gnmi::GetResponse, crate::southbound::SouthboundError> {
        let req = GetRequest {
            path: vec![gnmi_path(path, "get").map_err(|e| bad_path(device, e))?],
            r#type: DataType::Config as i32,
            encoding: Encoding::JsonIetf as i32,
            ..Default::default()
        };
        self.programmer.get(device, req).await
    }

    /// The JSON_IETF config at `path` on `device` (`Null` when the answer
    /// holds none).
    async fn read_config(
        &self,
        device: &str,
        path: &crate::render::Path,
    ) -> Result<Value, crate::southbound::SouthboundError> {
        let resp = self.get_config(device, path).await?;
        Ok(resp
            .notification
            .iter()
            .flat_map(|n| &n.update)
            .find_map(json_of)
            .unwrap_or(Value::Null))
    }

    /// A container too large for one answer, read entry by entry: the
    /// entries' keys first (small), then each entry on its own. The result
    /// has the container's shape, so comparing it is unchanged. An entry too
    /// large even alone is left out and named in `unreadable`.
    async fn read_by_entries(
        &self,
        device: &str,
        base: &crate::render::Path,
        list: &str,
        key: &str,
        unreadable: &mut Vec<String>,
    ) -> Result<Value, crate::southbound::SouthboundError> {
        let keys_path = base.clone().entry(list, &[(key, "*")]).child(key);
        let resp = self.get_config(device, &keys_path).await?;
        let mut names = std::collections::BTreeSet::new();
        for n in &resp.notification {
            for u in &n.update {
                let from_path = n
                    .prefix
                    .iter()
                    .flat_map(|p| &p.elem)
                    .chain(u.path.iter().flat_map(|p| &p.elem))
                    .find(|e| e.name == list)
                    .and_then(|e| e.key.get(key))
                    .filter(|k| k.as_str() != "*");
                let name = from_path.cloned().or_else(|| match json_of(u)? {
                    Value::String(s) => Some(s),
                    _ => None,
                });
                names.extend(name);
            }
        }
        tracing::info!(device, container = %base, entries = names.len(), "reading a container entry by entry (too large for one answer)");
        let mut entries = Vec::new();
        for name in names {
            let path = base.clone().entry(list, &[(key, name.as_str())]);
            match self.read_config(device, &path).await {
                Ok(Value::Null) => {}
                Ok(v) => entries.extend(entry_values(v, list, key, &name)),
                Err(e) if too_large(&e) => unreadable.push(path.to_string()),
                Err(crate::southbound::SouthboundError::Rejected {
                    code: tonic::Code::NotFound,
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(serde_json::json!({ list: entries }))
    }
}

/// A Get answer that did not fit the response limit.
fn too_large(e: &crate::southbound::SouthboundError) -> bool {
    matches!(e, crate::southbound::SouthboundError::Rejected { code: tonic::Code::OutOfRange | tonic::Code::ResourceExhausted, message, .. }
        if message.contains("too large"))
}

fn bad_path(device: &str, e: impl std::fmt::Display) -> crate::southbound::SouthboundError {
    crate::southbound::SouthboundError::BadRequest {
        device: device.to_string(),
        reason: e.to_string(),
    }
}

fn json_of(u: &crate::proto::gnmi::Update) -> Option<Value> {
    match u.val.as_ref()?.value.as_ref()? {
        typed_value::Value::JsonIetfVal(b) | typed_value::Value::JsonVal(b) => {
            serde_json::from_slice(b).ok()
        }
        _ => None,
    }
}

/// One entry's answer as list entries: the entry object itself, or wrapped
/// in its list (servers differ); with its key, which some leave to the path.
fn entry_values(v: Value, list: &str, key: &str, name: &str) -> Vec<Value> {
    let wrapped = v.as_object().and_then(|o| {
        (o.len() == 1)
            .then(|| field(&v, list))
            .flatten()
            .and_then(Value::as_array)
            .cloned()
    });
    let mut out = wrapped.unwrap_or_else(|| vec![v]);
    for e in &mut out {
        if field(e, key).is_some() {
            continue;
        }
        if let Some(o) = e.as_object_mut() {
            o.insert(key.to_string(), Value::String(name.to_string()));
        }
    }
    out
}

/// How often a pass that went stale is tried again, and how long apart,
/// before the runner's backoff takes over.
const STALE_PASSES: usize = 50;
const STALE_WAIT: Duration = Duration::from_millis(50);

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
        // Without events to go by (before the first, or after missing some):
        // schedule every device that is up now, drop the others.
        let resync = |plan: &mut Schedule<Instant>| {
            for node in controller.read().topology.nodes.iter() {
                let up = state
                    .device(&node.name)
                    .is_some_and(|d| d.state == crate::state::SessionState::Up);
                if up {
                    plan.request(&node.name, Instant::now());
                } else {
                    plan.forget(&node.name);
                }
            }
        };
        resync(&mut plan);
        loop {
            for device in plan.take_due(Instant::now()) {
                let c = controller.clone();
                let state = state.clone();
                passes.spawn(async move {
                    let outcome = c.reconcile_device(&device).await;
                    let action = match &outcome {
                        Ok(_) => Action::AwaitInterval,
                        Err(e) => {
                            tracing::warn!(device, error = %e, "reconcile failed; retrying with backoff");
                            Action::Retry
                        }
                    };
                    // Operators see a device whose drift is not being repaired.
                    state.reconciled(&device, outcome.map(|_| ()));
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
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => resync(&mut plan),
                    Err(_) => break,
                },
                // Due devices start at the top of the loop (a device that went
                // down was forgotten on its DeviceDown).
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
        }
        // Let running passes finish their Sets.
        while passes.join_next().await.is_some() {}
    });
    vec![runner]
}

pub mod schedule;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;
