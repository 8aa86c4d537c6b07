//! Who is changing which device, so reconciliation never needs a lock across
//! its Get and Set.
//!
//! A reconcile pass compares what Strata wants (its records) with what the
//! device holds. Two things could make that comparison stale while the pass
//! does I/O: a change between its programming and its commit (the device
//! already holds the new state, the records not yet), and a change programmed
//! after the pass read the device. The first is visible as an *in-flight*
//! count per device (the pipeline and reroutes hold it from before their Sets
//! until after their commit); the second as the device's *epoch*, bumped by
//! every Set. A pass starts only on a quiet device, and sends its repair only
//! if the device is still quiet at the same epoch — under the device's write
//! turn, which every Set to that device takes, so nothing slips in between
//! the check and the Set. The turn is per device and held only around a Set:
//! one slow device delays only writes to itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::programmer::Programmer;
use crate::proto::gnmi::{GetRequest, GetResponse, SetRequest};
use crate::southbound::SouthboundError;

#[derive(Default)]
struct Writes {
    in_flight: usize,
    epoch: u64,
}

#[derive(Default)]
pub(crate) struct DeviceWrites {
    state: Mutex<HashMap<String, Writes>>,
    turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Marks devices as being changed until dropped (after the change's commit or
/// revert), then bumps their epoch.
pub(crate) struct Writing<'a> {
    writes: &'a DeviceWrites,
    devices: Vec<String>,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut state = self.writes.lock();
        for d in &self.devices {
            let w = state.entry(d.clone()).or_default();
            w.in_flight = w.in_flight.saturating_sub(1);
            w.epoch += 1;
        }
    }
}

impl DeviceWrites {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Writes>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn writing<'a, I, S>(&'a self, devices: I) -> Writing<'a>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let devices: Vec<String> = devices
            .into_iter()
            .map(|d| d.as_ref().to_string())
            .collect();
        let mut state = self.lock();
        for d in &devices {
            state.entry(d.clone()).or_default().in_flight += 1;
        }
        Writing {
            writes: self,
            devices,
        }
    }

    /// The device's epoch if no change to it is in flight.
    pub fn quiet_epoch(&self, device: &str) -> Option<u64> {
        let state = self.lock();
        match state.get(device) {
            Some(w) if w.in_flight > 0 => None,
            Some(w) => Some(w.epoch),
            None => Some(0),
        }
    }

    fn bump(&self, device: &str) {
        self.lock().entry(device.to_string()).or_default().epoch += 1;
    }

    /// The device's write turn: held around each Set to it.
    pub async fn turn(&self, device: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            turns.entry(device.to_string()).or_default().clone()
        };
        turn.lock_owned().await
    }

    /// Sends `req` only if `device` is still quiet at `epoch`; `Ok(false)` if
    /// something changed it meanwhile (the caller comes back later).
    pub async fn set_if_unchanged(
        &self,
        programmer: &dyn Programmer,
        device: &str,
        epoch: u64,
        req: SetRequest,
    ) -> Result<bool, SouthboundError> {
        let _turn = self.turn(device).await;
        if self.quiet_epoch(device) != Some(epoch) {
            return Ok(false);
        }
        let r = programmer.set(device, req).await;
        self.bump(device);
        r.map(|()| true)
    }
}

/// The controller's programmer: every Set takes its device's write turn and
/// bumps its epoch.
pub(crate) struct TurnTaking {
    pub inner: Arc<dyn Programmer>,
    pub writes: Arc<DeviceWrites>,
}

#[tonic::async_trait]
impl Programmer for TurnTaking {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        let _turn = self.writes.turn(device).await;
        let r = self.inner.set(device, req).await;
        self.writes.bump(device);
        r
    }

    async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        self.inner.get(device, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_quiet_only_between_changes_and_each_change_moves_its_epoch() {
        let w = DeviceWrites::default();
        assert_eq!(w.quiet_epoch("pe1"), Some(0));
        let writing = w.writing(["pe1", "pe2"]);
        assert_eq!(w.quiet_epoch("pe1"), None);
        assert_eq!(w.quiet_epoch("pe3"), Some(0));
        drop(writing);
        assert_eq!(w.quiet_epoch("pe1"), Some(1));
        assert_eq!(w.quiet_epoch("pe2"), Some(1));
    }

    #[tokio::test]
    async fn a_repair_is_not_sent_over_a_change_made_after_the_device_was_read() {
        let rec = super::super::programmer::Recorder::new();
        let w = DeviceWrites::default();
        let epoch = w.quiet_epoch("pe1").unwrap();
        // A reroute's Set lands between the pass's Get and its repair.
        w.bump("pe1");
        let sent = w
            .set_if_unchanged(rec.as_ref(), "pe1", epoch, SetRequest::default())
            .await
            .unwrap();
        assert!(!sent);
        assert!(rec.take().is_empty());
        let epoch = w.quiet_epoch("pe1").unwrap();
        assert!(w
            .set_if_unchanged(rec.as_ref(), "pe1", epoch, SetRequest::default())
            .await
            .unwrap());
        assert_eq!(rec.take().len(), 1);
    }
}
