//! What the controller sends, against the OpenConfig contract: rule numbers,
//! make-before-break in one Set, discovered transponder facts, Capabilities.

use super::persist::JournalEntries;
use crate::northbound::ControllerApi;
use std::sync::Arc;

use super::programmer::{Programmer, Recorder};
use super::reroute::LinkCondition;
use super::Controller;
use crate::gnmi::format_path;
use crate::proto::gnmi::{GetRequest, GetResponse, SetRequest};
use crate::proto::strata::v1 as api;
use crate::southbound::SouthboundError;

fn small() -> crate::model::Topology {
    crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
        .expect("valid example")
}

fn policy(name: &str, headend: &str, endpoint: &str, color: u32) -> api::CreatePolicyRequest {
    api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: name.into(),
            headend: headend.into(),
            endpoint: endpoint.into(),
            color,
            constraints: None,
        }),
    }
}

fn json(u: &crate::proto::gnmi::Update) -> serde_json::Value {
    match u.val.as_ref().and_then(|v| v.value.as_ref()) {
        Some(crate::proto::gnmi::typed_value::Value::JsonIetfVal(b)) => {
            serde_json::from_slice(b).unwrap()
        }
        other => panic!("not JSON_IETF: {other:?}"),
    }
}

fn sequence_of(c: &Controller, id: &str) -> u32 {
    c.read().policies[id].sequence_id
}

#[tokio::test]
async fn rule_numbers_are_per_headend_and_reused_after_a_delete() {
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    let a = c
        .create_policy(policy("a", "pe1", "pe2", 100))
        .await
        .unwrap();
    let b = c
        .create_policy(policy("b", "pe1", "pe3", 100))
        .await
        .unwrap();
    let other = c
        .create_policy(policy("o", "pe2", "pe3", 100))
        .await
        .unwrap();
    assert_eq!([&a, &b, &other].map(|p| sequence_of(&c, &p.id)), [1, 2, 1]);
    let sets = rec.take();
    let bsid =
        json(&sets[1].1.replace[0])["openconfig-pf-srte:srte"]["config"]["mpls-bsid"].clone();
    assert_eq!(bsid, 15002);
    c.delete_policy(&a.id, 0).await.unwrap();
    let (_, del) = rec.take().remove(0);
    assert_eq!(
        del.delete.iter().map(format_path).collect::<Vec<_>>(),
        ["/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules/rule[sequence-id=1]"]
    );
    let again = c
        .create_policy(policy("a2", "pe1", "pe2", 200))
        .await
        .unwrap();
    assert_eq!(sequence_of(&c, &again.id), 1);
}

#[tokio::test]
async fn make_before_break_is_one_set_replacing_the_rule_with_only_the_new_list() {
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    let p = c
        .create_policy(policy("p", "pe1", "pe2", 100))
        .await
        .unwrap();
    let q = c
        .create_policy(policy("q", "pe1", "pe2", 200))
        .await
        .unwrap();
    rec.take();
    let report = c
        .link_condition("pe1-pe2", LinkCondition::Down, "test")
        .await;
    assert_eq!(report.rerouted.len(), 2, "{report:?}");
    let sets = rec.take();
    assert_eq!(sets.len(), 1, "both moves in one Set on pe1");
    let (device, req) = &sets[0];
    assert_eq!(device, "pe1");
    // Nothing deleted; merged beside the rules only their policy container, once.
    assert!(req.delete.is_empty(), "{req:?}");
    assert_eq!(req.update.len(), 1, "{req:?}");
    let mut seqs = Vec::new();
    for u in &req.replace {
        let v = json(u);
        seqs.push(v["sequence-id"].as_u64().unwrap());
        let lists = v["action"]["openconfig-pf-srte:segment-lists"]["segment-list"]
            .as_array()
            .unwrap();
        assert_eq!(lists.len(), 1, "only the new list");
        assert_eq!(lists[0]["index"], "2", "a new discriminator");
    }
    seqs.sort();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(c.read().policies[&p.id].discriminator, 2);
    assert_eq!(c.read().policies[&q.id].sequence_id, 2);
}

/// A transponder that cannot say what is behind its line port.
struct Mute(Arc<Recorder>);

#[tonic::async_trait]
impl Programmer for Mute {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        self.0.set(device, req).await
    }

    async fn get(&self, _: &str, _: GetRequest) -> Result<GetResponse, SouthboundError> {
        Ok(GetResponse::default())
    }
}

