//! Putting configuration on devices as one unit: each device gets a single
//! atomic gNMI Set, all devices at once; if any refuses, the devices that
//! took theirs are put back, so a failed request leaves no partial
//! configuration behind.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::proto::gnmi::{GetRequest, GetResponse, SetRequest};
use crate::render::DeviceEdit;
use crate::southbound::{request, Southbound, SouthboundError};

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
    pub edit: DeviceEdit,
    pub undo: DeviceEdit,
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

    /// Adds `edit` for `device`, taken back by `undo`.
    pub fn add(&mut self, device: &str, edit: DeviceEdit, undo: DeviceEdit) {
        let d = self.device(device);
        d.edit.extend(edit);
        d.undo.extend(undo);
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }
}

/// Sends `edit` to `device` as one Set; an edit that cannot become a valid
/// Set is refused here and never reaches the device.
pub async fn send(
    programmer: &dyn Programmer,
    device: &str,
    edit: &DeviceEdit,
) -> Result<(), SouthboundError> {
    let req = request::set_request(edit).map_err(|e| SouthboundError::BadRequest {
        device: device.to_string(),
        reason: e.to_string(),
    })?;
    programmer.set(device, req).await
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
            (device, change, send(programmer, device, &change.edit).await)
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
        if send(programmer, dev, &ch.undo).await.is_err() {
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
        if send(programmer, device, &change.undo).await.is_err() {
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

    /// Answers the facts Get (`southbound::facts`) as a transponder that names
    /// its line components after the interface; refuses any other read.
    async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        let ifname = req
            .path
            .first()
            .filter(|p| p.elem.len() == 4 && p.elem[3].name == "hardware-port")
            .and_then(|p| p.elem[1].key.get("name").cloned())
            .ok_or_else(|| SouthboundError::Unavailable {
                device: device.to_string(),
                reason: "the recorder answers only the facts Get".into(),
            })?;
        Ok(sample_transponder(&ifname, &req))
    }
}

/// What a transponder following OpenConfig's ZR profile reports about one
/// line interface, answering the facts Get `req` (hardware-port, components,
/// operational modes, in that order), for test doubles.
pub fn sample_transponder(ifname: &str, req: &GetRequest) -> GetResponse {
    use crate::proto::gnmi::{typed_value, Notification, TypedValue, Update};
    let (port, xcvr, och) = (
        format!("port-{ifname}"),
        format!("transceiver-{ifname}"),
        format!("och-{ifname}"),
    );
    let components = serde_json::json!({"component": [
        {"name": port, "state": {"name": port, "type": "openconfig-platform-types:PORT"},
         "subcomponents": {"subcomponent": [{"name": xcvr, "state": {"name": xcvr}}]}},
        {"name": xcvr, "state": {"name": xcvr, "type": "openconfig-platform-types:TRANSCEIVER"}},
        {"name": och, "state": {"name": och, "type": "openconfig-transport-types:OPTICAL_CHANNEL"},
         "openconfig-terminal-device:optical-channel": {"state": {"line-port": port}}}
    ]});
    let modes = serde_json::json!({"mode": (1..=4).map(|m| serde_json::json!({
        "mode-id": m, "state": {"mode-id": m}
    })).collect::<Vec<_>>()});
    let update = |path: Option<&crate::proto::gnmi::Path>, value: serde_json::Value| Update {
        path: path.cloned(),
        val: Some(TypedValue {
            value: Some(typed_value::Value::JsonIetfVal(
                serde_json::to_vec(&value).unwrap_or_default(),
            )),
        }),
        ..Default::default()
    };
    GetResponse {
        notification: vec![Notification {
            update: vec![
                update(req.path.first(), serde_json::Value::String(port.clone())),
                update(req.path.get(1), components),
                update(req.path.get(2), modes),
            ],
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{ConfigItem, Path};
    use serde_json::json;

    fn create(p: &str) -> (DeviceEdit, DeviceEdit) {
        let path = Path::root().child(p);
        let edit = DeviceEdit {
            replace: vec![ConfigItem {
                path: path.clone(),
                value: json!({}),
            }],
            ..Default::default()
        };
        let undo = DeviceEdit {
            delete: vec![path],
            ..Default::default()
        };
        (edit, undo)
    }

    #[tokio::test]
    async fn a_refusal_rolls_back_devices_already_changed() {
        let rec = Recorder::new();
        *rec.refuse.lock().unwrap() = Some("c".into());
        let mut plan = Plan::default();
        for (d, p) in [("a", "x"), ("b", "y"), ("c", "z")] {
            let (edit, undo) = create(p);
            plan.add(d, edit, undo);
        }
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
