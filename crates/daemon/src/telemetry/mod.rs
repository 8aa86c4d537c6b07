//! Telemetry ingest: what the southbound subscriptions deliver, counted and
//! kept as the latest value per device and path. Smoothing, thresholds and
//! breach detection build on this.
//!
//! The hot path is one notification at a time, from one device's session
//! task: its state is locked once per notification (no other session ever
//! contends for it), paths are formatted into a reused buffer (the prefix once
//! per notification), keys and port names are allocated only the first time a
//! path is seen, and link readings go to the closed loop as one batch per
//! notification.
//!
//! Readings come from published OpenConfig state only (`openconfig`): delay
//! and loss from the RFC 8570 sub-TLVs of the router's own IS-IS LSP, tied to
//! an interface through the instance's link-id and the interface's ifindex
//! (`links`); up/down from interface oper-status; OSNR from the optical
//! channel component.

pub mod health;
mod links;
pub mod lldp;
pub mod openconfig;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use dashmap::DashMap;
use tokio::sync::mpsc;

use crate::proto::gnmi::{Notification, Path, PathElem, TypedValue};
use openconfig::{Leaf, Own, Removed, Site};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub value: f64,
    pub timestamp_ns: i64,
}

/// A sample the closed loop cares about: which device port it is from and
/// what it says about the link there.
#[derive(Debug, Clone, PartialEq)]
pub struct PortReading {
    /// Shared with every reading of the device (no allocation per reading).
    pub device: Arc<str>,
    /// Interface (packet) or optical-channel component (optical).
    pub port: Arc<str>,
    pub reading: health::Reading,
    pub timestamp_ns: i64,
}

/// Where link readings go.
enum Feed {
    /// One reading per queue slot.
    Readings(mpsc::Sender<PortReading>),
    /// One notification's readings per queue slot.
    Batches(mpsc::Sender<Vec<PortReading>>),
}

#[derive(Default)]
pub struct Ingest {
    samples: AtomicU64,
    notifications: AtomicU64,
    dropped: AtomicU64,
    /// Readings refused: not finite, negative, or the loop's queue was full.
    rejected: AtomicU64,
    /// Samples older than one already taken for the same path.
    stale: AtomicU64,
    devices: DashMap<String, Arc<DeviceIngest>>,
    feed: OnceLock<Feed>,
    /// Devices whose LLDP neighbors changed since the cabling check last
    /// looked (a set, so a chatty device costs one entry), and its wake-up.
    cabling_dirty: std::sync::Mutex<std::collections::BTreeSet<String>>,
    cabling_changed: tokio::sync::Notify,
}

/// One device's share of the ingest. Its session task holds it, so the
/// per-notification work never touches the device index.
pub struct DeviceIngest {
    name: Arc<str>,
    state: Mutex<DeviceState>,
}

/// Keys are paths we formatted from a device's paths; a fast hash is enough
/// (a device could at worst slow its own map, never another's).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Default)]
struct DeviceState {
    latest: FastMap<Box<str>, Slot>,
    ports: FastMap<Box<str>, Arc<str>>,
    /// Scratch for the path being looked up: prefix, then the update's path.
    key: String,
    /// Which port an IS-IS instance is.
    links: links::Links,
    /// The newest link reading per port.
    reads: FastMap<Arc<str>, LinkReadings>,
    /// Scratch: paths of instances that went, whose `latest` entries go too.
    gone: Vec<Box<str>>,
    /// What LLDP hears on each port.
    neighbors: lldp::Neighbors,
    /// A new session began: what LLDP heard was forgotten, which the cabling
    /// check must hear about even if the device reports no neighbor at all.
    neighbors_reset: bool,
}

/// The newest link readings of one port, whatever path they came from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkReadings {
    pub delay_us: Option<Sample>,
    pub loss_percent: Option<Sample>,
    pub osnr_db: Option<Sample>,
    pub up: Option<(bool, i64)>,
}

impl LinkReadings {
    fn take(&mut self, reading: health::Reading, timestamp_ns: i64) {
        use health::Reading as R;
        let s = |value| {
            Some(Sample {
                value,
                timestamp_ns,
            })
        };
        match reading {
            R::DelayUs(v) => self.delay_us = s(v),
            R::LossPercent(v) => self.loss_percent = s(v),
            R::OsnrDb(v) => self.osnr_db = s(v),
            R::Up(up) => self.up = Some((up, timestamp_ns)),
        }
    }
}

struct Slot {
    /// Newest timestamp taken for the path (numbers or not): orders samples.
    seen_ns: i64,
    /// Newest finite number, if the path ever carried one.
    sample: Option<Sample>,
}

