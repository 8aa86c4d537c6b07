//! The controller's live fabric state that operators look at: per-device
//! session status, with change events on a broadcast channel.

use std::time::SystemTime;

use dashmap::DashMap;
use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    Connecting,
    Up,
    Down,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceStatus {
    pub state: SessionState,
    pub since: SystemTime,
    pub last_error: Option<String>,
    /// How many times a session to this device came up.
    pub connects: u64,
    /// Models the device announced in Capabilities.
    pub models: Vec<String>,
    /// Why the last reconciliation of this device did not complete; `None`
    /// once one has (or before the first).
    pub reconcile_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    DeviceUp { device: String },
    DeviceDown { device: String, error: String },
}

pub struct FabricState {
    devices: DashMap<String, DeviceStatus>,
    events: broadcast::Sender<Event>,
}

impl Default for FabricState {
    fn default() -> Self {
        let (events, _) = broadcast::channel(4096);
        FabricState {
            devices: DashMap::new(),
            events,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SessionCounts {
    pub connecting: usize,
    pub up: usize,
    pub down: usize,
}

impl FabricState {
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn device(&self, name: &str) -> Option<DeviceStatus> {
        self.devices.get(name).map(|d| d.clone())
    }

    pub fn device_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.devices.iter().map(|e| e.key().clone()).collect();
        names.sort();
        names
    }

    pub fn counts(&self) -> SessionCounts {
        let mut c = SessionCounts::default();
        for d in self.devices.iter() {
            match d.state {
                SessionState::Connecting => c.connecting += 1,
                SessionState::Up => c.up += 1,
                SessionState::Down => c.down += 1,
            }
        }
        c
    }

    /// Records how the last reconciliation of `device` ended.
    pub fn reconciled(&self, device: &str, outcome: Result<(), String>) {
        if let Some(mut d) = self.devices.get_mut(device) {
            d.reconcile_error = outcome.err();
        }
    }

    pub fn session_connecting(&self, device: &str) {
        let mut entry = self
            .devices
            .entry(device.to_string())
            .or_insert_with(|| DeviceStatus {
                state: SessionState::Connecting,
                since: SystemTime::now(),
                last_error: None,
                connects: 0,
                models: vec![],
                reconcile_error: None,
            });
        if entry.state != SessionState::Connecting {
            entry.state = SessionState::Connecting;
            entry.since = SystemTime::now();
        }
    }

    pub fn session_up(&self, device: &str, models: Vec<String>) {
        if let Some(mut d) = self.devices.get_mut(device) {
            d.state = SessionState::Up;
            d.since = SystemTime::now();
            d.connects += 1;
            d.models = models;
        }
        let _ = self.events.send(Event::DeviceUp {
            device: device.to_string(),
        });
    }

    pub fn session_down(&self, device: &str, error: &str) {
        let was_up = self.devices.get_mut(device).map(|mut d| {
            let was_up = d.state == SessionState::Up;
            if d.state != SessionState::Down {
                d.since = SystemTime::now();
            }
            d.state = SessionState::Down;
            d.last_error = Some(error.to_string());
            was_up
        });
        if was_up == Some(true) {
            let _ = self.events.send(Event::DeviceDown {
                device: device.to_string(),
                error: error.to_string(),
            });
        }
    }

    pub fn forget(&self, device: &str) {
        self.devices.remove(device);
    }
}
