//! Which port an IS-IS measurement is about. The RFC 8570 sub-TLVs sit under
//! an extended-IS-reachability *instance* of the router's own LSP; only the
//! instance's link-id sub-TLV (local ifindex) and the interfaces' ifindex
//! leaves tie it to an interface name. Both arrive in the same stream as the
//! measurements, in no promised order, so a measurement whose link is not yet
//! known waits (its newest value per measure) instead of being guessed at.
//!
//! Memory is bounded by the device: at most `MAX_INTERFACES` ifindexes, and
//! instances up to the number of interfaces the device reported (with a floor,
//! since instances may stream before interfaces do). Instance ids need not
//! survive a readvertisement (openconfig-isis), so when full the instance
//! seen longest ago goes.

use std::collections::HashMap;
use std::sync::Arc;

use super::health::Reading;
use super::openconfig::{InstanceKey, Own};

/// A device reporting more interfaces than this is not believed further.
pub const MAX_INTERFACES: usize = 65_536;
/// Instances kept before any interface is known (or on small devices).
pub const MIN_INSTANCES: usize = 256;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Readings waiting for their link: delay, loss.
const PENDING: usize = 2;

fn slot(r: &Reading) -> Option<usize> {
    match r {
        Reading::DelayUs(_) => Some(0),
        Reading::LossPercent(_) => Some(1),
        _ => None,
    }
}

pub(super) struct Instance {
    /// Local ifindex from the link-id sub-TLV.
    local: Option<u32>,
    seen_ns: i64,
    /// Text of the instance's path: the `latest` entries under it go with it.
    pub(super) path: Box<str>,
    pending: [Option<(Reading, i64)>; PENDING],
}

impl Instance {
    fn has_pending(&self) -> bool {
        self.pending.iter().any(Option::is_some)
    }
}

#[derive(Default)]
pub(super) struct Links {
    pub(super) own: Own,
    by_index: FastMap<u32, Arc<str>>,
    index_of: FastMap<Arc<str>, u32>,
    instances: FastMap<InstanceKey, Instance>,
    /// Instances holding a pending reading (skips the scan when none).
    pending: usize,
    /// A mapping changed in the current notification.
    changed: bool,
    /// The current notification's IS-IS readings, resolved at its end so
    /// that a link-id later in the same notification counts.
    measured: Vec<(InstanceKey, Reading, i64)>,
}

impl Links {
    /// A new session: numbering may have changed while the device was away.
    pub fn reset(&mut self, own: Own) {
        *self = Links {
            own,
            measured: std::mem::take(&mut self.measured),
            ..Links::default()
        };
        self.measured.clear();
    }

    #[cfg(test)]
    pub fn interfaces(&self) -> usize {
        self.by_index.len()
    }

    #[cfg(test)]
    pub fn instances(&self) -> usize {
        self.instances.len()
    }

    pub fn port_of_index(&self, index: u32) -> Option<&Arc<str>> {
        self.by_index.get(&index)
    }

    /// `port` has ifindex `index`. False if refused (too many interfaces).
    pub fn set_ifindex(&mut self, port: &Arc<str>, index: u32) -> bool {
        if self
            .by_index
            .get(&index)
            .is_some_and(|p| Arc::ptr_eq(p, port))
            && self.index_of.get(port) == Some(&index)
        {
            return true;
        }
        if !self.index_of.contains_key(port) && self.index_of.len() >= MAX_INTERFACES {
            return false;
        }
        if let Some(old) = self.index_of.insert(port.clone(), index) {
            if self
                .by_index
                .get(&old)
                .is_some_and(|p| Arc::ptr_eq(p, port))
            {
                self.by_index.remove(&old);
            }
        }
        if let Some(prev) = self.by_index.insert(index, port.clone()) {
            // The number moved to another interface: the previous one no
            // longer has it.
            if !Arc::ptr_eq(&prev, port) && self.index_of.get(&prev) == Some(&index) {
                self.index_of.remove(&prev);
            }
        }
        self.changed = true;
        true
    }