/// What a leaf update says about a link, if it is one of the measurements
/// the closed loop judges by (with no device at hand, any LSP is taken as
/// the device's own; which port an IS-IS instance is needs the device's
/// identity maps, see `links`).
pub fn reading(path: &Path, val: &TypedValue) -> Option<Result<health::Reading, String>> {
    let (leaf, _) = openconfig::classify(&[], &path.elem, openconfig::Own::Any)?;
    openconfig::judge(leaf, val)
}

/// Counts of one notification, added to the shared counters once.
#[derive(Default)]
struct Tally {
    samples: u64,
    dropped: u64,
    rejected: u64,
    stale: u64,
    neighbors_changed: bool,
}

impl DeviceIngest {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new session with the device: what it said about its ifindexes and
    /// IS-IS instances before may no longer hold. `router_id` names its own
    /// LSP; without one no IS-IS measurement can be attributed.
    pub fn start_session(&self, router_id: Option<Ipv4Addr>) {
        let own = router_id.map_or(Own::Unknown, |r| Own::Is(openconfig::system_id_value(r)));
        let mut guard = self.lock();
        let state = &mut *guard;
        // Instance ids need not survive a readvertisement: the last
        // session's may never come back, so their samples go with them.
        state
            .links
            .remove_instances_where(|_| true, &mut state.gone);
        forget_paths(&mut state.latest, &mut state.gone);
        state.links.reset(own);
        state.neighbors.clear();
        state.neighbors_reset = true;
    }

