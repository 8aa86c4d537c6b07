//! The simulators are real gNMI targets: Capabilities, Get, Set (transactional)
//! and every Subscribe mode, with the status codes the gNMI spec gives.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use strata::proto::gnmi::{
    get_request, subscribe_request, subscribe_response, subscription_list, CapabilityRequest,
    Encoding, GetRequest, SetRequest, SubscribeRequest, Subscription, SubscriptionList,
    SubscriptionMode,
};
use tokio_stream::StreamExt;

fn get(paths: &[&str], encoding: Encoding) -> GetRequest {
    GetRequest {
        path: paths.iter().map(|p| path(p)).collect(),
        encoding: encoding as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn capabilities_announce_models_and_encodings() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let caps = c
        .capabilities(CapabilityRequest::default())
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = caps
        .supported_models
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert!(names.contains(&"openconfig-interfaces"));
    assert!(names.contains(&"openconfig-pf-srte"));
    assert!(!names.iter().any(|n| n.starts_with("strata")), "{names:?}");
    assert!(caps
        .supported_models
        .iter()
        .all(|m| m.organization == "OpenConfig working group" || m.name.starts_with("iana")));
    assert!(caps
        .supported_encodings
        .contains(&(Encoding::JsonIetf as i32)));
    assert_eq!(caps.g_nmi_version, "0.10.0");
    let mut o = raw_client(&fabric, "ot1").await;
    let caps = o
        .capabilities(CapabilityRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(caps
        .supported_models
        .iter()
        .any(|m| m.name == "openconfig-terminal-device"));
}

const RULE: &str = "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules/rule[sequence-id=1]";

fn srte_rule() -> serde_json::Value {
    json!({
        "sequence-id": 1,
        "config": {"sequence-id": 1, "description": "[strata] p1"},
        "openconfig-pf-srte:srte": {
            "config": {"mpls-bsid": 15001, "srte-endpoint": "10.255.0.2", "srte-color": 100, "srte-preference": 100}
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
    })
}

#[tokio::test]
async fn set_then_get_returns_what_was_set_and_mirrors_state() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let set = SetRequest {
        update: vec![json_update(
            "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/config",
            json!({"policy-id": "strata-srte", "type": "PBR_POLICY"}),
        )],
        replace: vec![json_update(RULE, srte_rule())],
        ..Default::default()
    };
    c.set(set).await.expect("set accepted");
    let resp = c
        .get(get(
            &[&format!(
                "{RULE}/action/segment-lists/segment-list[index=7]/sids/sid/config/value"
            )],
            Encoding::Proto,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut values: Vec<u64> = resp.notification[0]
        .update
        .iter()
        .map(|u| strata::gnmi::value::typed_as_f64(u.val.as_ref().unwrap()).unwrap() as u64)
        .collect();
    values.sort();
    assert_eq!(values, vec![16002, 16003]);
    // JSON_IETF: the augment is qualified, 64-bit keys are strings
    let resp = c
        .get(get(&[RULE], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let v = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    assert_eq!(
        v["openconfig-pf-srte:srte"]["state"]["mpls-bsid"], 15001,
        "{v}"
    );
    let sl = &v["action"]["openconfig-pf-srte:segment-lists"]["segment-list"][0];
    assert_eq!(sl["index"], "7", "{v}");
    assert_eq!(
        sl["state"]["index"], "7",
        "config is mirrored into state: {v}"
    );
    // CONFIG-only Get leaves state out
    let mut req = get(&[RULE], Encoding::JsonIetf);
    req.r#type = get_request::DataType::Config as i32;
    let resp = c.get(req).await.unwrap().into_inner();
    let v = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    assert!(
        v.get("state").is_none() && v["config"]["description"] == "[strata] p1",
        "{v}"
    );
    // A replace of the rule swaps its segment lists in one commit.
    let mut next = srte_rule();
    next["action"]["openconfig-pf-srte:segment-lists"]["segment-list"][0]["index"] = json!("8");
    next["action"]["openconfig-pf-srte:segment-lists"]["segment-list"][0]["config"]["index"] =
        json!("8");
    c.set(SetRequest {
        replace: vec![json_update(RULE, next)],
        ..Default::default()
    })
    .await
    .unwrap();
    let lists = fabric.device("pe1").unwrap().read(|t| {
        t.find(&path(&format!("{RULE}/action/segment-lists/segment-list")))
            .unwrap()
            .len()
    });
    assert_eq!(lists, 1);
}

/// Status of a one-update Set on pe1.
async fn set_status(
    c: &mut strata::proto::gnmi::g_nmi_client::GNmiClient<tonic::transport::Channel>,
    p: &str,
    v: serde_json::Value,
) -> Result<(), tonic::Status> {
    c.set(SetRequest {
        update: vec![json_update(p, v)],
        ..Default::default()
    })
    .await
    .map(|_| ())
}

#[tokio::test]
async fn rfc7951_names_and_identities_are_checked() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let sub = "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=100]";
    // an augment must be qualified
    let e = set_status(
        &mut c,
        sub,
        json!({"config": {"index": 100}, "vlan": {"match": {"single-tagged": {"config": {"vlan-id": 100}}}}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("openconfig-vlan:vlan"),
        "{}",
        e.message()
    );
    // qualified with the wrong module
    let e = set_status(&mut c, sub, json!({"openconfig-interfaces:vlan": {}}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("openconfig-interfaces:vlan"),
        "{}",
        e.message()
    );
    // qualified rightly, and same-module members may be qualified too
    set_status(
        &mut c,
        sub,
        json!({"openconfig-interfaces:config": {"index": 100, "description": "[strata] acme"},
               "openconfig-vlan:vlan": {"match": {"single-tagged": {"config": {"vlan-id": 100}}}}}),
    )
    .await
    .expect("qualified members");
    // an identity from another module needs its prefix
    let ni = "/network-instances/network-instance[name=strata-evpn-1001]/config";
    let e = set_status(
        &mut c,
        ni,
        json!({"name": "strata-evpn-1001", "type": "L2VSI"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message()
            .contains("openconfig-network-instance-types:L2VSI"),
        "{}",
        e.message()
    );
    set_status(
        &mut c,
        ni,
        json!({"name": "strata-evpn-1001", "type": "openconfig-network-instance-types:L2VSI"}),
    )
    .await
    .expect("qualified identity");
    // the root needs qualified top-level members
    let e = set_status(&mut c, "/", json!({"interfaces": {}}))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    // a Get of the root qualifies them and the identities
    let resp = c
        .get(get(&["/"], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let v = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    let ifs = v["openconfig-interfaces:interfaces"]["interface"]
        .as_array()
        .unwrap();
    assert!(ifs
        .iter()
        .any(|i| i["config"]["type"] == "iana-if-type:ethernetCsmacd"));
    assert!(
        ifs.iter()
            .all(|i| i["state"]["counters"]["in-octets"].is_string()),
        "{v}"
    );
    let nis = v["openconfig-network-instance:network-instances"]["network-instance"]
        .as_array()
        .unwrap();
    assert!(nis
        .iter()
        .any(|n| n["config"]["type"] == "openconfig-network-instance-types:DEFAULT_INSTANCE"));
}

#[tokio::test]
async fn state_is_read_only_and_absent_from_config_gets() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let e = set_status(
        &mut c,
        "/interfaces/interface[name=lo0]/state/counters/in-octets",
        json!("5"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("read-only"), "{}", e.message());
    let e = set_status(
        &mut c,
        "/interfaces/interface[name=lo0]",
        json!({"state": {"oper-status": "DOWN"}}),
    )
    .await
    .unwrap_err();
    assert!(
        e.message()
            .contains("/interfaces/interface[name=lo0]/state"),
        "{}",
        e.message()
    );
    let mut req = get(&["/"], Encoding::JsonIetf);
    req.r#type = get_request::DataType::Config as i32;
    let resp = c.get(req).await.unwrap().into_inner();
    let text = json_of(resp.notification[0].update[0].val.as_ref().unwrap()).to_string();
    for absent in [
        "\"state\"",
        "counters",
        "link-state-database",
        "oper-status",
        "ifindex",
    ] {
        assert!(!text.contains(absent), "{absent} in a config Get: {text}");
    }
    let mut o = raw_client(&fabric, "ot1").await;
    let mut req = get(&["/"], Encoding::JsonIetf);
    req.r#type = get_request::DataType::Config as i32;
    let resp = o.get(req).await.unwrap().into_inner();
    let text = json_of(resp.notification[0].update[0].val.as_ref().unwrap()).to_string();
    for absent in ["operational-modes", "TRANSCEIVER", "description", "osnr"] {
        assert!(!text.contains(absent), "{absent} in a config Get: {text}");
    }
    let e = set_status(
        &mut o,
        "/terminal-device/operational-modes/mode[mode-id=9]/state",
        json!({"mode-id": 9}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn leafrefs_and_whens_are_enforced_at_commit() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let ni = "/network-instances/network-instance[name=strata-evpn-7]";
    let l2 = json!({"name": "strata-evpn-7", "type": "openconfig-network-instance-types:L2VSI"});
    // an attachment to a subinterface that does not exist
    let e = set_status(
        &mut c,
        ni,
        json!({"config": l2, "interfaces": {"interface": [
            {"id": "ce-0/1/0.7", "config": {"id": "ce-0/1/0.7", "interface": "ce-0/1/0", "subinterface": 7}}]}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    assert!(e.message().contains("subinterface"), "{}", e.message());
    // evpn only in an L2/L3 VPN instance
    let e = set_status(
        &mut c,
        "/network-instances/network-instance[name=DEFAULT]/evpn/evpn-instances/evpn-instance[evi=7]/config",
        json!({"evi": "7"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    assert!(e.message().contains("evpn"), "{}", e.message());
    // with the subinterface in the same Set, all is well
    c.set(SetRequest {
        update: vec![
            json_update(
                "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=7]",
                json!({"config": {"index": 7}}),
            ),
            json_update(
                ni,
                json!({"config": l2, "interfaces": {"interface": [
                    {"id": "ce-0/1/0.7", "config": {"id": "ce-0/1/0.7", "interface": "ce-0/1/0", "subinterface": 7}}]},
                    "evpn": {"evpn-instances": {"evpn-instance": [{"evi": "7", "config": {"evi": "7"}}]}}}),
            ),
        ],
        ..Default::default()
    })
    .await
    .expect("consistent Set");
    // the device fills the subinterface's mandatory operational state
    assert_eq!(
        device_leaf(
            &fabric,
            "pe1",
            "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=7]/state/admin-status"
        ),
        Some(json!("UP"))
    );
    // and deleting the subinterface while attached is refused
    let e = c
        .set(SetRequest {
            delete: vec![path(
                "/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=7]",
            )],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    // optical: an assignment to a channel that does not exist
    let mut o = raw_client(&fabric, "ot1").await;
    let e = set_status(
        &mut o,
        "/terminal-device/logical-channels/channel[index=1]",
        json!({"config": {"index": 1}, "logical-channel-assignments": {"assignment": [
            {"index": 1, "config": {"index": 1, "assignment-type": "OPTICAL_CHANNEL", "optical-channel": "och-line-9", "allocation": "400"}}]}}),
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("och-line-9"), "{}", e.message());
    let e = set_status(
        &mut o,
        "/components/component[name=och-line-1]/optical-channel/config/line-port",
        json!("port-line-9"),
    )
    .await
    .unwrap_err();
    assert!(e.message().contains("port-line-9"), "{}", e.message());
}

#[tokio::test]
async fn bare_scalars_are_accepted_for_scalar_leaves() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let raw = |p: &str, bytes: &[u8]| strata::proto::gnmi::Update {
        path: Some(path(p)),
        val: Some(strata::proto::gnmi::TypedValue {
            value: Some(strata::proto::gnmi::typed_value::Value::JsonIetfVal(
                bytes.to_vec(),
            )),
        }),
        ..Default::default()
    };
    let d = "/interfaces/interface[name=lo0]/config/description";
    for (bytes, want) in [
        (&b"loopback zero"[..], json!("loopback zero")),
        (b"42", json!("42")),
    ] {
        c.set(SetRequest {
            update: vec![raw(d, bytes)],
            ..Default::default()
        })
        .await
        .expect("bare string");
        assert_eq!(device_leaf(&fabric, "pe1", d), Some(want));
    }
    c.set(SetRequest {
        update: vec![
            raw("/interfaces/interface[name=lo0]/config/mtu", b"1500"),
            raw("/interfaces/interface[name=lo0]/config/enabled", b"false"),
        ],
        ..Default::default()
    })
    .await
    .expect("bare number and boolean");
    let e = c
        .set(SetRequest {
            update: vec![raw("/interfaces/interface[name=lo0]/config", b"{oops")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn a_set_with_one_bad_update_changes_nothing() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let before = c
        .get(get(&["/"], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let bad = SetRequest {
        update: vec![
            json_update(
                "/interfaces/interface[name=lo0]/config/description",
                json!("loopback"),
            ),
            json_update(
                "/network-instances/network-instance[name=EVI-1]/config",
                json!({"name": "EVI-1", "type": "openconfig-network-instance-types:L2VSI"}),
            ),
            json_update("/interfaces/interface[name=lo0]/config/mtu", json!(99999)),
        ],
        delete: vec![path("/network-instances/network-instance[name=DEFAULT]")],
        ..Default::default()
    };
    let err = c.set(bad).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message()
            .contains("/interfaces/interface[name=lo0]/config/mtu"),
        "{}",
        err.message()
    );
    let after = c
        .get(get(&["/"], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let strip = |r: &strata::proto::gnmi::GetResponse| {
        json_of(r.notification[0].update[0].val.as_ref().unwrap())
    };
    // counters move with time; compare configuration only
    let cfg = |v: serde_json::Value| {
        let mut v = v;
        if let Some(ifs) = v["openconfig-interfaces:interfaces"]["interface"].as_array_mut() {
            for i in ifs {
                i.as_object_mut().unwrap().remove("state");
            }
        }
        if let Some(nis) =
            v["openconfig-network-instance:network-instances"]["network-instance"].as_array_mut()
        {
            for n in nis {
                n.as_object_mut().unwrap().remove("protocols");
            }
        }
        v
    };
    assert_eq!(cfg(strip(&before)), cfg(strip(&after)));
    assert!(fabric.device("pe1").unwrap().read(|t| t
        .leaf_value(&path(
            "/network-instances/network-instance[name=DEFAULT]/config/name"
        ))
        .is_some()));
}

#[tokio::test]
async fn errors_carry_the_spec_status_and_name_the_path() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    // unknown path in Set → NOT_FOUND
    let e = c
        .set(SetRequest {
            update: vec![json_update("/interfaces/bogus", json!(1))],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    assert!(e.message().contains("/interfaces/bogus"), "{}", e.message());
    // malformed JSON → INVALID_ARGUMENT
    let mut u = json_update("/interfaces/interface[name=lo0]/config", json!({}));
    u.val = Some(strata::proto::gnmi::TypedValue {
        value: Some(strata::proto::gnmi::typed_value::Value::JsonIetfVal(
            b"{not json".to_vec(),
        )),
    });
    let e = c
        .set(SetRequest {
            update: vec![u],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message()
            .contains("/interfaces/interface[name=lo0]/config"),
        "{}",
        e.message()
    );
    // a value encoding the target does not take → UNIMPLEMENTED
    let mut u = json_update(
        "/interfaces/interface[name=lo0]/config/description",
        json!("x"),
    );
    u.val = Some(strata::proto::gnmi::TypedValue {
        value: Some(strata::proto::gnmi::typed_value::Value::AsciiVal(
            "x".into(),
        )),
    });
    let e = c
        .set(SetRequest {
            update: vec![u],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented);
    // Get: unsupported encoding, unknown path, no data
    let e = c
        .get(get(&["/interfaces"], Encoding::Ascii))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::Unimplemented);
    let e = c
        .get(get(&["/nonsense/path"], Encoding::Json))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    assert!(e.message().contains("/nonsense/path"));
    let e = c
        .get(get(
            &["/interfaces/interface[name=et-9/9/9]"],
            Encoding::Json,
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    // out-of-grid optical frequency → INVALID_ARGUMENT naming the leaf
    let mut o = raw_client(&fabric, "ot1").await;
    let e = o
        .set(SetRequest {
            update: vec![json_update(
                "/components/component[name=och-line-1]/optical-channel/config/frequency",
                json!("193150000"),
            )],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("frequency") && e.message().contains("grid"),
        "{}",
        e.message()
    );
}

fn sub_request(
    mode: subscription_list::Mode,
    subs: Vec<(&str, SubscriptionMode, u64)>,
) -> SubscribeRequest {
    SubscribeRequest {
        request: Some(subscribe_request::Request::Subscribe(SubscriptionList {
            subscription: subs
                .into_iter()
                .map(|(p, m, ns)| Subscription {
                    path: Some(path(p)),
                    mode: m as i32,
                    sample_interval: ns,
                    ..Default::default()
                })
                .collect(),
            mode: mode as i32,
            encoding: Encoding::Proto as i32,
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[tokio::test]
async fn subscribe_once_sample_and_on_change() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    // ONCE: data, then sync_response, then the stream closes
    let req = sub_request(
        subscription_list::Mode::Once,
        vec![(
            "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/isis/levels/level[level-number=2]/link-state-database",
            SubscriptionMode::TargetDefined,
            0,
        )],
    );
    let mut s = c
        .subscribe(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let mut saw_delay = false;
    let mut saw_sync = false;
    while let Some(msg) = s.next().await {
        match msg.unwrap().response.unwrap() {
            subscribe_response::Response::Update(n) => {
                saw_delay |= n.update.iter().any(|u| {
                    strata::gnmi::format_path(u.path.as_ref().unwrap())
                        .ends_with("link-delay/state/delay")
                });
            }
            subscribe_response::Response::SyncResponse(true) => saw_sync = true,
            _ => {}
        }
    }
    assert!(saw_delay && saw_sync);

    // STREAM SAMPLE at 20 ms: several samples arrive
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![(
            "/interfaces/interface/state/counters/in-octets",
            SubscriptionMode::Sample,
            20_000_000,
        )],
    );
    let mut s = c
        .subscribe(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let mut updates = 0;
    let mut synced = false;
    while updates < 4 {
        let msg = tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .expect("sample in time")
            .unwrap()
            .unwrap();
        match msg.response.unwrap() {
            subscribe_response::Response::Update(_) if synced => updates += 1,
            subscribe_response::Response::SyncResponse(true) => synced = true,
            _ => {}
        }
    }
    drop(s);

    // ON_CHANGE: a Set shows up on the stream
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![(
            "/interfaces/interface[name=lo0]/config",
            SubscriptionMode::OnChange,
            0,
        )],
    );
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(req).await.unwrap();
    let mut s = c
        .subscribe(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if matches!(
            msg.response,
            Some(subscribe_response::Response::SyncResponse(true))
        ) {
            break;
        }
    }
    let mut writer = raw_client(&fabric, "pe1").await;
    writer
        .set(SetRequest {
            update: vec![json_update(
                "/interfaces/interface[name=lo0]/config/description",
                json!("changed"),
            )],
            ..Default::default()
        })
        .await
        .unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("change in time")
        .unwrap()
        .unwrap();
    let Some(subscribe_response::Response::Update(n)) = msg.response else {
        panic!("expected update")
    };
    assert!(
        n.update.iter().any(|u| {
            strata::gnmi::format_path(u.path.as_ref().unwrap()).ends_with("config/description")
                && strata::gnmi::value::typed_to_json(u.val.as_ref().unwrap()).unwrap()
                    == json!("changed")
        }),
        "{n:?}"
    );
}

#[tokio::test]
async fn subscribe_rejects_bad_requests() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![(
            "/interfaces/interface/state/counters",
            SubscriptionMode::Sample,
            1_000,
        )],
    );
    let e = c
        .subscribe(tokio_stream::iter(vec![req]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("sample_interval"), "{}", e.message());
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![("/no/such/thing", SubscriptionMode::Sample, 0)],
    );
    let e = c
        .subscribe(tokio_stream::iter(vec![req]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let poll_first = SubscribeRequest {
        request: Some(subscribe_request::Request::Poll(Default::default())),
        ..Default::default()
    };
    let e = c
        .subscribe(tokio_stream::iter(vec![poll_first]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn poll_mode_answers_each_poll() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(sub_request(
        subscription_list::Mode::Poll,
        vec![(
            "/interfaces/interface[name=lo0]/config",
            SubscriptionMode::TargetDefined,
            0,
        )],
    ))
    .await
    .unwrap();
    let mut s = c
        .subscribe(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut syncs = 0;
    while syncs < 3 {
        let msg = tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if matches!(
            msg.response,
            Some(subscribe_response::Response::SyncResponse(true))
        ) {
            syncs += 1;
            if syncs < 3 {
                tx.send(SubscribeRequest {
                    request: Some(subscribe_request::Request::Poll(Default::default())),
                    ..Default::default()
                })
                .await
                .unwrap();
            }
        }
    }
}

const LSDB: &str = "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/isis/levels/level[level-number=2]/link-state-database";

#[tokio::test]
async fn routers_publish_rfc8570_link_telemetry_in_their_own_lsp() {
    let topo = small_topology();
    let fabric = start_sims_every(&topo, Duration::from_secs(3600)).await;
    // pe1's interfaces: lo0, 4 access ports, et-0/0/1 (to pe2), et-0/0/2 (to pe3)
    let ifindex = device_leaf(
        &fabric,
        "pe1",
        "/interfaces/interface[name=et-0/0/1]/state/ifindex",
    );
    assert_eq!(ifindex, Some(json!(6)));
    let nbr = format!(
        "{LSDB}/lsp[lsp-id=0102.5500.0001.00-00]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors/neighbor[system-id=0102.5500.0002]"
    );
    let inst = format!("{nbr}/instances/instance[id=6]/subtlvs");
    let leaf = |p: String| device_leaf(&fabric, "pe1", &p);
    // pe2 reaches pe1 on its et-0/0/1, its 6th interface too
    assert_eq!(
        leaf(format!(
            "{inst}/subtlv[type=IS_REACHABILITY_LINK_ID]/link-id/state/remote"
        )),
        Some(json!(6))
    );
    let delay = leaf(format!(
        "{inst}/subtlv[type=IS_REACHABILITY_LINK_DELAY]/link-delay/state/delay"
    ))
    .and_then(|v| v.as_u64())
    .expect("link delay");
    assert!(delay > 0, "{delay}");
    fabric.impair("pe1-pe2", 1000, 1.5).unwrap();
    fabric.measure_once();
    let loss = leaf(format!(
        "{inst}/subtlv[type=IS_REACHABILITY_LINK_LOSS]/link-loss/state/link-loss"
    ))
    .and_then(|v| v.as_u64())
    .expect("link loss");
    // 1.5 % in units of 0.000003 %, give or take the simulated jitter
    assert!((400_000..=600_000).contains(&loss), "{loss}");
    let delayed = leaf(format!(
        "{inst}/subtlv[type=IS_REACHABILITY_LINK_DELAY]/link-delay/state/delay"
    ))
    .and_then(|v| v.as_u64())
    .unwrap();
    assert!(delayed >= delay + 900, "{delay} → {delayed}");
    // a cut fiber under the link takes it down and IS-IS withdraws it
    fabric.cut("ot1-ot2").unwrap();
    fabric.measure_once();
    assert_eq!(
        device_leaf(
            &fabric,
            "pe1",
            "/interfaces/interface[name=et-0/0/1]/state/oper-status"
        ),
        Some(json!("DOWN"))
    );
    assert_eq!(leaf(format!("{nbr}/state/system-id")), None);
    fabric.restore("ot1-ot2").unwrap();
    fabric.restore("pe1-pe2").unwrap();
    fabric.measure_once();
    assert_eq!(
        leaf(format!("{nbr}/state/system-id")),
        Some(json!("0102.5500.0002"))
    );
    // the Get shows the RFC 7951 form: uint64 id as a string, qualified identities
    let mut c = raw_client(&fabric, "pe1").await;
    let resp = c
        .get(get(&[&format!("{nbr}/instances")], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let v = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    assert_eq!(v["instance"][0]["id"], "6", "{v}");
    assert!(v
        .to_string()
        .contains("openconfig-isis-lsdb-types:IS_REACHABILITY_LINK_LOSS"));
}

#[tokio::test]
async fn terminals_measure_their_optical_channels() {
    let fabric = start_sims_every(&small_topology(), Duration::from_secs(3600)).await;
    for ot in ["ot1", "ot2"] {
        let mut c = raw_client(&fabric, ot).await;
        c.set(SetRequest {
            update: vec![json_update(
                "/components/component[name=och-line-1]/optical-channel/config",
                json!({"frequency": "193175000", "target-output-power": "-9.5", "operational-mode": 1}),
            )],
            ..Default::default()
        })
        .await
        .unwrap();
    }
    fabric.measure_once();
    let och = "/components/component[name=och-line-1]/optical-channel/state";
    let osnr = device_leaf(&fabric, "ot1", &format!("{och}/osnr/instant"))
        .and_then(|v| v.as_f64())
        .expect("osnr");
    assert!(osnr > 15.0, "{osnr}");
    for leaf in [
        "pre-fec-ber/avg",
        "q-value/min",
        "chromatic-dispersion/max",
        "input-power/instant",
        "output-power/instant",
    ] {
        assert!(
            device_leaf(&fabric, "ot1", &format!("{och}/{leaf}")).is_some(),
            "{leaf}"
        );
    }
    assert_eq!(
        device_leaf(
            &fabric,
            "ot1",
            "/interfaces/interface[name=line-1]/state/hardware-port"
        ),
        Some(json!("port-line-1"))
    );
    fabric.degrade_osnr("ot1-ot2", 6.0).unwrap();
    fabric.measure_once();
    let degraded = device_leaf(&fabric, "ot1", &format!("{och}/osnr/instant"))
        .and_then(|v| v.as_f64())
        .unwrap();
    assert!(degraded < osnr - 4.0, "{osnr} → {degraded}");
    // JSON_IETF: decimal64 as strings with the model's digits
    let mut c = raw_client(&fabric, "ot1").await;
    let resp = c
        .get(get(&[&format!("{och}/osnr")], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let v = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    let s = v["instant"].as_str().expect("decimal as string");
    assert!(s.split('.').nth(1).is_none_or(|f| f.len() <= 2), "{s}");
}

#[tokio::test]
async fn plain_json_may_leave_names_bare_but_not_wrong() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let plain = |p: &str, v: serde_json::Value| strata::proto::gnmi::Update {
        path: Some(path(p)),
        val: Some(strata::proto::gnmi::TypedValue {
            value: Some(strata::proto::gnmi::typed_value::Value::JsonVal(
                serde_json::to_vec(&v).unwrap(),
            )),
        }),
        ..Default::default()
    };
    c.set(SetRequest {
        update: vec![
            plain(
                "/interfaces/interface[name=ce-0/1/1]/subinterfaces/subinterface[index=5]",
                json!({"config": {"index": 5}, "vlan": {"match": {"single-tagged": {"config": {"vlan-id": 5}}}}}),
            ),
            plain(
                "/network-instances/network-instance[name=v5]/config",
                json!({"name": "v5", "type": "L2VSI"}),
            ),
        ],
        ..Default::default()
    })
    .await
    .expect("plain JSON with bare names");
    assert_eq!(
        device_leaf(
            &fabric,
            "pe1",
            "/network-instances/network-instance[name=v5]/config/type"
        ),
        Some(json!("openconfig-network-instance-types:L2VSI"))
    );
    let e = c
        .set(SetRequest {
            update: vec![plain(
                "/interfaces/interface[name=ce-0/1/1]",
                json!({"openconfig-vlan:config": {}}),
            )],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    // CONFIG of state-only data is no data
    let mut req = get(
        &["/interfaces/interface[name=lo0]/state/counters"],
        Encoding::JsonIetf,
    );
    req.r#type = get_request::DataType::Config as i32;
    assert_eq!(c.get(req).await.unwrap_err().code(), tonic::Code::NotFound);
}

const LO0_DESCRIPTION: &str = "/interfaces/interface[name=lo0]/config/description";

/// A Set of one leaf to a string of `len` bytes.
async fn set_description(
    c: &mut strata::proto::gnmi::g_nmi_client::GNmiClient<tonic::transport::Channel>,
    len: usize,
) -> Result<(), tonic::Status> {
    set_status(c, LO0_DESCRIPTION, json!("d".repeat(len))).await
}

#[tokio::test]
async fn one_leaf_and_one_request_have_a_size_limit() {
    use strata::simulators::device::MAX_LEAF_BYTES;
    use strata::simulators::server::MAX_REQUEST_BYTES;
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    set_description(&mut c, MAX_LEAF_BYTES)
        .await
        .expect("a leaf at the limit is accepted");
    let e = set_description(&mut c, MAX_LEAF_BYTES + 1)
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{}", e.message());
    assert!(e.message().contains(LO0_DESCRIPTION), "{}", e.message());
    // Inside a subtree the message names the leaf below the update's path.
    let e = set_status(
        &mut c,
        "/interfaces/interface[name=lo0]",
        json!({"config": {"name": "lo0", "description": "d".repeat(MAX_LEAF_BYTES + 1)}}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{}", e.message());
    assert!(
        e.message()
            .contains("/interfaces/interface[name=lo0]/config/description"),
        "{}",
        e.message()
    );
    // Many leaves under the limit make one request over the decoder's limit.
    let many: Vec<_> = (0..17)
        .map(|i| {
            json_update(
                &format!(
                    "/interfaces/interface[name=ce-0/1/{}]/config/description",
                    i % 4
                ),
                json!("d".repeat(MAX_REQUEST_BYTES / 16)),
            )
        })
        .collect();
    let e = c
        .set(SetRequest {
            update: many,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::OutOfRange, "{}", e.message());
    // Nothing over a limit was applied.
    let kept = device_leaf(&fabric, "pe1", LO0_DESCRIPTION).unwrap();
    assert_eq!(kept.as_str().map(str::len), Some(MAX_LEAF_BYTES));
    assert!(device_leaf(
        &fabric,
        "pe1",
        "/interfaces/interface[name=ce-0/1/0]/config/description"
    )
    .is_none());
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped_not_buffered() {
    use strata::simulators::device::MAX_LEAF_BYTES;
    use strata::simulators::server::OUTBOUND_LIMITS;
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    // Every sample is one 1 MiB leaf: the queue's byte bound, not its
    // count, is what a stalled subscriber hits.
    set_description(&mut c, MAX_LEAF_BYTES).await.unwrap();
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![(LO0_DESCRIPTION, SubscriptionMode::Sample, 10_000_000)],
    );
    let mut stalled = c
        .subscribe(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let device = fabric.device("pe1").unwrap().clone();
    let dropped = || {
        device
            .subscribers_dropped
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(
        eventually(Duration::from_secs(30), || dropped() == 1).await,
        "the device gave up on a subscriber that read nothing"
    );
    // What the subscriber still gets is only what was already in flight
    // (HTTP/2 windows, ~3 MiB here): the queued backlog was dropped, not
    // kept for it. Then RESOURCE_EXHAUSTED.
    let mut received = 0usize;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next())
            .await
            .expect("the stream ends")
        {
            Some(Ok(msg)) => {
                if let Some(subscribe_response::Response::Update(n)) = msg.response {
                    received += n
                        .update
                        .iter()
                        .filter_map(|u| u.val.as_ref()?.value.as_ref())
                        .map(|v| match v {
                            strata::proto::gnmi::typed_value::Value::StringVal(s) => s.len(),
                            _ => 0,
                        })
                        .sum::<usize>();
                }
            }
            Some(Err(status)) => break status,
            None => panic!("the stream ended without a status"),
        }
    };
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status}");
    assert!(
        received <= OUTBOUND_LIMITS.bytes + 4 * MAX_LEAF_BYTES,
        "{received} bytes reached a subscriber that read nothing"
    );

    // A subscriber that keeps up keeps its stream (sampled slower: 1 MiB
    // every 10 ms outruns a debug-build client, and a device would drop it).
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![(LO0_DESCRIPTION, SubscriptionMode::Sample, 200_000_000)],
    );
    let mut reading = c
        .subscribe(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..6 {
        let msg = tokio::time::timeout(Duration::from_secs(10), reading.next())
            .await
            .expect("samples keep coming")
            .unwrap();
        assert!(msg.is_ok(), "{msg:?}");
    }
    assert_eq!(dropped(), 1);
}

#[tokio::test]
async fn a_device_serves_a_bounded_number_of_subscriptions() {
    use strata::simulators::server::MAX_SUBSCRIPTIONS;
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let req = sub_request(
        subscription_list::Mode::Stream,
        vec![(
            "/interfaces/interface/state/oper-status",
            SubscriptionMode::OnChange,
            0,
        )],
    );
    let mut open = Vec::new();
    for _ in 0..MAX_SUBSCRIPTIONS {
        let mut s = c
            .subscribe(tokio_stream::iter(vec![req.clone()]))
            .await
            .expect("within the limit")
            .into_inner();
        // Served, not just accepted: the snapshot and sync arrive.
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), s.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if matches!(
                msg.response,
                Some(subscribe_response::Response::SyncResponse(true))
            ) {
                break;
            }
        }
        open.push(s);
    }
    let e = c
        .subscribe(tokio_stream::iter(vec![req.clone()]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{}", e.message());
    // Other RPCs are not affected.
    c.get(get(
        &[LO0_DESCRIPTION.trim_end_matches("/description")],
        Encoding::JsonIetf,
    ))
    .await
    .expect("Get while subscriptions are full");
    // A closed subscription frees its slot (once the device notices).
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match c.subscribe(tokio_stream::iter(vec![req.clone()])).await {
            Ok(_) => break,
            Err(e) if e.code() == tonic::Code::ResourceExhausted => {
                assert!(tokio::time::Instant::now() < deadline, "slot never freed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn a_crashed_device_looks_like_a_cut_from_the_other_end() {
    let fabric = start_sims(&small_topology()).await;
    let oper = |dev: &str, port: &str| {
        device_leaf(
            &fabric,
            dev,
            &format!("/interfaces/interface[name={port}]/state/oper-status"),
        )
    };
    // ot1 carries pe1-pe2: without its light the packet link is down at
    // both routers, though both are up; pe1-pe3 is untouched.
    fabric.crash("ot1").await.unwrap();
    assert_eq!(oper("ot2", "line-1"), Some(json!("DOWN")));
    assert_eq!(oper("pe1", "et-0/0/1"), Some(json!("DOWN")));
    assert_eq!(oper("pe2", "et-0/0/1"), Some(json!("DOWN")));
    assert_eq!(oper("pe1", "et-0/0/2"), Some(json!("UP")));
    fabric.restart("ot1", false).await.unwrap();
    assert_eq!(oper("pe1", "et-0/0/1"), Some(json!("UP")));
    assert_eq!(oper("pe2", "et-0/0/1"), Some(json!("UP")));
    // A crashed router: its peers' ports towards it go down, and back.
    fabric.crash("pe3").await.unwrap();
    assert_eq!(oper("pe1", "et-0/0/2"), Some(json!("DOWN")));
    assert_eq!(oper("pe2", "et-0/0/2"), Some(json!("DOWN")));
    assert_eq!(oper("pe1", "et-0/0/1"), Some(json!("UP")));
    fabric.restart("pe3", false).await.unwrap();
    assert_eq!(oper("pe1", "et-0/0/2"), Some(json!("UP")));
    assert_eq!(oper("pe3", "et-0/0/1"), Some(json!("UP")));
}
