//! Fuzzing on stable Rust: proptest drives what arrives from outside —
//! gNMI paths, Set requests with JSON_IETF payloads, topology files, and
//! northbound specs — and checks that nothing panics and that every answer
//! is the documented kind: a path round-trips, a Set is all or nothing, a bad
//! topology names a line, a bad spec names a field.
//!
//! CI runs a short budget; `STRATA_FUZZ_CASES=N` runs more (each harness
//! prints its cases/s).

mod common;

use std::sync::Arc;
use std::time::Instant;
use strata::northbound::ControllerApi;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use strata::gnmi::tree::{DataFilter, Tree};
use strata::gnmi::{format_path, parse_path};
use strata::proto::gnmi::{typed_value, Path, PathElem, SetRequest, TypedValue, Update};

fn cases(default: u32) -> u32 {
    std::env::var("STRATA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run<S: Strategy>(
    name: &str,
    default: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let n = cases(default);
    let mut runner = TestRunner::new(Config {
        cases: n,
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fuzz {name}: {n} cases, 0 panics, {:.0} cases/s",
        f64::from(n) / secs.max(1e-9)
    );
}

/// Names as YANG writes them; key values anything printable, including the
/// characters the path syntax escapes.
fn elem() -> impl Strategy<Value = PathElem> {
    (
        "[a-z][a-z0-9-]{0,12}",
        proptest::collection::btree_map("[a-z][a-z-]{0,6}", "[ -~]{0,12}", 0..3),
    )
        .prop_map(|(name, keys)| PathElem {
            name,
            key: keys.into_iter().collect(),
        })
}

#[test]
fn gnmi_paths_round_trip_and_any_text_parses_or_is_refused() {
    run(
        "path round trip",
        512,
        proptest::collection::vec(elem(), 0..6),
        |elems| {
            let path = Path {
                elem: elems,
                ..Default::default()
            };
            let text = format_path(&path);
            let back = parse_path(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back.elem, path.elem, "{}", text);
            Ok(())
        },
    );
    run("path parse", 2048, "\\PC{0,80}", |text| {
        // Whatever the text, an answer (a path or an error), never a panic.
        let _ = parse_path(&text);
        Ok(())
    });
}

/// Paths a Set names: real subtrees of a router, and nonsense beside them.
const SET_PATHS: &[&str] = &[
    "/interfaces/interface[name=et-0/0/0]/config",
    "/interfaces/interface[name=lo0]/config/description",
    "/interfaces/interface[name=et-0/0/0]/config/mtu",
    "/network-instances/network-instance[name=DEFAULT]/config",
    "/network-instances/network-instance[name=strata-evpn-1]",
    "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/config",
    "/network-instances/network-instance[name=DEFAULT]/segment-routing/te-policies/te-policy[color=100][endpoint=10.0.0.2]",
    "/interfaces/interface[name=et-0/0/0]/state/counters/in-octets",
    "/system/config/hostname",
    "/nonsense[x=1]/deeper",
    "/",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,16}".prop_map(Value::String),
        Just(json!("PBR_POLICY")),
        (0u32..10_000).prop_map(|n| json!(n.to_string())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("name".to_string()),
                    Just("mtu".to_string()),
                    Just("description".to_string()),
                    Just("config".to_string()),
                    Just("type".to_string()),
                    Just("openconfig-interfaces:mtu".to_string()),
                    "[a-z:-]{1,12}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn update() -> impl Strategy<Value = Update> {
    (
        proptest::sample::select(SET_PATHS),
        prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..40),
        ],
    )
        .prop_map(|(p, bytes)| Update {
            path: parse_path(p).ok(),
            val: Some(TypedValue {
                value: Some(typed_value::Value::JsonIetfVal(bytes)),
            }),
            ..Default::default()
        })
}

