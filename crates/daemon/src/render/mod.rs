//! Intent → OpenConfig: the gNMI paths and JSON_IETF values that put an SR-TE
//! policy, an EVPN instance or a 400ZR channel on a device, and the paths that
//! take them off. Pure functions; the controller decides when to send them.

use serde_json::{json, Value};

use crate::gnmi::parse_path;
use crate::proto::gnmi::{typed_value, Path, SetRequest, TypedValue, Update};

/// Marks configuration Strata created, so reconciliation can tell it from
/// configuration someone else put on the device.
pub const OWNER: &str = "strata";

/// One piece of device configuration: where it lives and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigItem {
    pub path: String,
    pub value: Value,
}

impl ConfigItem {
    fn update(&self) -> Update {
        Update {
            path: Some(gnmi_path(&self.path)),
            val: Some(TypedValue {
                value: Some(typed_value::Value::JsonIetfVal(
                    serde_json::to_vec(&self.value).unwrap_or_default(),
                )),
            }),
            ..Default::default()
        }
    }
}

fn gnmi_path(text: &str) -> Path {
    // Every path here is built by this module from validated names; a parse
    // failure would be a bug, and an empty path makes the device refuse it.
    parse_path(text).unwrap_or_default()
}

/// A Set that replaces each item wholesale (so stale leaves such as an old SID
/// list go away) and deletes the given paths, atomically on the device.
pub fn set_request(replace: &[ConfigItem], delete: &[String]) -> SetRequest {
    SetRequest {
        replace: replace.iter().map(ConfigItem::update).collect(),
        delete: delete.iter().map(|p| gnmi_path(p)).collect(),
        ..Default::default()
    }
}

/// A Set that merges items into what the device has (used to add a new
/// candidate path next to the old one: make before break).
pub fn update_request(items: &[ConfigItem]) -> SetRequest {
    SetRequest {
        update: items.iter().map(ConfigItem::update).collect(),
        ..Default::default()
    }
}

/// Escapes `]` and `\` in a key value for the path text form.
fn key(v: &str) -> String {
    v.replace('\\', "\\\\").replace(']', "\\]")
}

// ------------------------------------------------------------------ SR-TE

pub struct SrPolicyConfig<'a> {
    pub name: &'a str,
    pub color: u32,
    pub endpoint: &'a str,
    pub labels: &'a [u32],
    /// Distinguishes successive candidate paths (make-before-break).
    pub discriminator: u32,
}

pub fn sr_policy_path(color: u32, endpoint: &str) -> String {
    format!(
        "/network-instances/network-instance[name=DEFAULT]/segment-routing/te-policies/te-policy[color={color}][endpoint={}]",
        key(endpoint)
    )
}

pub fn sr_policy(p: &SrPolicyConfig<'_>) -> ConfigItem {
    let sids: Vec<Value> = p
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| json!({"index": i, "config": {"index": i, "value": label}}))
        .collect();
    ConfigItem {
        path: sr_policy_path(p.color, p.endpoint),
        value: json!({
            "color": p.color,
            "endpoint": p.endpoint,
            "config": {"color": p.color, "endpoint": p.endpoint, "name": p.name, "owner": OWNER},
            "candidate-paths": {"candidate-path": [{
                "protocol-origin": "PCEP",
                "originator-id": OWNER,
                "originator-asn": 0,
                "discriminator": p.discriminator,
                "config": {
                    "protocol-origin": "PCEP", "originator-id": OWNER, "originator-asn": 0,
                    "discriminator": p.discriminator, "name": p.name, "preference": 100
                },
                "segment-lists": {"segment-list": [{
                    "id": 1,
                    "config": {"id": 1, "weight": 1},
                    "sids": {"sid": sids}
                }]}
            }]}
        }),
    }
}

// ------------------------------------------------------------------ EVPN

