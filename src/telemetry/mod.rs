//! Telemetry ingest: what the southbound subscriptions deliver, counted and
//! kept as the latest value per device and path. Smoothing, thresholds and
//! breach detection build on this.

pub mod health;

use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

use crate::gnmi::format_path;
use crate::gnmi::value::typed_as_f64;
use crate::proto::gnmi::Notification;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub value: f64,
    pub timestamp_ns: i64,
}

/// A sample the closed loop cares about: which device port it is from and
/// what it says about the link there.
#[derive(Debug, Clone, PartialEq)]
pub struct PortReading {
    pub device: String,
    /// Interface (packet) or optical-channel component (optical).
    pub port: String,
    pub reading: health::Reading,
    pub timestamp_ns: i64,
}

#[derive(Default)]
pub struct Ingest {
    samples: AtomicU64,
    notifications: AtomicU64,
    dropped: AtomicU64,
    /// Readings refused: not finite, negative, or the loop's queue was full.
    rejected: AtomicU64,
    latest: DashMap<String, DashMap<String, Sample>>,
    readings: std::sync::OnceLock<tokio::sync::mpsc::Sender<PortReading>>,
}

/// Classifies a leaf update into a link reading, if it is one.
pub fn port_reading(
    path: &crate::proto::gnmi::Path,
    val: &crate::proto::gnmi::TypedValue,
) -> Option<(String, Result<health::Reading, String>)> {
    use crate::proto::gnmi::typed_value::Value as V;
    let names: Vec<&str> = path
        .elem
        .iter()
        .map(|e| crate::gnmi::path::strip_module(&e.name))
        .collect();
    let key = |i: usize, k: &str| path.elem.get(i).and_then(|e| e.key.get(k)).cloned();
    let number = || typed_as_f64(val).ok_or_else(|| "not a number".to_string());
    match names.as_slice() {
        ["interfaces", "interface", "link-performance", "state", leaf] => {
            let port = key(1, "name")?;
            let reading = match *leaf {
                "one-way-delay" => number().and_then(|v| {
                    if v.is_finite() && v >= 0.0 {
                        Ok(health::Reading::DelayUs(v))
                    } else {
                        Err(format!("delay {v}"))
                    }
                }),
                "loss-percent" => number().and_then(|v| {
                    if v.is_finite() && (0.0..=100.0).contains(&v) {
                        Ok(health::Reading::LossPercent(v))
                    } else {
                        Err(format!("loss {v}"))
                    }
                }),
                _ => return None,
            };
            Some((port, reading))
        }
        ["interfaces", "interface", "state", "oper-status"] => {
            let port = key(1, "name")?;
            let up = match &val.value {
                Some(V::StringVal(s)) => s == "UP",
                _ => return Some((port, Err("oper-status is not a string".into()))),
            };
            Some((port, Ok(health::Reading::Up(up))))
        }
        ["components", "component", "optical-channel", "state", "osnr", "instant"] => {
            let port = key(1, "name")?;
            Some((
                port,
                number().and_then(|v| {
                    if v.is_finite() {
                        Ok(health::Reading::OsnrDb(v))
                    } else {
                        Err(format!("osnr {v}"))
                    }
                }),
            ))
        }
        _ => None,
    }
}

impl Ingest {
    /// Routes link readings to the closed loop (once; later calls are ignored).
    pub fn feed(&self, tx: tokio::sync::mpsc::Sender<PortReading>) {
        let _ = self.readings.set(tx);
    }

    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Takes one notification from a device's subscription.
    pub fn on_notification(&self, device: &str, n: &Notification) {
        self.notifications.fetch_add(1, Ordering::Relaxed);
        let per_device = self.latest.entry(device.to_string()).or_default();
        let prefix = n
            .prefix
            .as_ref()
            .map(format_path)
            .filter(|p| p != "/")
            .unwrap_or_default();
        let mut accepted = 0;
        for u in &n.update {
            let (Some(path), Some(val)) = (&u.path, &u.val) else {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            if let Some(tx) = self.readings.get() {
                if let Some((port, reading)) = port_reading(path, val) {
                    let sent = reading.map_err(|_| ()).and_then(|reading| {
                        // A flooding device fills its share of the queue and is
                        // dropped, rather than stalling every other session.
                        tx.try_send(PortReading {
                            device: device.to_string(),
                            port,
                            reading,
                            timestamp_ns: n.timestamp,
                        })
                        .map_err(|_| ())
                    });
                    if sent.is_err() {
                        self.rejected.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            match typed_as_f64(val).filter(|v| v.is_finite()) {
                Some(value) => {
                    accepted += 1;
                    per_device.insert(
                        format!("{prefix}{}", format_path(path)),
                        Sample {
                            value,
                            timestamp_ns: n.timestamp,
                        },
                    );
                }
                // Strings (oper-status, names) are state, not samples.
                None => accepted += 1,
            }
        }
        self.samples.fetch_add(accepted, Ordering::Relaxed);
        crate::metrics::samples_ingested(accepted);
    }

    pub fn samples(&self) -> u64 {
        self.samples.load(Ordering::Relaxed)
    }

    pub fn notifications(&self) -> u64 {
        self.notifications.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn latest(&self, device: &str, path: &str) -> Option<Sample> {
        self.latest.get(device)?.get(path).map(|s| *s)
    }
}
