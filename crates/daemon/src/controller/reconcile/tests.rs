//! Reconciliation against a simulated device's real gNMI service, called
//! in-process (no sockets): what the device holds is what a Get returns.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::controller::programmer::Programmer;
use crate::proto::gnmi::g_nmi_server::GNmi;
use crate::proto::gnmi::{GetResponse, SetRequest};
use crate::proto::strata::v1 as api;
use crate::southbound::SouthboundError;
use strata_sim::device::SimDevice;
use strata_sim::server::GnmiTarget;

struct Devices(HashMap<String, (Arc<SimDevice>, GnmiTarget)>);

impl Devices {
    fn of(topology: &crate::model::Topology) -> Arc<Self> {
        Arc::new(Devices(
            topology
                .nodes
                .iter()
                .map(|n| {
                    let d = Arc::new(SimDevice::from_topology(topology, &n.name).unwrap());
                    (n.name.clone(), (d.clone(), GnmiTarget::in_process(d)))
                })
                .collect(),
        ))
    }

    fn device(&self, name: &str) -> &SimDevice {
        &self.0[name].0
    }

    fn config(&self, name: &str) -> Value {
        self.device(name).read(|t| {
            let root = t.find(&crate::gnmi::parse_path("/").unwrap()).unwrap();
            crate::gnmi::tree::Tree::export(&root[0], true, crate::gnmi::tree::DataFilter::Config)
        })
    }
}

fn rejected(device: &str, s: tonic::Status) -> SouthboundError {
    SouthboundError::Rejected {
        device: device.to_string(),
        code: s.code(),
        message: s.message().to_string(),
    }
}

#[tonic::async_trait]
impl Programmer for Devices {
    async fn set(&self, device: &str, req: SetRequest) -> Result<(), SouthboundError> {
        GNmi::set(&self.0[device].1, tonic::Request::new(req))
            .await
            .map(|_| ())
            .map_err(|s| rejected(device, s))
    }

    async fn get(&self, device: &str, req: GetRequest) -> Result<GetResponse, SouthboundError> {
        GNmi::get(&self.0[device].1, tonic::Request::new(req))
            .await
            .map(|r| r.into_inner())
            .map_err(|s| rejected(device, s))
    }
}

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

#[tokio::test]
async fn a_device_in_step_needs_nothing() {
    let (_devices, c) = fabric_with_intents().await;
    for d in ["pe1", "pe2", "pe3", "ot1", "ot2"] {
        let change = c.reconcile_device(d).await.unwrap();
        assert_eq!(change, DeviceChange::default(), "{d}");
    }
}

#[tokio::test]
async fn a_device_that_restarted_empty_gets_everything_back() {
    let (devices, c) = fabric_with_intents().await;
    for d in ["pe1", "ot1"] {
        let before = devices.config(d);
        devices.device(d).wipe();
        assert_ne!(devices.config(d), before, "{d} was wiped");
        let change = c.reconcile_device(d).await.unwrap();
        assert!(change.delete.is_empty());
        assert_eq!(change.replace, c.desired_config(d));
        assert_eq!(devices.config(d), before, "{d} is back as it was");
        // And then it is in step.
        assert_eq!(
            c.reconcile_device(d).await.unwrap(),
            DeviceChange::default()
        );
    }
}

#[tokio::test]
async fn strata_config_it_no_longer_wants_is_removed_and_foreign_config_kept() {
    let (devices, c) = fabric_with_intents().await;
    // Someone else's policy, and a stale Strata policy (e.g. left by a
    // create that crashed before it was journaled).
    let stale = crate::controller::policies::render_policy("stale", 300, "10.255.0.2", &[], 1);
    let mut foreign = stale.clone();
    foreign.path = render::sr_policy_path(301, "10.255.0.2");
    foreign.value["color"] = 301.into();
    foreign.value["config"]["color"] = 301.into();
    foreign.value["config"]["owner"] = "operator".into();
    foreign.value["config"]["name"] = "by-hand".into();
    devices
        .set(
            "pe1",
            render::set_request(&[stale.clone(), foreign.clone()], &[]),
        )
        .await
        .unwrap();
    let wanted = c.desired_config("pe1");
    let change = c.reconcile_device("pe1").await.unwrap();
    assert_eq!(change.delete, vec![stale.path.clone()]);
    assert!(change.replace.is_empty(), "{:?}", change.replace);
    let cfg = devices.config("pe1").to_string();
    assert!(cfg.contains("by-hand"), "foreign config is left alone");
    let all = devices.config("pe1");
    let ni = field(&all, "network-instances").unwrap();
    assert!(locate(ni, "/network-instances", &stale.path).is_none());
    assert!(locate(ni, "/network-instances", &foreign.path).is_some());
    assert_eq!(c.desired_config("pe1"), wanted);
}

#[tokio::test]
async fn a_deleted_wavelengths_leftovers_are_cleaned_and_the_port_untuned() {
    let (devices, c) = fabric_with_intents().await;
    let tuned = devices.config("ot1");
    let w = c.list_wavelengths().remove(0);
    // The controller forgets the wavelength without touching the devices
    // (as after a crash between device Set and journal write).
    c.write().remove_wavelength(&w.id);
    let change = c.reconcile_device("ot1").await.unwrap();
    assert_eq!(change.delete.len(), 1, "{change:?}");
    assert!(change.delete[0].contains("logical-channels"));
    assert_eq!(change.replace.len(), 1, "the port is untuned");
    let after = devices.config("ot1").to_string();
    assert_ne!(devices.config("ot1"), tuned);
    assert!(!after.contains(&w.frequency_mhz.to_string()), "{after}");
}

#[test]
fn contains_tolerates_prefixes_text_numbers_and_extra_leaves() {
    let have = serde_json::json!({
        "openconfig-x:config": {"frequency": "193100000", "mode": 1, "extra": true},
        "list": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}]
    });
    let want = serde_json::json!({
        "config": {"frequency": 193100000u64, "mode": "1"},
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
    let wanted = c.desired_config("pe1");
    let policy = wanted
        .iter()
        .find(|i| i.path.contains("te-policy[color=200]"))
        .unwrap()
        .clone();
    let drifted = crate::controller::policies::render_policy("p", 200, "10.255.0.3", &[], 1);
    assert_eq!(drifted.path, policy.path);
    devices
        .set("pe1", render::set_request(&[drifted], &[]))
        .await
        .unwrap();
    let change = c.reconcile_device("pe1").await.unwrap();
    assert_eq!(change.replace, vec![policy]);
    assert!(change.delete.is_empty());
    assert_eq!(
        c.reconcile_device("pe1").await.unwrap(),
        DeviceChange::default()
    );
}
