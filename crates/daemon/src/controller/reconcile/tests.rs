//! Reconciliation against devices that hold their configuration as one
//! RFC 7951 document (`fake`): what the device holds is what a Get returns.

use crate::northbound::ControllerApi;
use std::sync::Arc;

use serde_json::json;

use super::fake::Devices;
use super::*;
use crate::controller::programmer::{send, Programmer};
use crate::proto::strata::v1 as api;
use crate::render::openconfig::{evpn, interface, network_instance, srte};
use crate::render::ConfigItem;

fn small() -> crate::model::Topology {
    crate::topology::parse_str(include_str!("../../../../../examples/small.yaml")).unwrap()
}

async fn fabric_with_intents() -> (Arc<Devices>, Arc<Controller>) {
    let topology = small();
    let devices = Devices::of(&topology);
    let c = Controller::new(topology, devices.clone(), None);
    c.create_policy(api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: "p".into(),
            headend: "pe1".into(),
            endpoint: "pe3".into(),
            color: 200,
            constraints: None,
        }),
    })
    .await
    .unwrap();
    c.create_service(api::CreateServiceRequest {
        request_id: String::new(),
        spec: Some(api::ServiceSpec {
            name: "eline".into(),
            r#type: api::ServiceType::ELine as i32,
            attachments: ["pe1", "pe2"]
                .iter()
                .map(|d| api::Attachment {
                    device: d.to_string(),
                    interface: "ce-0/1/0".into(),
                    vlan: 40,
                })
                .collect(),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    c.create_wavelength(api::CreateWavelengthRequest {
        request_id: String::new(),
        spec: Some(api::WavelengthSpec {
            name: "wl".into(),
            a: "ot1".into(),
            b: "ot2".into(),
            ..Default::default()
        }),
    })
    .await
    .unwrap();
    (devices, c)
}

/// Writes each device's whole configuration to `$STRATA_DUMP_DIR/<device>.json`
/// (when set), for validation against the published models.
fn dump(devices: &Devices, names: &[&str], tag: &str) {
    let Ok(dir) = std::env::var("STRATA_DUMP_DIR") else {
        return;
    };
    for d in names {
        let path = std::path::Path::new(&dir).join(format!("{tag}-{d}.json"));
        let text = serde_json::to_string_pretty(&devices.config(d)).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[tokio::test]
async fn a_device_in_step_needs_nothing() {
    let (devices, c) = fabric_with_intents().await;
    dump(&devices, &["pe1", "pe2", "pe3", "ot1", "ot2"], "intents");
    for d in ["pe1", "pe2", "pe3", "ot1", "ot2"] {
        let change = c.reconcile_device(d).await.unwrap();
        assert_eq!(change, DeviceEdit::default(), "{d}");
    }
}

#[tokio::test]
async fn a_device_that_restarted_empty_gets_everything_back() {
    let (devices, c) = fabric_with_intents().await;
    for d in ["pe1", "ot1"] {
        let before = devices.config(d);
        devices.with(d, |dev| dev.wipe());
        assert_ne!(devices.config(d), before, "{d} was wiped");
        let change = c.reconcile_device(d).await.unwrap();
        assert!(change.delete.is_empty());
        let want = c.desired_config(d).unwrap();
        assert_eq!(change.replace, want.replace);
        assert_eq!(change.update, want.update);
        assert_eq!(devices.config(d), before, "{d} is back as it was");
        assert_eq!(c.reconcile_device(d).await.unwrap(), DeviceEdit::default());
    }
}

fn rule(name: &str, seq: u32, description: Option<&str>) -> DeviceEdit {
    let mut edit = srte::program(&srte::SrtePolicy {
        name,
        sequence_id: seq,
        endpoint: "10.255.0.2",
        color: 300,
        labels: &[16002],
        discriminator: 1,
    });
    if let Some(d) = description {
        edit.replace[0].value["config"]["description"] = d.into();
    }
    edit
}

#[tokio::test]
async fn stale_strata_config_is_removed_and_foreign_config_kept() {
    let (devices, c) = fabric_with_intents().await;
    let wanted = c.desired_config("pe1").unwrap();
    // A stale Strata rule (left by a create that crashed before it was
    // journaled), an operator's rule in Strata's policy, and foreign objects
    // with names that need escaping.
    let mut behind_our_back = rule("stale", 9, None);
    behind_our_back.extend(rule("by-hand", 10, Some("operator's")));
    let odd = "x]y\\z";
    behind_our_back.replace.push(ConfigItem {
        path: network_instance(odd),
        value: json!({"name": odd, "config": {"name": odd,
            "type": "openconfig-network-instance-types:L3VRF", "description": "[strata]x"}}),
    });
    behind_our_back.replace.push(ConfigItem {
        path: evpn::subinterface_path("ce-0/1/0", 77),
        value: json!({"index": 77, "config": {"index": 77, "description": "ops vlan"}}),
    });
    send(devices.as_ref(), "pe1", &behind_our_back)
        .await
        .unwrap();
    let change = c.reconcile_device("pe1").await.unwrap();
    assert_eq!(change.delete, vec![srte::rule_path(9)]);
    assert!(
        change.replace.is_empty() && change.update.is_empty(),
        "{change:?}"
    );
    let cfg = devices.config("pe1");
    let nis = field(&cfg, "network-instances").unwrap();
    let base = crate::render::openconfig::network_instances();
    assert!(locate(nis, &base, &srte::rule_path(9)).is_none());
    assert!(locate(nis, &base, &srte::rule_path(10)).is_some());
    assert!(locate(nis, &base, &network_instance(odd)).is_some());
    let ifs = field(&cfg, "interfaces").unwrap();
    let sub = evpn::subinterface_path("ce-0/1/0", 77);
    assert!(locate(ifs, &crate::render::openconfig::interfaces(), &sub).is_some());
    assert!(interface("ce-0/1/0").elems.len() == 2);
    assert_eq!(c.desired_config("pe1").unwrap(), wanted);
    assert_eq!(
        c.reconcile_device("pe1").await.unwrap(),
        DeviceEdit::default()
    );
}

#[tokio::test]
async fn a_deleted_wavelengths_leftovers_are_cleaned_and_the_port_untuned() {
    let (devices, c) = fabric_with_intents().await;
    let w = c.list_wavelengths().remove(0);
    let tuned = devices.config("ot1").to_string();
    assert!(tuned.contains(&w.frequency_mhz.to_string()), "{tuned}");
    // The controller forgets the wavelength without touching the devices
    // (as after a crash between device Set and journal write).
    c.write().remove_wavelength(&w.id);
    let change = c.reconcile_device("ot1").await.unwrap();
    let deleted: Vec<String> = change.delete.iter().map(|p| p.to_string()).collect();
    assert_eq!(deleted.len(), 5, "{deleted:?}");
    assert_eq!(
        deleted
            .iter()
            .filter(|p| p.contains("logical-channels"))
            .count(),
        2
    );
    assert!(deleted.iter().all(|p| !p.contains("transceiver")));
    let after = devices.config("ot1").to_string();
    assert!(!after.contains(&w.frequency_mhz.to_string()), "{after}");
    assert!(
        after.contains("line-port"),
        "the component's own binding stays"
    );
    assert_eq!(
        c.reconcile_device("ot1").await.unwrap(),
        DeviceEdit::default()
    );
}

#[test]
fn contains_tolerates_prefixes_text_numbers_and_extra_leaves() {
    let have = serde_json::json!({
        "openconfig-x:config": {"frequency": "193100000", "mode": 1, "extra": true},
        "srte": {"t": "openconfig-y:FOO"},
        "list": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}]
    });
    let want = serde_json::json!({
        "config": {"frequency": 193100000u64, "mode": "1"},
        "openconfig-z:srte": {"t": "FOO"},
        "list": [{"k": 2, "v": "b"}]
    });
    assert!(contains(&have, &want));
    let drift = serde_json::json!({"config": {"mode": 2}});
    assert!(!contains(&have, &drift));
    let missing = serde_json::json!({"list": [{"k": 3}]});
    assert!(!contains(&have, &missing));
}

#[tokio::test]
async fn a_drifted_policy_is_put_back() {
    let (devices, c) = fabric_with_intents().await;
    let wanted = c.desired_config("pe1").unwrap();
    let policy = c
        .read()
        .policies
        .values()
        .find(|p| p.spec.name == "p")
        .unwrap()
        .clone();
    let mut drifted = policy.clone();
    drifted.segments.clear();
    send(devices.as_ref(), "pe1", &drifted.render(srte::reroute))
        .await
        .unwrap();
    let change = c.reconcile_device("pe1").await.unwrap();
    assert_eq!(change.replace, policy.config(Dialect::OpenConfig).replace);
    assert!(change.delete.is_empty() && change.update.is_empty());
    assert_eq!(
        c.reconcile_device("pe1").await.unwrap(),
        DeviceEdit::default()
    );
    assert_eq!(c.desired_config("pe1").unwrap(), wanted);
}

#[tokio::test]
async fn a_root_delete_is_never_sent() {
    let devices = Devices::of(&small());
    let err = send(
        devices.as_ref(),
        "pe1",
        &DeviceEdit {
            delete: vec![crate::render::Path::root()],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("root"), "{err}");
    assert_eq!(devices.with("pe1", |d| d.sets), 0);
    let _ = devices.get("pe1", Default::default()).await;
}

#[tokio::test]
async fn documents_after_reroute_and_deletes_stay_valid_and_in_step() {
    use crate::controller::reroute::LinkCondition;
    let (devices, c) = fabric_with_intents().await;
    let report = c
        .link_condition("pe1-pe3", LinkCondition::Down, "test")
        .await;
    assert!(!report.rerouted.is_empty(), "{report:?}");
    dump(&devices, &["pe1"], "rerouted");
    assert_eq!(
        c.reconcile_device("pe1").await.unwrap(),
        DeviceEdit::default()
    );
    for s in c.list_services() {
        c.delete_service(&s.id, 0).await.unwrap();
    }
    for w in c.list_wavelengths() {
        c.delete_wavelength(&w.id, 0).await.unwrap();
    }
    dump(&devices, &["pe1", "pe2", "ot1"], "deleted");
    let ot1 = devices.config("ot1").to_string();
    assert!(
        !ot1.contains("[strata]") && !ot1.contains("frequency"),
        "{ot1}"
    );
    assert!(ot1.contains("line-port"));
    let pe2 = devices.config("pe2").to_string();
    assert!(
        !pe2.contains("strata-evpn") && !pe2.contains("[strata]"),
        "{pe2}"
    );
    for d in ["pe1", "pe2", "ot1"] {
        assert_eq!(
            c.reconcile_device(d).await.unwrap(),
            DeviceEdit::default(),
            "{d}"
        );
    }
}

#[tokio::test]
async fn a_rule_left_with_two_segment_lists_is_put_back_to_one() {
    let (devices, c) = fabric_with_intents().await;
    let policy = c
        .read()
        .policies
        .values()
        .find(|p| p.spec.name == "p")
        .unwrap()
        .clone();
    // As if a reroute had merged a new list in instead of replacing the rule.
    let mut extra = policy.clone();
    extra.discriminator = 9;
    let mut merged = extra.render(srte::reroute);
    merged.update = std::mem::take(&mut merged.replace);
    send(devices.as_ref(), "pe1", &merged).await.unwrap();
    let change = c.reconcile_device("pe1").await.unwrap();
    assert_eq!(change.replace, policy.config(Dialect::OpenConfig).replace);
    let cfg = devices.config("pe1").to_string();
    assert_eq!(
        cfg.matches("\"weight\"").count(),
        2,
        "one list per rule: {cfg}"
    );
}

#[tokio::test]
async fn a_device_that_lost_a_model_its_intents_need_is_reported_not_repaired() {
    let topology = small();
    let devices = Devices::of(&topology);
    let state = Arc::new(crate::state::FabricState::default());
    let c = Controller::new(topology, devices.clone(), Some(state.clone()));
    c.create_policy(api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: "p".into(),
            headend: "pe1".into(),
            endpoint: "pe3".into(),
            color: 200,
            constraints: None,
        }),
    })
    .await
    .unwrap();
    let sets = devices.with("pe1", |d| d.sets);
    // pe1 comes back (say, after a downgrade) without openconfig-pf-srte.
    state.session_connecting("pe1");
    state.session_up(
        "pe1",
        vec![
            "openconfig-interfaces".into(),
            "openconfig-network-instance".into(),
        ],
    );
    let err = c.reconcile_device("pe1").await.unwrap_err();
    assert!(err.contains("device pe1 lacks openconfig-pf-srte"), "{err}");
    assert_eq!(devices.with("pe1", |d| d.sets), sets, "nothing sent");
    // pe2 holds nothing of the policy's kind: it is reconciled as usual.
    assert_eq!(
        c.reconcile_device("pe2").await.unwrap(),
        DeviceEdit::default()
    );
}