pub struct EvpnConfig<'a> {
    pub service_name: &'a str,
    pub evi: u32,
    pub vni: u32,
    pub route_distinguisher: &'a str,
    pub route_target: &'a str,
    /// (interface, VLAN) attachments on this PE.
    pub attachments: &'a [(String, u32)],
}

pub fn evpn_instance_name(evi: u32) -> String {
    format!("evpn-{evi}")
}

pub fn evpn_instance_path(evi: u32) -> String {
    format!(
        "/network-instances/network-instance[name={}]",
        evpn_instance_name(evi)
    )
}

pub fn subinterface_path(interface: &str, vlan: u32) -> String {
    format!(
        "/interfaces/interface[name={}]/subinterfaces/subinterface[index={vlan}]",
        key(interface)
    )
}

/// The MAC-VRF and its attachment circuits on one PE.
pub fn evpn_instance(c: &EvpnConfig<'_>) -> Vec<ConfigItem> {
    let name = evpn_instance_name(c.evi);
    let mut items: Vec<ConfigItem> = c
        .attachments
        .iter()
        .map(|(ifname, vlan)| ConfigItem {
            path: subinterface_path(ifname, *vlan),
            value: json!({
                "index": vlan,
                "config": {"index": vlan, "description": format!("{} ({})", c.service_name, OWNER), "enabled": true},
                "vlan": {"match": {"single-tagged": {"config": {"vlan-id": vlan}}}}
            }),
        })
        .collect();
    let ifaces: Vec<Value> = c
        .attachments
        .iter()
        .map(|(ifname, vlan)| {
            let id = format!("{ifname}.{vlan}");
            json!({"id": id, "config": {"id": id, "interface": ifname, "subinterface": vlan}})
        })
        .collect();
    items.push(ConfigItem {
        path: evpn_instance_path(c.evi),
        value: json!({
            "name": name,
            "config": {"name": name, "type": "MAC_VRF", "description": c.service_name, "owner": OWNER},
            "interfaces": {"interface": ifaces},
            "evpn": {"evpn-instances": {"evpn-instance": [{
                "evi": c.evi,
                "config": {
                    "evi": c.evi, "route-distinguisher": c.route_distinguisher,
                    "encapsulation-type": "VXLAN", "vni": c.vni, "service-type": "VLAN_BASED"
                },
                "route-targets": {"route-target": [{
                    "target": c.route_target,
                    "config": {"target": c.route_target, "type": "BOTH"}
                }]}
            }]}}
        }),
    });
    items
}

/// Paths to delete to remove an EVPN instance from a PE.
pub fn evpn_instance_delete(evi: u32, attachments: &[(String, u32)]) -> Vec<String> {
    let mut paths = vec![evpn_instance_path(evi)];
    paths.extend(attachments.iter().map(|(i, v)| subinterface_path(i, *v)));
    paths
}

// ------------------------------------------------------------------ 400ZR

pub struct OpticalChannelConfig<'a> {
    pub wavelength_name: &'a str,
    /// Line port (interface) the channel leaves on.
    pub port: &'a str,
    pub logical_channel: u32,
    pub frequency_mhz: u64,
    pub target_power_dbm: f64,
    pub operational_mode: u16,
}

pub fn optical_channel_component(port: &str) -> String {
    format!("och-{port}")
}

fn optical_channel_config_path(port: &str) -> String {
    format!(
        "/components/component[name={}]/optical-channel/config",
        key(&optical_channel_component(port))
    )
}

pub fn logical_channel_path(index: u32) -> String {
    format!("/terminal-device/logical-channels/channel[index={index}]")
}