    pub fn remove_interface(&mut self, port: &str) {
        if let Some(index) = self.index_of.remove(port) {
            if self.by_index.get(&index).is_some_and(|p| &**p == port) {
                self.by_index.remove(&index);
            }
        }
    }

    /// The instance `key`, made if new (`path` gives its text). A made
    /// instance may push out the one seen longest ago; its path is returned
    /// so its `latest` entries can go too.
    pub fn touch(
        &mut self,
        key: InstanceKey,
        ts: i64,
        path: impl FnOnce() -> Box<str>,
    ) -> (Option<&mut Instance>, Option<Box<str>>) {
        let mut evicted = None;
        if !self.instances.contains_key(&key) {
            let cap = self.by_index.len().max(MIN_INSTANCES);
            if self.instances.len() >= cap {
                let oldest = self
                    .instances
                    .iter()
                    .min_by_key(|(_, i)| i.seen_ns)
                    .map(|(k, _)| *k);
                if let Some(old) = oldest.and_then(|k| self.remove_instance(&k)) {
                    evicted = Some(old.path);
                }
            }
            self.instances.insert(
                key,
                Instance {
                    local: None,
                    seen_ns: ts,
                    path: path(),
                    pending: [None; PENDING],
                },
            );
        }
        match self.instances.get_mut(&key) {
            Some(i) => {
                i.seen_ns = i.seen_ns.max(ts);
                (Some(i), evicted)
            }
            None => (None, evicted),
        }
    }

    pub fn set_link_id(&mut self, key: InstanceKey, local: Option<u32>) {
        if let Some(i) = self.instances.get_mut(&key) {
            if i.local != local {
                i.local = local;
                self.changed = true;
            }
        }
    }

    pub fn remove_instance(&mut self, key: &InstanceKey) -> Option<Instance> {
        let gone = self.instances.remove(key)?;
        if gone.has_pending() {
            self.pending -= 1;
        }
        Some(gone)
    }

    /// Removes every instance `gone` picks; their paths go to `paths`.
    pub fn remove_instances_where(
        &mut self,
        mut gone: impl FnMut(&InstanceKey) -> bool,
        paths: &mut Vec<Box<str>>,
    ) {
        let keys: Vec<InstanceKey> = self.instances.keys().filter(|k| gone(k)).copied().collect();
        for k in keys {
            if let Some(i) = self.remove_instance(&k) {
                paths.push(i.path);
            }
        }
    }

    /// A measurement of instance `key` (already touched), judged at the end
    /// of the notification.
    pub fn measure(&mut self, key: InstanceKey, reading: Reading, ts: i64) {
        self.measured.push((key, reading, ts));
    }

    /// Resolves the notification's measurements (and, if a mapping changed,
    /// earlier ones that were waiting) to ports; `emit` gets each. Returns
    /// how many had lost their instance.
    pub fn finish(&mut self, mut emit: impl FnMut(&Arc<str>, Reading, i64)) -> u64 {
        let mut lost = 0;
        let Links {
            by_index,
            instances,
            pending,
            changed,
            measured,
            ..
        } = self;
        if std::mem::take(changed) && *pending > 0 {
            for inst in instances.values_mut() {
                if !inst.has_pending() {
                    continue;
                }
                let Some(port) = inst.local.and_then(|l| by_index.get(&l)) else {
                    continue;
                };
                for p in &mut inst.pending {
                    if let Some((r, ts)) = p.take() {
                        emit(port, r, ts);
                    }
                }
                *pending -= 1;
            }
        }
        for (key, reading, ts) in measured.drain(..) {
            let Some(inst) = instances.get_mut(&key) else {
                // Pushed out by a flood of instances within this notification.
                lost += 1;
                continue;
            };
            match inst.local.and_then(|l| by_index.get(&l)) {
                Some(port) => emit(port, reading, ts),
                None => {
                    let Some(s) = slot(&reading) else { continue };
                    if !inst.has_pending() {
                        *pending += 1;
                    }
                    inst.pending[s] = Some((reading, ts));
                }
            }
        }
        lost
    }
}
