//! 400ZR wavelengths, after OpenConfig's ZR test profiles: the optical
//! channel component tuned, the line transceiver enabled, and a 400GE client
//! logical channel assigned to an OTN logical channel assigned to the optical
//! channel. Component names come from the device (`LinePort`), never from a
//! naming convention.

pub use crate::render::intent::{LinePort, WavelengthEnd};
use serde_json::json;

use super::{component, terminal_device};
use crate::render::{tagged, ConfigItem, DeviceEdit, Path};

/// Logical channels Strata numbers per line interface: client 40101 + 100·n,
/// OTN the next (n = the interface's position on the node).
pub const CHANNEL_BASE: u32 = 40_101;
pub const CHANNEL_STEP: u32 = 100;

pub fn client_channel(interface_position: usize) -> u32 {
    CHANNEL_BASE + CHANNEL_STEP * interface_position as u32
}

pub fn line_channel(client_channel: u32) -> u32 {
    client_channel + 1
}

pub fn logical_channel_path(index: u32) -> Path {
    terminal_device()
        .child("logical-channels")
        .entry("channel", &[("index", &index.to_string())])
}

fn tuning_path(och: &str) -> Path {
    component(och).child("optical-channel").child("config")
}

fn transceiver_path(transceiver: &str) -> Path {
    component(transceiver).child("transceiver").child("config")
}

/// The leaves Strata sets on an optical channel (and removes to untune it).
pub const TUNING_LEAVES: [&str; 3] = ["frequency", "target-output-power", "operational-mode"];

/// decimal64 travels as a string; one decimal is the model's precision
/// that matters for a target power.
fn decimal(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

pub fn program(w: &WavelengthEnd<'_>) -> DeviceEdit {
    let och = &w.line.optical_channel;
    let line = line_channel(w.client_channel);
    DeviceEdit {
        update: vec![
            ConfigItem {
                path: tuning_path(och),
                value: json!({
                    // uint64 and decimal64 travel as strings (RFC 7951)
                    "frequency": w.frequency_mhz.to_string(),
                    "target-output-power": decimal(w.target_power_dbm),
                    "operational-mode": w.operational_mode
                }),
            },
            ConfigItem {
                path: transceiver_path(&w.line.transceiver),
                value: json!({"enabled": true}),
            },
        ],
        replace: vec![
            ConfigItem {
                path: logical_channel_path(w.client_channel),
                value: json!({
                    "index": w.client_channel,
                    "config": {
                        "index": w.client_channel,
                        "description": tagged(&format!("{} client", w.wavelength)),
                        "admin-state": "ENABLED",
                        "rate-class": "openconfig-transport-types:TRIB_RATE_400G",
                        "trib-protocol": "openconfig-transport-types:PROT_400GE",
                        "logical-channel-type": "openconfig-transport-types:PROT_ETHERNET"
                    },
                    "logical-channel-assignments": {"assignment": [{
                        "index": 1,
                        "config": {
                            "index": 1, "assignment-type": "LOGICAL_CHANNEL",
                            "logical-channel": line, "allocation": "400"
                        }
                    }]}
                }),
            },
            ConfigItem {
                path: logical_channel_path(line),
                value: json!({
                    "index": line,
                    "config": {
                        "index": line,
                        "description": tagged(&format!("{} line", w.wavelength)),
                        "admin-state": "ENABLED",
                        "logical-channel-type": "openconfig-transport-types:PROT_OTN"
                    },
                    "logical-channel-assignments": {"assignment": [{
                        "index": 1,
                        "config": {
                            "index": 1, "assignment-type": "OPTICAL_CHANNEL",
                            "optical-channel": och, "allocation": "400"
                        }
                    }]}
                }),
            },
        ],
        delete: vec![],
    }
}

/// Removes the tuning leaves Strata set; the component (and its line-port
/// binding) is the device's and stays.
pub fn untune(och: &str) -> Vec<Path> {
    TUNING_LEAVES
        .iter()
        .map(|leaf| tuning_path(och).child(leaf))
        .collect()
}

/// Takes a wavelength end off: its two logical channels, and the tuning.
pub fn remove(och: &str, client_channel: u32) -> DeviceEdit {
    let mut delete = vec![
        logical_channel_path(client_channel),
        logical_channel_path(line_channel(client_channel)),
    ];
    delete.extend(untune(och));
    DeviceEdit {
        delete,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn line_1() -> LinePort {
        LinePort {
            interface: "line-1".into(),
            port: "port-line-1".into(),
            transceiver: "transceiver-line-1".into(),
            optical_channel: "och-line-1".into(),
            modes: vec![1],
        }
    }

    #[test]
    fn a_wavelength_end_tunes_enables_and_chains_client_otn_och() {
        let line = line_1();
        let edit = program(&WavelengthEnd {
            wavelength: "w1",
            line: &line,
            client_channel: client_channel(0),
            frequency_mhz: 193_175_000,
            target_power_dbm: -9.5,
            operational_mode: 1,
        });
        assert_eq!(
            edit.update[0].path.to_string(),
            "/components/component[name=och-line-1]/optical-channel/config"
        );
        assert_eq!(edit.update[0].value["frequency"], "193175000");
        assert_eq!(edit.update[0].value["target-output-power"], "-9.5");
        assert_eq!(
            edit.update[1].path.to_string(),
            "/components/component[name=transceiver-line-1]/transceiver/config"
        );
        let client = &edit.replace[0].value;
        assert_eq!(client["index"], 40101);
        assert_eq!(client["config"]["description"], "[strata] w1 client");
        let a = &client["logical-channel-assignments"]["assignment"][0]["config"];
        assert_eq!(
            (&a["logical-channel"], &a["allocation"]),
            (&json!(40102), &json!("400"))
        );
        let otn = &edit.replace[1].value;
        assert_eq!(otn["config"]["description"], "[strata] w1 line");
        let a = &otn["logical-channel-assignments"]["assignment"][0]["config"];
        assert_eq!(a["optical-channel"], "och-line-1");
    }

    #[test]
    fn removal_deletes_the_channels_and_only_the_tuning_leaves() {
        let edit = remove("och-line-1", 40101);
        let paths: Vec<String> = edit.delete.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            paths,
            [
                "/terminal-device/logical-channels/channel[index=40101]",
                "/terminal-device/logical-channels/channel[index=40102]",
                "/components/component[name=och-line-1]/optical-channel/config/frequency",
                "/components/component[name=och-line-1]/optical-channel/config/target-output-power",
                "/components/component[name=och-line-1]/optical-channel/config/operational-mode",
            ]
        );
    }

    #[test]
    fn powers_are_decimal_strings() {
        assert_eq!(decimal(-9.5), "-9.5");
        assert_eq!(decimal(0.0), "0");
        assert_eq!(decimal(-10.0), "-10");
        assert_eq!(decimal(1.25), "1.25");
    }
}
