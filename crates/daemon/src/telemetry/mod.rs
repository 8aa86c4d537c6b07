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

pub mod health;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use dashmap::DashMap;
use tokio::sync::mpsc;

use crate::gnmi::path::strip_module;
use crate::gnmi::value::typed_as_f64;
use crate::gnmi::write_path;
use crate::proto::gnmi::{Notification, Path, PathElem, TypedValue};

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
}

struct Slot {
    /// Newest timestamp taken for the path (numbers or not): orders samples.
    seen_ns: i64,
    /// Newest finite number, if the path ever carried one.
    sample: Option<Sample>,
}

/// The leaves the closed loop judges links by.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Leaf {
    Delay,
    Loss,
    OperStatus,
    Osnr,
}

/// Classifies `prefix` + `path` (joined, without copying) as a link leaf; the
/// port is the `name` key of the list entry.
fn classify<'a>(prefix: &'a [PathElem], path: &'a [PathElem]) -> Option<(Leaf, &'a str)> {
    let len = prefix.len() + path.len();
    if !(4..=6).contains(&len) {
        return None;
    }
    // Most leaves (counters, min/max delay, powers) are none of ours: the
    // leaf name alone turns them away.
    let last = path.last().or(prefix.last())?;
    if !matches!(
        strip_module(&last.name),
        "one-way-delay" | "loss-percent" | "oper-status" | "instant"
    ) {
        return None;
    }
    let at = |i: usize| {
        if i < prefix.len() {
            &prefix[i]
        } else {
            &path[i - prefix.len()]
        }
    };
    let name = |i: usize| strip_module(&at(i).name);
    let leaf = match (len, name(0), name(1)) {
        (5, "interfaces", "interface") if name(2) == "link-performance" && name(3) == "state" => {
            match name(4) {
                "one-way-delay" => Leaf::Delay,
                "loss-percent" => Leaf::Loss,
                _ => return None,
            }
        }
        (4, "interfaces", "interface") if name(2) == "state" && name(3) == "oper-status" => {
            Leaf::OperStatus
        }
        (6, "components", "component")
            if name(2) == "optical-channel"
                && name(3) == "state"
                && name(4) == "osnr"
                && name(5) == "instant" =>
        {
            Leaf::Osnr
        }
        _ => return None,
    };
    let port = at(1).key.get("name")?;
    Some((leaf, port.as_str()))
}

/// What a classified leaf's value says, or why it is refused.
fn judge(leaf: Leaf, val: &TypedValue) -> Result<health::Reading, String> {
    use crate::proto::gnmi::typed_value::Value as V;
    let number = || typed_as_f64(val).ok_or_else(|| "not a number".to_string());
    match leaf {
        Leaf::Delay => number().and_then(|v| {
            if v.is_finite() && v >= 0.0 {
                Ok(health::Reading::DelayUs(v))
            } else {
                Err(format!("delay {v}"))
            }
        }),
        Leaf::Loss => number().and_then(|v| {
            if v.is_finite() && (0.0..=100.0).contains(&v) {
                Ok(health::Reading::LossPercent(v))
            } else {
                Err(format!("loss {v}"))
            }
        }),
        Leaf::OperStatus => match &val.value {
            Some(V::StringVal(s)) => Ok(health::Reading::Up(s == "UP")),
            _ => Err("oper-status is not a string".into()),
        },
        Leaf::Osnr => number().and_then(|v| {
            if v.is_finite() {
                Ok(health::Reading::OsnrDb(v))
            } else {
                Err(format!("osnr {v}"))
            }
        }),
    }
}

/// Classifies a leaf update into a link reading, if it is one.
pub fn port_reading(
    path: &Path,
    val: &TypedValue,
) -> Option<(String, Result<health::Reading, String>)> {
    let (leaf, port) = classify(&[], &path.elem)?;
    Some((port.to_string(), judge(leaf, val)))
}

/// Counts of one notification, added to the shared counters once.
#[derive(Default)]
struct Tally {
    samples: u64,
    dropped: u64,
    rejected: u64,
    stale: u64,
}

impl DeviceIngest {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes the notification into the device's state; link readings (if
    /// `classify`) are pushed onto `readings`.
    fn take(
        &self,
        n: &Notification,
        classify_links: bool,
        readings: &mut Vec<PortReading>,
    ) -> Tally {
        let mut tally = Tally::default();
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let DeviceState { latest, ports, key } = &mut *guard;
        key.clear();
        if let Some(prefix) = &n.prefix {
            write_path(key, prefix);
            if key == "/" {
                key.clear();
            }
        }
        let prefix_len = key.len();
        let prefix_elems: &[PathElem] = n.prefix.as_ref().map_or(&[], |p| &p.elem);
        for u in &n.update {
            let (Some(path), Some(val)) = (&u.path, &u.val) else {
                tally.dropped += 1;
                continue;
            };
            key.truncate(prefix_len);
            write_path(key, path);
            let value = typed_as_f64(val).filter(|v| v.is_finite());
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
            if !classify_links {
                continue;
            }
            let Some((leaf, port)) = classify(prefix_elems, &path.elem) else {
                continue;
            };
            match judge(leaf, val) {
                Ok(reading) => {
                    let port = match ports.get(port) {
                        Some(p) => p.clone(),
                        None => {
                            let p: Arc<str> = port.into();
                            ports.insert(port.into(), p.clone());
                            p
                        }
                    };
                    readings.push(PortReading {
                        device: self.name.clone(),
                        port,
                        reading,
                        timestamp_ns: n.timestamp,
                    });
                }
                Err(_) => tally.rejected += 1,
            }
        }
        tally
    }

    fn latest(&self, path: &str) -> Option<Sample> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.latest.get(path).and_then(|s| s.sample)
    }
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
}

#[cfg(test)]
mod tests;
