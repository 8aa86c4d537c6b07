//! E-Line / E-LAN as an L2VSI network instance with one EVPN instance
//! (VXLAN, VLAN-based), and one tagged subinterface per attachment.

pub use crate::render::intent::EvpnInstance;
use serde_json::{json, Value};

use super::{interface, network_instance};
use crate::render::{tagged, ConfigItem, DeviceEdit, Path};

/// Prefix of the name of every EVPN network instance Strata renders.
pub const INSTANCE_PREFIX: &str = "strata-evpn-";

pub fn instance_name(evi: u32) -> String {
    format!("{INSTANCE_PREFIX}{evi}")
}

pub fn instance_path(evi: u32) -> Path {
    network_instance(&instance_name(evi))
}

pub fn subinterface_path(ifname: &str, index: u32) -> Path {
    interface(ifname)
        .child("subinterfaces")
        .entry("subinterface", &[("index", &index.to_string())])
}

/// The attachment circuit: subinterface `vlan` matching single-tagged `vlan`.
pub fn subinterface(service: &str, ifname: &str, vlan: u32) -> ConfigItem {
    ConfigItem {
        path: subinterface_path(ifname, vlan),
        value: json!({
            "index": vlan,
            "config": {"index": vlan, "description": tagged(service), "enabled": true},
            "openconfig-vlan:vlan": {"match": {"single-tagged": {"config": {"vlan-id": vlan}}}}
        }),
    }
}

pub fn instance(e: &EvpnInstance<'_>) -> ConfigItem {
    let name = instance_name(e.evi);
    let ifaces: Vec<Value> = e
        .attachments
        .iter()
        .map(|(ifname, vlan)| {
            let id = format!("{ifname}.{vlan}");
            json!({"id": id, "config": {"id": id, "interface": ifname, "subinterface": vlan}})
        })
        .collect();
    let evi = e.evi.to_string();
    ConfigItem {
        path: instance_path(e.evi),
        value: json!({
            "name": name,
            "config": {
                "name": name,
                "type": "openconfig-network-instance-types:L2VSI",
                "description": tagged(e.service)
            },
            "interfaces": {"interface": ifaces},
            "evpn": {"evpn-instances": {"evpn-instance": [{
                "evi": evi,
                "config": {
                    "evi": evi,
                    "route-distinguisher": e.route_distinguisher,
                    "encapsulation-type": "openconfig-network-instance-types:VXLAN",
                    "service-type": "openconfig-evpn-types:VLAN_BASED"
                },
                "import-export-policy": {"config": {
                    "export-route-target": [e.route_target],
                    "import-route-target": [e.route_target]
                }},
                "vxlan": {"config": {"vni": e.vni}}
            }]}}
        }),
    }
}

/// Subinterfaces and the instance on one PE, each Strata's whole.
pub fn program(e: &EvpnInstance<'_>) -> DeviceEdit {
    let mut replace: Vec<ConfigItem> = e
        .attachments
        .iter()
        .map(|(ifname, vlan)| subinterface(e.service, ifname, *vlan))
        .collect();
    replace.push(instance(e));
    DeviceEdit {
        replace,
        ..Default::default()
    }
}

pub fn remove(evi: u32, attachments: &[(String, u32)]) -> DeviceEdit {
    let mut delete = vec![instance_path(evi)];
    delete.extend(attachments.iter().map(|(i, v)| subinterface_path(i, *v)));
    DeviceEdit {
        delete,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eline_pe_is_tagged_subinterfaces_and_an_l2vsi() {
        let atts = [("ce-0/1/0".to_string(), 100)];
        let edit = program(&EvpnInstance {
            service: "acme",
            evi: 1001,
            vni: 11001,
            route_distinguisher: "10.255.0.1:1001",
            route_target: "65000:1001",
            attachments: &atts,
        });
        assert_eq!(
            edit.replace[0].path.to_string(),
            "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=100]"
        );
        assert_eq!(
            edit.replace[0].value["config"]["description"],
            "[strata] acme"
        );
        assert_eq!(
            edit.replace[0].value["openconfig-vlan:vlan"]["match"]["single-tagged"]["config"]
                ["vlan-id"],
            100
        );
        let ni = &edit.replace[1];
        assert_eq!(
            ni.path.to_string(),
            "/network-instances/network-instance[name=strata-evpn-1001]"
        );
        assert_eq!(
            ni.value["config"]["type"],
            "openconfig-network-instance-types:L2VSI"
        );
        let inst = &ni.value["evpn"]["evpn-instances"]["evpn-instance"][0];
        assert_eq!(inst["evi"], "1001");
        assert_eq!(inst["vxlan"]["config"]["vni"], 11001);
        assert_eq!(
            inst["import-export-policy"]["config"]["import-route-target"][0],
            "65000:1001"
        );
        assert_eq!(
            remove(1001, &atts).delete,
            vec![instance_path(1001), subinterface_path("ce-0/1/0", 100)]
        );
    }
}
