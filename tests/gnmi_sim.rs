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
    assert!(names.contains(&"openconfig-segment-routing"));
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

#[tokio::test]
async fn set_then_get_returns_what_was_set_and_mirrors_state() {
    let fabric = start_sims(&small_topology()).await;
    let mut c = raw_client(&fabric, "pe1").await;
    let policy = "/network-instances/network-instance[name=DEFAULT]/segment-routing/te-policies/te-policy[color=100][endpoint=10.255.0.2]";
    let set = SetRequest {
        update: vec![json_update(
            policy,
            json!({"config": {"name": "to-pe2", "owner": "strata"},
                   "candidate-paths": {"candidate-path": [{
                       "protocol-origin": "PCEP", "originator-id": "strata", "originator-asn": 0, "discriminator": 1,
                       "config": {"preference": 100},
                       "segment-lists": {"segment-list": [{"id": 1, "sids": {"sid": [
                           {"index": 0, "config": {"value": 16003}},
                           {"index": 1, "config": {"value": 16002}}]}}]}}]}}),
        )],
        ..Default::default()
    };
    c.set(set).await.expect("set accepted");
    let resp = c
        .get(get(&[&format!("{policy}/candidate-paths/candidate-path[discriminator=1]/segment-lists/segment-list[id=1]/sids/sid/config/value")], Encoding::Proto))
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
    let resp = c
        .get(get(&[&format!("{policy}/state")], Encoding::JsonIetf))
        .await
        .unwrap()
        .into_inner();
    let state = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    assert_eq!(
        state["name"], "to-pe2",
        "config is mirrored into state: {state}"
    );
    // CONFIG-only Get leaves state out
    let mut req = get(&[policy], Encoding::JsonIetf);
    req.r#type = get_request::DataType::Config as i32;
    let resp = c.get(req).await.unwrap().into_inner();
    let v = json_of(resp.notification[0].update[0].val.as_ref().unwrap());
    assert!(
        v.get("state").is_none() && v["config"]["name"] == "to-pe2",
        "{v}"
    );
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
                json!({"name": "EVI-1", "type": "MAC_VRF"}),
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
        if let Some(ifs) = v["interfaces"]["interface"].as_array_mut() {
            for i in ifs {
                i.as_object_mut().unwrap().remove("state");
                i.as_object_mut().unwrap().remove("link-performance");
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
                json!(193_150_000u64),
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
            "/interfaces/interface/link-performance/state",
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
                    strata::gnmi::format_path(u.path.as_ref().unwrap()).ends_with("one-way-delay")
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