fn ot1_ot2() -> api::CreateWavelengthRequest {
    api::CreateWavelengthRequest {
        request_id: String::new(),
        spec: Some(api::WavelengthSpec {
            name: "wl".into(),
            a: "ot1".into(),
            b: "ot2".into(),
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn a_wavelength_is_programmed_on_the_components_the_device_names() {
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    c.create_wavelength(ot1_ot2()).await.unwrap();
    let sets = rec.take();
    assert_eq!(sets.len(), 2);
    let (_, req) = &sets[0];
    let updates: Vec<String> = req
        .update
        .iter()
        .map(|u| format_path(u.path.as_ref().unwrap()))
        .collect();
    assert_eq!(
        updates,
        [
            "/components/component[name=och-line-1]/optical-channel/config",
            "/components/component[name=transceiver-line-1]/transceiver/config",
        ]
    );
    assert_eq!(req.replace.len(), 2, "client and OTN logical channels");
    // Optical telemetry naming the component finds its interface.
    assert_eq!(
        c.interface_of_component("ot1", "och-line-1").as_deref(),
        Some("line-1")
    );
}

#[tokio::test]
async fn a_wavelength_on_an_unknown_port_is_refused_naming_device_and_port() {
    let rec = Recorder::new();
    let c = Controller::new(small(), Arc::new(Mute(rec.clone())), None);
    let err = c.create_wavelength(ot1_ot2()).await.unwrap_err();
    assert!(
        err.to_string().contains("device ot1: interface line-1"),
        "{err}"
    );
    assert!(rec.take().is_empty(), "nothing programmed");
    assert!(c.list_wavelengths().is_empty());
}

#[tokio::test]
async fn a_device_lacking_a_model_is_not_programmed() {
    let rec = Recorder::new();
    let state = Arc::new(crate::state::FabricState::default());
    state.session_connecting("pe1");
    state.session_up(
        "pe1",
        vec![
            "openconfig-interfaces".into(),
            "openconfig-network-instance".into(),
        ],
    );
    let c = Controller::new(small(), rec.clone(), Some(state));
    let err = c
        .create_policy(policy("p", "pe1", "pe2", 100))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "device pe1 lacks openconfig-pf-srte (needed for an SR-TE policy); not programmed"
    );
    assert!(rec.take().is_empty());
    // A device whose session is not up is not judged on Capabilities.
    c.create_policy(policy("p", "pe2", "pe1", 100))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_journal_from_before_rule_numbers_gets_them_on_load() {
    use crate::proto::strata::store::v1::entry::Op;
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    let a = c
        .create_policy(policy("a", "pe1", "pe2", 100))
        .await
        .unwrap();
    let b = c
        .create_policy(policy("b", "pe1", "pe3", 100))
        .await
        .unwrap();
    let mut entries: Vec<_> = {
        let inner = c.read();
        [&a.id, &b.id]
            .iter()
            .map(|id| inner.policy_entry(&inner.policies[*id]))
            .collect()
    };
    // `a` as an old journal wrote it; `b` already numbered 2.
    if let Some(Op::Policy(p)) = entries[0].op.as_mut() {
        p.sequence_id = 0;
    }
    if let Some(Op::Policy(p)) = entries[1].op.as_mut() {
        p.sequence_id = 1;
    }
    let replayed = crate::store::Replayed {
        entries,
        next_id: 10,
        revision: 10,
        recovery: Default::default(),
    };
    let restored = Controller::new(small(), rec, None);
    restored.restore(&replayed).unwrap();
    assert_eq!(sequence_of(&restored, &b.id), 1);
    assert_eq!(sequence_of(&restored, &a.id), 2);
}

#[tokio::test]
async fn a_journal_holding_one_rule_number_twice_renumbers_the_second() {
    use crate::proto::strata::store::v1::entry::Op;
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    let a = c
        .create_policy(policy("a", "pe1", "pe2", 100))
        .await
        .unwrap();
    let b = c
        .create_policy(policy("b", "pe1", "pe3", 100))
        .await
        .unwrap();
    let mut entries: Vec<_> = {
        let inner = c.read();
        [&a.id, &b.id]
            .iter()
            .map(|id| inner.policy_entry(&inner.policies[*id]))
            .collect()
    };
    for e in &mut entries {
        if let Some(Op::Policy(p)) = e.op.as_mut() {
            p.sequence_id = 1;
        }
    }
    let replayed = crate::store::Replayed {
        entries,
        next_id: 10,
        revision: 10,
        recovery: Default::default(),
    };
    let restored = Controller::new(small(), rec, None);
    restored.restore(&replayed).unwrap();
    assert_eq!(sequence_of(&restored, &a.id), 1);
    assert_eq!(sequence_of(&restored, &b.id), 2);
}
