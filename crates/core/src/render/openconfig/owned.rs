//! What on a device is Strata's, by the marks render puts there (OpenConfig
//! has no owner leaf): rules of `strata-srte` in DEFAULT, network instances
//! named `strata-evpn-<evi>`, and subinterfaces and logical channels whose
//! description carries the `[strata] ` tag. Everything else is foreign.

pub use crate::render::intent::Owned;
use serde_json::Value;

use super::{evpn, network_instance, optical, srte};
use crate::render::json::{config_leaf, entries, field, identity, text};
use crate::render::{is_tagged, Path};

fn tagged(entry: &Value) -> bool {
    config_leaf(entry, "description").is_some_and(|d| is_tagged(&d))
}

fn key<T: std::str::FromStr>(entry: &Value, name: &str) -> Option<T> {
    field(entry, name).map(text)?.parse().ok()
}

/// Strata's objects in `observed` (container path → its config JSON).
pub fn owned(observed: &[(Path, Value)]) -> Vec<Owned> {
    let mut out = Vec::new();
    let plain = |path| Owned { path, tuned: None };
    for (base, root) in observed {
        match base.elems.as_slice() {
            [e] if e.name == "network-instances" => {
                for ni in entries(Some(root), "network-instance") {
                    let Some(name) = field(ni, "name").map(text) else {
                        continue;
                    };
                    let evi = name
                        .strip_prefix(evpn::INSTANCE_PREFIX)
                        .and_then(|n| n.parse::<u32>().ok());
                    if evi.is_some_and(|evi| evpn::instance_name(evi) == name) {
                        out.push(plain(network_instance(&name)));
                    }
                    if name != srte::DEFAULT_INSTANCE {
                        continue;
                    }
                    let policies =
                        field(ni, "policy-forwarding").and_then(|p| field(p, "policies"));
                    for policy in entries(policies, "policy") {
                        if field(policy, "policy-id").map(text).as_deref() != Some(srte::POLICY_ID)
                        {
                            continue;
                        }
                        for rule in entries(field(policy, "rules"), "rule").filter(|r| tagged(r)) {
                            if let Some(seq) = key(rule, "sequence-id") {
                                out.push(plain(srte::rule_path(seq)));
                            }
                        }
                    }
                }
            }
            [e] if e.name == "interfaces" => {
                for i in entries(Some(root), "interface") {
                    let Some(name) = field(i, "name").map(text) else {
                        continue;
                    };
                    for s in
                        entries(field(i, "subinterfaces"), "subinterface").filter(|s| tagged(s))
                    {
                        if let Some(index) = key(s, "index") {
                            out.push(plain(evpn::subinterface_path(&name, index)));
                        }
                    }
                }
            }
            [e] if e.name == "terminal-device" => {
                let channels = field(root, "logical-channels");
                for lc in entries(channels, "channel").filter(|c| tagged(c)) {
                    let Some(index) = key(lc, "index") else {
                        continue;
                    };
                    let tuned = entries(field(lc, "logical-channel-assignments"), "assignment")
                        .find(|a| {
                            config_leaf(a, "assignment-type")
                                .is_some_and(|t| identity(&t) == "OPTICAL_CHANNEL")
                        })
                        .and_then(|a| config_leaf(a, "optical-channel"));
                    out.push(Owned {
                        path: optical::logical_channel_path(index),
                        tuned,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::openconfig::{interfaces, network_instances, terminal_device};
    use serde_json::json;

    #[test]
    fn only_marked_objects_are_strata_s() {
        let nis = json!({"network-instance": [
            {"name": "DEFAULT", "policy-forwarding": {"policies": {"policy": [
                {"policy-id": "strata-srte", "rules": {"rule": [
                    {"sequence-id": 3, "config": {"description": "[strata] p"}},
                    {"sequence-id": 4, "config": {"description": "by hand"}}
                ]}},
                {"policy-id": "ops", "rules": {"rule": [
                    {"sequence-id": 5, "config": {"description": "[strata] not here"}}
                ]}}
            ]}}},
            {"name": "strata-evpn-1001"},
            {"name": "strata-evpn-x]y"},
            {"name": "x]y", "config": {"description": "[strata] odd"}}
        ]});
        let ifs = json!({"openconfig-interfaces:interface": [
            {"name": "x]y", "subinterfaces": {"subinterface": [
                {"index": 7, "config": {"description": "[strata] svc"}},
                {"index": 8, "config": {"description": "foreign"}}
            ]}}
        ]});
        let td = json!({"logical-channels": {"channel": [
            {"index": 40102, "config": {"description": "[strata] w line"},
             "logical-channel-assignments": {"assignment": [{"index": 1, "config": {
                "assignment-type": "OPTICAL_CHANNEL", "optical-channel": "och-9"}}]}},
            {"index": 9, "config": {"description": "someone's"}}
        ]}});
        let found = owned(&[
            (network_instances(), nis),
            (interfaces(), ifs),
            (terminal_device(), td),
        ]);
        let paths: Vec<String> = found.iter().map(|o| o.path.to_string()).collect();
        assert_eq!(
            paths,
            [
                "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules/rule[sequence-id=3]",
                "/network-instances/network-instance[name=strata-evpn-1001]",
                r"/interfaces/interface[name=x\]y]/subinterfaces/subinterface[index=7]",
                "/terminal-device/logical-channels/channel[index=40102]",
            ]
        );
        assert_eq!(found[3].tuned.as_deref(), Some("och-9"));
    }
}
