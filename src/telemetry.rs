//! Telemetry ingest: what the southbound subscriptions deliver, counted and
//! kept as the latest value per device and path. Smoothing, thresholds and
//! breach detection build on this.

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

#[derive(Default)]
pub struct Ingest {
    samples: AtomicU64,
    notifications: AtomicU64,
    dropped: AtomicU64,
    latest: DashMap<String, DashMap<String, Sample>>,
}

impl Ingest {
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