    /// What LLDP hears on each port of the device now.
    pub fn neighbors(&self) -> lldp::Neighbors {
        self.lock().neighbors.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DeviceState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the notification into the device's state; link readings (if
    /// `classify_links`) are pushed onto `readings`.
    fn take(
        &self,
        n: &Notification,
        classify_links: bool,
        readings: &mut Vec<PortReading>,
    ) -> Tally {
        let mut tally = Tally::default();
        let mut guard = self.lock();
        let DeviceState {
            latest,
            ports,
            key,
            links,
            reads,
            gone,
            neighbors,
            neighbors_reset,
        } = &mut *guard;
        tally.neighbors_changed = std::mem::take(neighbors_reset);
        key.clear();
        if let Some(prefix) = &n.prefix {
            crate::gnmi::write_path(key, prefix);
            if key == "/" {
                key.clear();
            }
        }
        let prefix_len = key.len();
        let prefix_elems: &[PathElem] = n.prefix.as_ref().map_or(&[], |p| &p.elem);
        let own = links.own;
        // Deletes first, as a target applies them (gNMI 2.1): an update in
        // the same notification re-creates what it names.
        for d in &n.delete {
            if lldp::delete(neighbors, prefix_elems, &d.elem) {
                tally.neighbors_changed = true;
            }
            match openconfig::classify_delete(prefix_elems, &d.elem, own) {
                Some(Removed::Interface(name)) => links.remove_interface(name),
                Some(Removed::AllInstances) => links.remove_instances_where(|_| true, gone),
                Some(Removed::Neighbor(sys)) => {
                    links.remove_instances_where(|k| k.neighbor == sys, gone)
                }
                Some(Removed::Instance(k)) => {
                    if let Some(i) = links.remove_instance(&k) {
                        gone.push(i.path);
                    }
                }
                Some(Removed::LinkId(k)) => links.set_link_id(k, None),
                None => {}
            }
        }
        forget_paths(latest, gone);
        let name = &self.name;
        let mut emit = |reads: &mut FastMap<Arc<str>, LinkReadings>,
                        port: &Arc<str>,
                        reading: health::Reading,
                        ts: i64| {
            match reads.get_mut(port) {
                Some(r) => r.take(reading, ts),
                None => {
                    let mut r = LinkReadings::default();
                    r.take(reading, ts);
                    reads.insert(port.clone(), r);
                }
            }
            if classify_links {
                readings.push(PortReading {
                    device: name.clone(),
                    port: port.clone(),
                    reading,
                    timestamp_ns: ts,
                });
            }
        };
        for u in &n.update {
            let (Some(path), Some(val)) = (&u.path, &u.val) else {
                tally.dropped += 1;
                continue;
            };
            if lldp::update(neighbors, prefix_elems, &path.elem, val) {
                tally.neighbors_changed = true;
            }
            key.truncate(prefix_len);
            crate::gnmi::write_path(key, path);
            let value = openconfig::number(val).filter(|v| v.is_finite());
            let sample = value.map(|value| Sample {
                value,
                timestamp_ns: n.timestamp,
            });
            match latest.get_mut(key.as_str()) {
                Some(slot) if n.timestamp < slot.seen_ns => {
                    // Older than what we hold: a replay or reordering; judging
                    // it would move link health backwards in time.
                    tally.stale += 1;
                    continue;
                }
                Some(slot) => {
                    slot.seen_ns = n.timestamp;
                    if sample.is_some() {
                        slot.sample = sample;
                    }
                }
                None => {
                    latest.insert(
                        key.as_str().into(),
                        Slot {
                            seen_ns: n.timestamp,
                            sample,
                        },
                    );
                }
            }
            // Strings (oper-status, names) are state, not samples, but count.
            tally.samples += 1;
            let Some((leaf, site)) = openconfig::classify(prefix_elems, &path.elem, own) else {
                continue;
            };
            match site {
                Site::Port(port) => {
                    let port = intern(ports, port);
                    if leaf == Leaf::IfIndex {
                        match openconfig::index(val) {
                            Some(i) if links.set_ifindex(&port, i) => {}
                            _ => tally.rejected += 1,
                        }
                        continue;
                    }
                    match openconfig::judge(leaf, val) {
                        Some(Ok(reading)) => emit(reads, &port, reading, n.timestamp),
                        Some(Err(_)) => tally.rejected += 1,
                        None => {}
                    }
                }
                Site::Instance(k) => {
                    let judged = match leaf {
                        Leaf::LinkId => match openconfig::index(val) {
                            Some(i) => Ok(Some(i)),
                            None => Err(()),
                        },
                        _ => match openconfig::judge(leaf, val) {
                            Some(Ok(r)) => {
                                // Measured now, attributed at the end.
                                links.measure(k, r, n.timestamp);
                                Ok(None)
                            }
                            _ => Err(()),
                        },
                    };
                    let Ok(link_id) = judged else {
                        tally.rejected += 1;
                        continue;
                    };
                    let (_, evicted) = links.touch(k, n.timestamp, || {
                        instance_path(&key[..prefix_len], n.prefix.as_ref(), path)
                    });
                    if link_id.is_some() {
                        links.set_link_id(k, link_id);
                    }
                    if let Some(p) = evicted {
                        gone.push(p);
                        forget_paths(latest, gone);
                    }
                }
            }
        }
        tally.rejected += links.finish(|port, reading, ts| emit(reads, port, reading, ts));
        tally
    }

    fn latest(&self, path: &str) -> Option<Sample> {
        self.lock().latest.get(path).and_then(|s| s.sample)
    }

    fn link_readings(&self, port: &str) -> Option<LinkReadings> {
        self.lock().reads.get(port).copied()
    }

    fn port_of_index(&self, ifindex: u32) -> Option<Arc<str>> {
        self.lock().links.port_of_index(ifindex).cloned()
    }
}

/// The interned `port`, made the first time it is seen.
fn intern(ports: &mut FastMap<Box<str>, Arc<str>>, port: &str) -> Arc<str> {
    match ports.get(port) {
        Some(p) => p.clone(),
        None => {
            let p: Arc<str> = port.into();
            ports.insert(port.into(), p.clone());
            p
        }
    }
}

/// Text of the instance entry a leaf path runs through: the formatted
/// prefix (`prefix_text`) and as much of `path` as reaches the instance.
fn instance_path(prefix_text: &str, prefix: Option<&Path>, path: &Path) -> Box<str> {
    let depth = openconfig::INSTANCE + 1;
    let mut out = String::new();
    match prefix {
        Some(p) if p.elem.len() >= depth => {
            if !p.origin.is_empty() {
                out.push_str(&p.origin);
                out.push(':');
            }
            crate::gnmi::write_elems(&mut out, &p.elem[..depth]);
        }
        _ => {
            let have = prefix.map_or(0, |p| p.elem.len());
            out.push_str(prefix_text);
            if !path.origin.is_empty() {
                out.push_str(&path.origin);
                out.push(':');
            }
            let rest = depth.saturating_sub(have).min(path.elem.len());
            crate::gnmi::write_elems(&mut out, &path.elem[..rest]);
        }
    }
    out.into()
}

/// Drops the `latest` entries under each path in `gone` (and empties it).
fn forget_paths(latest: &mut FastMap<Box<str>, Slot>, gone: &mut Vec<Box<str>>) {
    if gone.is_empty() {
        return;
    }
    latest.retain(|k, _| {
        !gone
            .iter()
            .any(|g| k.starts_with(&**g) && k[g.len()..].starts_with('/'))
    });
    gone.clear();
}

impl Ingest {
    /// Routes link readings to the closed loop, one per queue slot (once;
    /// later calls to `feed` or `feed_batches` are ignored).
    pub fn feed(&self, tx: mpsc::Sender<PortReading>) {
        let _ = self.feed.set(Feed::Readings(tx));
    }

