//! Putting configuration on devices as one unit: each device gets a single
//! atomic gNMI Set, all devices at once; if any refuses, the devices that
//! took theirs are put back, so a failed request leaves no partial
//! configuration behind.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::proto::gnmi::{GetRequest, GetResponse, SetRequest};
use crate::render::{self, ConfigItem};
use crate::southbound::{Southbound, SouthboundError};

#[tonic::async_trait]
pub trait Programmer: Send + Sync {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError>;

    /// Reads configuration back, for reconciliation.
    async fn get(&self, device: &str, _req: GetRequest) -> Result<GetResponse, SouthboundError> {
        Err(SouthboundError::Unavailable {
            device: device.to_string(),
            reason: "this programmer cannot read devices".into(),
        })
    }
}

#[tonic::async_trait]
impl Programmer for Southbound {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        Southbound::set(self, device, req).await.map(|_| ())
    }

    async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        Southbound::get(self, device, req).await
    }
}

/// What to do to one device, and how to take it back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceChange {
    pub replace: Vec<ConfigItem>,
    pub delete: Vec<String>,
    pub undo_replace: Vec<ConfigItem>,
    pub undo_delete: Vec<String>,
}

/// Changes for many devices, applied in device-name order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub devices: BTreeMap<String, DeviceChange>,
}

impl Plan {
    pub fn device(&mut self, name: &str) -> &mut DeviceChange {
        self.devices.entry(name.to_string()).or_default()
    }

    /// Adds config to create (undone by deleting `undo_paths`).
    pub fn create(&mut self, device: &str, items: Vec<ConfigItem>, undo_paths: Vec<String>) {
        let d = self.device(device);
        d.replace.extend(items);
        d.undo_delete.extend(undo_paths);
    }

    /// Adds config to remove (undone by re-creating `restore`).
    pub fn remove(&mut self, device: &str, paths: Vec<String>, restore: Vec<ConfigItem>) {
        let d = self.device(device);
        d.delete.extend(paths);
        d.undo_replace.extend(restore);
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApplyError {
    pub device: String,
    pub error: SouthboundError,
    /// Devices whose rollback also failed (left for reconciliation).
    pub rollback_failed: Vec<String>,
}

pub async fn apply(programmer: &dyn Programmer, plan: &Plan) -> Result<(), ApplyError> {
    // Devices are independent: program them all at once, then take back
    // whatever went through if any one refused.
    let results =
        futures::future::join_all(plan.devices.iter().map(|(device, change)| async move {
            let req = render::set_request(&change.replace, &change.delete);
            (device, change, programmer.set(device, req).await)
        }))
        .await;
    let mut done = Vec::new();
    let mut failed = None;
    for (device, change, result) in results {
        match result {
            Ok(()) => done.push((device, change)),
            Err(error) => {
                failed.get_or_insert((device.clone(), error));
            }
        }
    }
    let Some((device, error)) = failed else {
        return Ok(());
    };
    let mut rollback_failed = Vec::new();
    for (dev, ch) in done.into_iter().rev() {
        let undo = render::set_request(&ch.undo_replace, &ch.undo_delete);
        if programmer.set(dev, undo).await.is_err() {
            rollback_failed.push(dev.clone());
        }
    }
    Err(ApplyError {
        device,
        error,
        rollback_failed,
    })
}

/// Takes back every device change in `plan` (after the devices accepted it but
/// the controller could not keep it). Returns the devices that refused.
pub async fn revert(programmer: &dyn Programmer, plan: &Plan) -> Vec<String> {
    let mut stuck = Vec::new();
    for (device, change) in plan.devices.iter().rev() {
        let undo = render::set_request(&change.undo_replace, &change.undo_delete);
        if programmer.set(device, undo).await.is_err() {
            stuck.push(device.clone());
        }
    }
    stuck
}

/// A programmer that records every Set (and can be told to refuse a device),
/// for deterministic tests without sockets.
#[derive(Default)]
pub struct Recorder {
    pub sets: Mutex<Vec<(String, SetRequest)>>,
    pub refuse: Mutex<Option<String>>,
}

impl Recorder {
    pub fn new() -> Arc<Self> {
        Arc::new(Recorder::default())
    }

    pub fn take(&self) -> Vec<(String, SetRequest)> {
        std::mem::take(&mut *self.sets.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[tonic::async_trait]
impl Programmer for Recorder {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        if self
            .refuse
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            == Some(device)
        {
            return Err(SouthboundError::Unavailable {
                device: device.to_string(),
                reason: "refused by test".into(),
            });
        }
        self.sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((device.to_string(), req));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(p: &str) -> ConfigItem {
        ConfigItem {
            path: p.to_string(),
            value: json!({}),
        }
    }

    #[tokio::test]
    async fn a_refusal_rolls_back_devices_already_changed() {
        let rec = Recorder::new();
        *rec.refuse.lock().unwrap() = Some("c".into());
        let mut plan = Plan::default();
        plan.create("a", vec![item("/x")], vec!["/x".into()]);
        plan.create("b", vec![item("/y")], vec!["/y".into()]);
        plan.create("c", vec![item("/z")], vec!["/z".into()]);
        let err = apply(rec.as_ref(), &plan).await.unwrap_err();
        assert_eq!(err.device, "c");
        let sets = rec.take();
        let order: Vec<(&str, usize, usize)> = sets
            .iter()
            .map(|(d, r)| (d.as_str(), r.replace.len(), r.delete.len()))
            .collect();
        // a, b applied; then b and a undone (deletes), in reverse order
        assert_eq!(
            order,
            vec![("a", 1, 0), ("b", 1, 0), ("b", 0, 1), ("a", 0, 1)]
        );
    }
}