fn everything(t: &Tree) -> Vec<Value> {
    parse_path("/")
        .ok()
        .and_then(|root| t.find(&root).ok())
        .map(|found| {
            found
                .iter()
                .map(|f| Tree::export(f, true, DataFilter::All))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_set_is_all_or_nothing_whatever_it_holds() {
    use strata::proto::gnmi::g_nmi_server::GNmi;
    let topology = common::small_topology();
    let device = Arc::new(
        strata::simulators::device::SimDevice::from_topology(&topology, "pe1").expect("pe1"),
    );
    let target = strata::simulators::server::GnmiTarget::in_process(device.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let strategy = (
        proptest::collection::vec(update(), 0..3),
        proptest::collection::vec(update(), 0..3),
        proptest::collection::vec(proptest::sample::select(SET_PATHS), 0..2),
    );
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    run("gNMI Set", 384, strategy, |(update, replace, delete)| {
        let before = device.read(everything);
        let req = SetRequest {
            update,
            replace,
            delete: delete.iter().filter_map(|p| parse_path(p).ok()).collect(),
            ..Default::default()
        };
        let answer = rt.block_on(target.set(tonic::Request::new(req)));
        let after = device.read(everything);
        match answer {
            Err(status) => {
                prop_assert_eq!(
                    &before,
                    &after,
                    "a refused Set changed the device: {}",
                    status.message()
                );
                prop_assert!(status.message().len() < 4096, "{}", status.message().len());
            }
            Ok(_) => {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let valid = device.read(|t| t.check_constraints());
                prop_assert!(
                    valid.is_ok(),
                    "an accepted Set broke the schema's constraints: {:?}",
                    valid
                );
            }
        }
        Ok(())
    });
    // A harness that only ever hears "no" tests the refusals alone.
    let accepted = accepted.into_inner();
    eprintln!("fuzz gNMI Set: {accepted} accepted");
    assert!(accepted > 0, "no generated Set was ever accepted");
}

#[test]
fn a_damaged_topology_file_is_refused_naming_a_line_never_a_panic() {
    let original = common::SMALL.to_string();
    let lines: Vec<String> = original.lines().map(str::to_string).collect();
    let n = lines.len();
    let edit = prop_oneof![
        (0..n).prop_map(|i| (i, None)),
        (0..n, "[ -~]{0,20}").prop_map(|(i, s)| (i, Some(s))),
    ];
    run(
        "topology YAML",
        256,
        proptest::collection::vec(edit, 1..4),
        |edits| {
            let mut text = lines.clone();
            for (i, replacement) in edits {
                match replacement {
                    None => text[i].clear(),
                    Some(s) => text[i] = s,
                }
            }
            let text = text.join("\n");
            if let Err(e) = strata::topology::parse_str(&text) {
                let message = e.to_string();
                prop_assert!(!message.is_empty());
                prop_assert!(message.len() < 64 * 1024, "{} bytes", message.len());
            }
            Ok(())
        },
    );
}

#[test]
fn any_policy_or_service_spec_is_accepted_or_refused_naming_a_field() {
    use strata::controller::programmer::Recorder;
    use strata::controller::Controller;
    use strata::proto::strata::v1 as api;
    let topology = common::small_topology();
    let controller = Controller::new(topology, Recorder::new(), None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = prop_oneof!["[a-z0-9-]{1,10}", "\\PC{0,70}"];
    let node = proptest::sample::select(vec!["pe1", "pe2", "pe3", "ot1", "", "nope"]);
    let strings =
        proptest::collection::vec(prop_oneof!["\\PC{0,10}", Just("pe1-pe2".to_string())], 0..3);
    let policy = (
        name.clone(),
        node.clone(),
        node.clone(),
        any::<u32>(),
        any::<f64>(),
        any::<u32>(),
        strings.clone(),
        0i32..6,
    )
        .prop_map(
            |(name, headend, endpoint, color, gbps, latency, links, metric)| {
                api::CreatePolicyRequest {
                    request_id: String::new(),
                    spec: Some(api::PolicySpec {
                        name,
                        headend: headend.into(),
                        endpoint: endpoint.into(),
                        color,
                        constraints: Some(api::Constraints {
                            bandwidth_gbps: gbps,
                            max_latency_us: latency.into(),
                            exclude_links: links,
                            metric,
                            ..Default::default()
                        }),
                    }),
                }
            },
        );
    let service = (
        name,
        node.clone(),
        node,
        any::<u32>(),
        any::<u32>(),
        "\\PC{0,12}",
        0i32..4,
    )
        .prop_map(
            |(name, a, b, vlan, evi, rt_, kind)| api::CreateServiceRequest {
                request_id: String::new(),
                spec: Some(api::ServiceSpec {
                    name,
                    r#type: kind,
                    attachments: vec![
                        api::Attachment {
                            device: a.into(),
                            interface: "ce-0/1/0".into(),
                            vlan,
                        },
                        api::Attachment {
                            device: b.into(),
                            interface: "ce-0/1/0".into(),
                            vlan,
                        },
                    ],
                    evi,
                    route_target: rt_,
                    ..Default::default()
                }),
            },
        );
    let named = |status: &tonic::Status| {
        let m = status.message();
        match status.code() {
            tonic::Code::InvalidArgument | tonic::Code::NotFound => m.starts_with("spec"),
            _ => !m.is_empty(),
        }
    };
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    run("northbound specs", 512, (policy, service), |(p, s)| {
        for result in [
            rt.block_on(controller.create_policy(p)).map(|_| ()),
            rt.block_on(controller.create_service(s)).map(|_| ()),
        ] {
            if result.is_ok() {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if let Err(e) = result {
                let status = tonic::Status::from(e);
                prop_assert!(named(&status), "{:?}: {}", status.code(), status.message());
                prop_assert!(
                    status.message().len() < 1024,
                    "{} bytes",
                    status.message().len()
                );
            }
        }
        Ok(())
    });
    let accepted = accepted.into_inner();
    eprintln!("fuzz northbound specs: {accepted} accepted");
    assert!(accepted > 0, "no generated spec was ever accepted");
}
