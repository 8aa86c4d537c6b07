//! A bounded record of the SetRequests a device accepted, for tests that
//! check what a controller sent (the OpenConfig conformance test validates
//! every logged Set against the published models).
//!
//! Each device keeps its last [`SET_LOG_DEPTH`] accepted Sets. Optionally
//! (process-wide, off by default: it costs one tree export per Set) each entry
//! also carries the device's whole configuration right after the Set, as the
//! simulator exports it (RFC 7951 JSON, top-level members as the tree holds
//! them).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::gnmi::tree::{DataFilter, Tree};
use crate::proto::gnmi::{Path, SetRequest};

use super::device::SimDevice;

/// How many accepted Sets a device remembers.
pub const SET_LOG_DEPTH: usize = 1024;

static CAPTURE_CONFIG: AtomicBool = AtomicBool::new(false);

/// Process-wide: from now on, every logged Set also records the device's
/// configuration after it (tests only).
pub fn capture_config(on: bool) {
    CAPTURE_CONFIG.store(on, Ordering::Release);
}

/// One accepted Set.
#[derive(Debug, Clone)]
pub struct LoggedSet {
    /// 1, 2, … per device, counting Sets evicted from the ring too.
    pub seq: u64,
    pub request: SetRequest,
    /// The device's configuration after the Set (when capture is on).
    pub config_after: Option<serde_json::Value>,
}

#[derive(Debug, Default)]
pub struct SetLog {
    next: AtomicU64,
    ring: Mutex<VecDeque<LoggedSet>>,
}

impl SetLog {
    /// Records an accepted Set; `config` exports the tree when capture is on.
    pub fn record(&self, request: &SetRequest, config: impl FnOnce() -> serde_json::Value) {
        let config_after = CAPTURE_CONFIG.load(Ordering::Acquire).then(config);
        let seq = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == SET_LOG_DEPTH {
            ring.pop_front();
        }
        ring.push_back(LoggedSet {
            seq,
            request: request.clone(),
            config_after,
        });
    }

    /// The remembered Sets, oldest first.
    pub fn entries(&self) -> Vec<LoggedSet> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.iter().cloned().collect()
    }

    /// How many Sets were accepted in all (remembered or not).
    pub fn total(&self) -> u64 {
        self.next.load(Ordering::Relaxed)
    }
}

/// The configuration of a whole tree, as the device exports it.
pub fn config_of(tree: &Tree) -> serde_json::Value {
    tree.find(&Path::default())
        .ok()
        .and_then(|found| {
            found
                .first()
                .map(|f| Tree::export(f, true, DataFilter::Config))
        })
        .unwrap_or(serde_json::Value::Null)
}

impl SimDevice {
    /// The last Sets this device accepted, oldest first.
    pub fn accepted_sets(&self) -> Vec<LoggedSet> {
        self.set_log.entries()
    }

    /// How many Sets this device accepted since it was built.
    pub fn accepted_set_count(&self) -> u64 {
        self.set_log.total()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest_sets_in_order() {
        let log = SetLog::default();
        for i in 0..(SET_LOG_DEPTH + 5) {
            let req = SetRequest {
                delete: vec![Path {
                    target: i.to_string(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            log.record(&req, || serde_json::Value::Null);
        }
        let e = log.entries();
        assert_eq!(e.len(), SET_LOG_DEPTH);
        assert_eq!(e[0].seq, 6);
        assert_eq!(e[0].request.delete[0].target, "5");
        assert_eq!(e.last().unwrap().seq, (SET_LOG_DEPTH + 5) as u64);
        assert_eq!(log.total(), (SET_LOG_DEPTH + 5) as u64);
    }
}