    /// Routes link readings to the closed loop, one notification's worth per
    /// queue slot: a flood costs the queue a slot per notification, not per
    /// reading, and the channel is paid once per notification.
    pub fn feed_batches(&self, tx: mpsc::Sender<Vec<PortReading>>) {
        let _ = self.feed.set(Feed::Batches(tx));
    }

    /// The device's share of the ingest (made on first use). A session task
    /// looks it up once and passes it to `on_device_notification`.
    pub fn device(&self, name: &str) -> Arc<DeviceIngest> {
        if let Some(d) = self.devices.get(name) {
            return d.clone();
        }
        self.devices
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(DeviceIngest {
                    name: name.into(),
                    state: Mutex::new(DeviceState::default()),
                })
            })
            .clone()
    }

    /// Takes one notification from a device's subscription.
    pub fn on_notification(&self, device: &str, n: &Notification) {
        self.on_device_notification(&self.device(device), n);
    }

    /// Takes one notification from the subscription of `device`.
    pub fn on_device_notification(&self, device: &DeviceIngest, n: &Notification) {
        let feed = self.feed.get();
        let mut readings = Vec::new();
        let mut tally = device.take(n, feed.is_some(), &mut readings);
        // A flooding device fills its share of the queue and is dropped,
        // rather than stalling every other session.
        match feed {
            Some(Feed::Readings(tx)) => {
                for r in readings {
                    if tx.try_send(r).is_err() {
                        tally.rejected += 1;
                    }
                }
            }
            Some(Feed::Batches(tx)) if !readings.is_empty() => {
                let count = readings.len() as u64;
                if tx.try_send(readings).is_err() {
                    tally.rejected += count;
                }
            }
            _ => {}
        }
        self.notifications.fetch_add(1, Ordering::Relaxed);
        for (counter, add) in [
            (&self.samples, tally.samples),
            (&self.dropped, tally.dropped),
            (&self.rejected, tally.rejected),
            (&self.stale, tally.stale),
        ] {
            if add > 0 {
                counter.fetch_add(add, Ordering::Relaxed);
            }
        }
        if tally.samples > 0 {
            crate::metrics::samples_ingested(tally.samples);
        }
        if tally.neighbors_changed {
            self.cabling_dirty
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(device.name.to_string());
            self.cabling_changed.notify_one();
        }
    }

    /// Waits until some device's LLDP neighbors changed, then returns which
    /// devices did (and forgets them until they change again).
    pub async fn cabling_changes(&self) -> Vec<String> {
        loop {
            let dirty: Vec<String> =
                std::mem::take(&mut *self.cabling_dirty.lock().unwrap_or_else(|e| e.into_inner()))
                    .into_iter()
                    .collect();
            if !dirty.is_empty() {
                return dirty;
            }
            self.cabling_changed.notified().await;
        }
    }

    /// What LLDP hears on each port of `device` (empty when nothing is known).
    pub fn neighbors(&self, device: &str) -> lldp::Neighbors {
        self.devices
            .get(device)
            .map(|d| d.neighbors())
            .unwrap_or_default()
    }

    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::Relaxed)
    }

    pub fn notifications(&self) -> u64 {
        self.notifications.load(Ordering::Relaxed)
    }

    /// Updates without a path or a value.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Samples dropped for being older than one already taken for their path.
    pub fn stale(&self) -> u64 {
        self.stale.load(Ordering::Relaxed)
    }

    pub fn latest(&self, device: &str, path: &str) -> Option<Sample> {
        let d = self.devices.get(device)?.clone();
        d.latest(path)
    }

    /// The newest link readings of a device's port (interface or optical
    /// channel), IS-IS measurements included once their link is known.
    pub fn link_readings(&self, device: &str, port: &str) -> Option<LinkReadings> {
        let d = self.devices.get(device)?.clone();
        d.link_readings(port)
    }

    /// The interface a device said has `ifindex`.
    pub fn port_of_ifindex(&self, device: &str, ifindex: u32) -> Option<Arc<str>> {
        let d = self.devices.get(device)?.clone();
        d.port_of_index(ifindex)
    }

    /// `DeviceIngest::start_session` of `device`.
    pub fn start_session(&self, device: &str, router_id: Option<Ipv4Addr>) {
        self.device(device).start_session(router_id);
    }
}

#[cfg(test)]
mod tests;