/// Tunes the transponder on `port` and creates the 400G logical channel on it.
pub fn optical_channel(c: &OpticalChannelConfig<'_>) -> Vec<ConfigItem> {
    let och = optical_channel_component(c.port);
    vec![
        ConfigItem {
            path: optical_channel_config_path(c.port),
            value: json!({
                // RFC 7951: uint64 travels as a string
                "frequency": c.frequency_mhz.to_string(),
                "target-output-power": c.target_power_dbm.to_string(),
                "operational-mode": c.operational_mode,
                "line-port": format!("port-{}", c.port)
            }),
        },
        ConfigItem {
            path: logical_channel_path(c.logical_channel),
            value: json!({
                "index": c.logical_channel,
                "config": {
                    "index": c.logical_channel, "description": c.wavelength_name,
                    "admin-state": "ENABLED", "rate-class": "TRIB_RATE_400G",
                    "logical-channel-type": "PROT_ETHERNET", "owner": OWNER
                },
                "logical-channel-assignments": {"assignment": [{
                    "index": 1,
                    "config": {"index": 1, "assignment-type": "OPTICAL_CHANNEL", "optical-channel": och, "allocation": 400}
                }]}
            }),
        },
    ]
}

/// Untunes the transponder (keeping its line-port binding) and removes the
/// logical channel.
pub fn optical_channel_delete(port: &str, logical_channel: u32) -> (Vec<ConfigItem>, Vec<String>) {
    (
        vec![ConfigItem {
            path: optical_channel_config_path(port),
            value: json!({"line-port": format!("port-{port}")}),
        }],
        vec![logical_channel_path(logical_channel)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnmi::format_path;

    #[test]
    fn sr_policy_carries_the_label_stack_in_order() {
        let item = sr_policy(&SrPolicyConfig {
            name: "p1",
            color: 100,
            endpoint: "10.0.0.2",
            labels: &[16003, 24001, 16002],
            discriminator: 7,
        });
        let sids = &item.value["candidate-paths"]["candidate-path"][0]["segment-lists"]
            ["segment-list"][0]["sids"]["sid"];
        let labels: Vec<u64> = sids
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["config"]["value"].as_u64().unwrap())
            .collect();
        assert_eq!(labels, vec![16003, 24001, 16002]);
        assert_eq!(sids[2]["index"], 2);
        let req = set_request(&[item], &[]);
        assert_eq!(
            format_path(req.replace[0].path.as_ref().unwrap()),
            "/network-instances/network-instance[name=DEFAULT]/segment-routing/te-policies/te-policy[color=100][endpoint=10.0.0.2]"
        );
    }

    #[test]
    fn evpn_renders_subinterfaces_and_mac_vrf() {
        let items = evpn_instance(&EvpnConfig {
            service_name: "acme",
            evi: 1001,
            vni: 11001,
            route_distinguisher: "10.255.0.1:1001",
            route_target: "65000:1001",
            attachments: &[("ce-0/1/0".into(), 100)],
        });
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].path,
            "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=100]"
        );
        let inst = &items[1].value["evpn"]["evpn-instances"]["evpn-instance"][0];
        assert_eq!(inst["config"]["vni"], 11001);
        assert_eq!(
            inst["route-targets"]["route-target"][0]["target"],
            "65000:1001"
        );
        assert_eq!(
            evpn_instance_delete(1001, &[("ce-0/1/0".into(), 100)]),
            vec![
                "/network-instances/network-instance[name=evpn-1001]".to_string(),
                "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=100]"
                    .to_string()
            ]
        );
    }

    #[test]
    fn optical_channel_sets_frequency_power_and_mode() {
        let items = optical_channel(&OpticalChannelConfig {
            wavelength_name: "w1",
            port: "line-1",
            logical_channel: 101,
            frequency_mhz: 193_175_000,
            target_power_dbm: -9.5,
            operational_mode: 1,
        });
        assert_eq!(
            items[0].path,
            "/components/component[name=och-line-1]/optical-channel/config"
        );
        assert_eq!(items[0].value["frequency"], "193175000");
        assert_eq!(items[0].value["target-output-power"], "-9.5");
        assert_eq!(
            items[1].value["logical-channel-assignments"]["assignment"][0]["config"]
                ["optical-channel"],
            "och-line-1"
        );
    }
}
