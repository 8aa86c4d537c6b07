//! SR-TE policies as openconfig-pf-srte: one forwarding rule per policy in
//! the policy `strata-srte` of the headend's DEFAULT instance.

pub use crate::render::intent::SrtePolicy;
use serde_json::{json, Value};

use super::network_instance;
use crate::render::{tagged, ConfigItem, DeviceEdit, Path};

pub const DEFAULT_INSTANCE: &str = "DEFAULT";
pub const POLICY_ID: &str = "strata-srte";
/// Strata's binding-SID block (from the SRLB): 15000 + sequence-id.
pub const BSID_BASE: u32 = 15_000;
pub const BSID_MAX: u32 = 15_999;
pub const PREFERENCE: u32 = 100;

/// Highest sequence-id whose binding SID stays inside Strata's block.
pub const MAX_SEQUENCE_ID: u32 = BSID_MAX - BSID_BASE;

pub fn policy_path() -> Path {
    network_instance(DEFAULT_INSTANCE)
        .child("policy-forwarding")
        .child("policies")
        .entry("policy", &[("policy-id", POLICY_ID)])
}

pub fn rule_path(sequence_id: u32) -> Path {
    policy_path()
        .child("rules")
        .entry("rule", &[("sequence-id", &sequence_id.to_string())])
}

/// The forwarding policy that holds Strata's rules. Merged, never replaced:
/// other rules in it must survive.
pub fn policy_container() -> ConfigItem {
    ConfigItem {
        path: policy_path(),
        value: json!({
            "policy-id": POLICY_ID,
            "config": {"policy-id": POLICY_ID, "type": "PBR_POLICY"}
        }),
    }
}

/// The rule, carrying only the policy's current segment list.
pub fn rule(p: &SrtePolicy<'_>) -> ConfigItem {
    let sids: Vec<Value> = p
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            // index is uint64: a string in RFC 7951
            let i = i.to_string();
            json!({"index": i, "config": {"index": i, "value": label}})
        })
        .collect();
    let list = p.discriminator.to_string();
    ConfigItem {
        path: rule_path(p.sequence_id),
        value: json!({
            "sequence-id": p.sequence_id,
            "config": {"sequence-id": p.sequence_id, "description": tagged(p.name)},
            "openconfig-pf-srte:srte": {"config": {
                "mpls-bsid": BSID_BASE + p.sequence_id,
                "srte-endpoint": p.endpoint,
                "srte-color": p.color,
                "srte-preference": PREFERENCE
            }},
            "action": {"openconfig-pf-srte:segment-lists": {"segment-list": [{
                "index": list,
                "config": {"index": list, "weight": 1},
                "sids": {"sid": sids}
            }]}}
        }),
    }
}

/// Puts the policy on its headend (or back, as it should be): the rule is
/// replaced whole inside a merged policy container, so other rules stay.
pub fn program(p: &SrtePolicy<'_>) -> DeviceEdit {
    DeviceEdit {
        replace: vec![rule(p)],
        update: vec![policy_container()],
        delete: vec![],
    }
}

/// Make-before-break in one Set: the rule replaced with only the new
/// segment list, so the old list goes out in the commit that brings the new in.
/// The policy container is merged in too: a headend that lost its config
/// (a wipe before reconcile caught up) would otherwise get a rule under a
/// policy entry with no `config/policy-id`, which the models reject.
pub fn reroute(p: &SrtePolicy<'_>) -> DeviceEdit {
    program(p)
}

pub fn remove(sequence_id: u32) -> DeviceEdit {
    DeviceEdit {
        delete: vec![rule_path(sequence_id)],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p1() -> SrtePolicy<'static> {
        SrtePolicy {
            name: "p1",
            sequence_id: 1,
            endpoint: "10.0.0.2",
            color: 100,
            labels: &[16003, 16002],
            discriminator: 7,
        }
    }

    #[test]
    fn the_rule_is_the_documented_one() {
        let item = rule(&p1());
        assert_eq!(
            item.path.to_string(),
            "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules/rule[sequence-id=1]"
        );
        let want: Value = serde_json::from_str(
            r#"{
              "sequence-id": 1,
              "config": {"sequence-id": 1, "description": "[strata] p1"},
              "openconfig-pf-srte:srte": {
                "config": {"mpls-bsid": 15001, "srte-endpoint": "10.0.0.2", "srte-color": 100, "srte-preference": 100}
              },
              "action": {
                "openconfig-pf-srte:segment-lists": {"segment-list": [{
                  "index": "7", "config": {"index": "7", "weight": 1},
                  "sids": {"sid": [
                    {"index": "0", "config": {"index": "0", "value": 16003}},
                    {"index": "1", "config": {"index": "1", "value": 16002}}
                  ]}
                }]}
              }
            }"#,
        )
        .unwrap();
        assert_eq!(item.value, want);
    }

    #[test]
    fn a_reroute_is_one_replace_of_the_rule_with_only_the_new_list() {
        let mut p = p1();
        p.discriminator = 8;
        let edit = reroute(&p);
        assert!(edit.delete.is_empty());
        assert_eq!(edit.update, vec![policy_container()]);
        assert_eq!(edit.replace.len(), 1);
        let lists =
            &edit.replace[0].value["action"]["openconfig-pf-srte:segment-lists"]["segment-list"];
        assert_eq!(lists.as_array().map(Vec::len), Some(1));
        assert_eq!(lists[0]["index"], "8");
    }

    #[test]
    fn programming_merges_the_policy_and_replaces_only_the_rule() {
        let edit = program(&p1());
        assert_eq!(edit.update[0].path, policy_path());
        assert_eq!(edit.update[0].value["config"]["type"], "PBR_POLICY");
        assert!(edit.replace[0].path.starts_with(&policy_path()));
        assert_eq!(remove(1).delete, vec![rule_path(1)]);
    }
}
