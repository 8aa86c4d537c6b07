//! OpenConfig conformance (docs/openconfig.md): everything Strata sends and
//! every simulator Get must be valid against the published OpenConfig models
//! (openconfig/public v5.9.0), checked with `yanglint`.
//!
//! The lab scenarios run through the real daemon and simulators on loopback:
//! E-Line, E-LAN, a latency-bounded SR-TE policy, a 400ZR wavelength, a
//! reroute (impairment, then a fiber cut) and the restores, deletes, and
//! reconciliation of wiped devices. Every SetRequest a simulated device
//! accepted (its set log) is validated: each replace/update value nested from
//! the root (a config fragment), each delete path as a skeleton, and the
//! device's whole configuration right after the Set (a complete config
//! datastore: every leafref between payloads must resolve). Every device's
//! Gets (config, config+state, state) are validated after the first Sets, in
//! the middle and at the end, and so are `tests/conformance/examples/`.
//!
//! Skips (with a loud banner) when the models or yanglint are missing; fails
//! instead when `STRATA_REQUIRE_YANG` is set (CI).
//!
//! Run: `cargo test --test conformance -- --nocapture` (models from
//! `$STRATA_YANG_DIR` or `../shared/openconfig-yang`, `yanglint` from `PATH` or
//! `$YANGLINT`). Each invalid document is written to
//! `$CARGO_TARGET_TMPDIR/conformance/` with an `INDEX.tsv` (file, `-t` type,
//! origin). Note: yanglint's interactive mode (used for batching) keeps a
//! command history in `~/.yanglint/`.

mod common;
#[path = "common/yang.rs"]
mod yang;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use strata::gnmi::{format_path, join_prefix};
use strata::lab::{Lab, LabOptions};
use strata::proto::gnmi::{
    get_request::DataType, typed_value, Encoding, GetRequest, Path, PathElem,
};
use strata::proto::strata::sim::v1 as sim;
use strata::proto::strata::v1 as api;
use yang::{Doc, Invalid, Kind, Yang};

fn options() -> LabOptions {
    LabOptions {
        reconcile_interval: Duration::from_secs(2),
        ..closed_loop_lab_options()
    }
}

/// What the scenarios could not do (reported with the conformance findings).
#[derive(Default)]
struct Run {
    docs: Vec<Doc>,
    problems: Vec<String>,
    /// Findings outside yanglint (e.g. a value not encoded as JSON_IETF).
    encoding: Vec<Invalid>,
}

impl Run {
    fn problem(&mut self, step: &str, e: impl std::fmt::Display) {
        eprintln!("conformance: step {step:?} failed: {e}");
        self.problems.push(format!("{step}: {e}"));
    }
}

/// Total Sets accepted by the fabric, to wait for the controller to settle.
fn sets_total(lab: &Lab) -> u64 {
    lab.fabric.devices().map(|d| d.accepted_set_count()).sum()
}

/// Waits until no device accepted a Set for `quiet` (at most `max`).
async fn settle(lab: &Lab, quiet: Duration, max: Duration) {
    let start = Instant::now();
    let mut last = (sets_total(lab), Instant::now());
    while start.elapsed() < max {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sets_total(lab);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() >= quiet {
            return;
        }
    }
}

fn eline(name: &str, a: (&str, &str, u32), b: (&str, &str, u32)) -> api::ServiceSpec {
    service(name, api::ServiceType::ELine, &[a, b], 100)
}

/// `color` is the transport policies' color: one policy per headend,
/// endpoint and color, so two services between the same PEs differ in it.
fn service(
    name: &str,
    ty: api::ServiceType,
    at: &[(&str, &str, u32)],
    color: u32,
) -> api::ServiceSpec {
    api::ServiceSpec {
        color,
        name: name.into(),
        r#type: ty as i32,
        attachments: at
            .iter()
            .map(|(d, i, v)| api::Attachment {
                device: d.to_string(),
                interface: i.to_string(),
                vlan: *v,
            })
            .collect(),
        bandwidth_gbps: 1.0,
        ..Default::default()
    }
}

/// The top-level containers a simulated device serves.
fn tops(lab: &Lab, device: &str) -> Vec<String> {
    lab.fabric
        .device(device)
        .map(|d| {
            d.read(|t| {
                t.schema()
                    .root
                    .children()
                    .map(|c| c.keys().cloned().collect())
                    .unwrap_or_default()
            })
        })
        .unwrap_or_default()
}

/// Gets config, config+state and state of every top-level container of
/// every device over gNMI (JSON_IETF) and queues them for validation.
async fn get_all(yang: &Yang, lab: &Lab, when: &str, run: &mut Run) {
    let names: Vec<String> = lab.fabric.devices().map(|d| d.name.clone()).collect();
    for device in names {
        get_device(yang, lab, &device, when, run).await;
    }
}

async fn get_device(yang: &Yang, lab: &Lab, device: &str, when: &str, run: &mut Run) {
    let mut client = raw_client(&lab.fabric, device).await;
    let mut whole: HashMap<&str, Value> = HashMap::new();
    for top in tops(lab, device) {
        for (ty, label) in [
            (DataType::Config, "CONFIG"),
            (DataType::All, "ALL"),
            (DataType::State, "STATE"),
        ] {
            let req = GetRequest {
                path: vec![path(&format!("/{top}"))],
                r#type: ty as i32,
                encoding: Encoding::JsonIetf as i32,
                ..Default::default()
            };
            let resp = match client.get(req).await {
                Ok(r) => r.into_inner(),
                // nothing configured under this container yet
                Err(e) if e.code() == tonic::Code::NotFound => continue,
                Err(e) => {
                    run.problem(&format!("{when}: {device} Get {label} /{top}"), e);
                    continue;
                }
            };
            for n in &resp.notification {
                for u in &n.update {
                    let p = join_prefix(
                        n.prefix.as_ref(),
                        u.path.as_ref().unwrap_or(&Path::default()),
                    );
                    let name = format!("{device} Get {label} {} ({when})", format_path(&p));
                    let Some(value) = update_value(&name, u.val.as_ref(), run) else {
                        continue;
                    };
                    let doc = yang.update_document(&p, &value);
                    match ty {
                        DataType::State => run.docs.push(Doc {
                            name,
                            kind: Kind::DataFragment,
                            json: doc,
                        }),
                        _ => yang::merge(whole.entry(label).or_insert_with(|| json!({})), &doc),
                    }
                }
            }
        }
    }
    for (label, kind) in [("CONFIG", Kind::Config), ("ALL", Kind::Data)] {
        if let Some(json) = whole.remove(label) {
            run.docs.push(Doc {
                name: format!("{device} Get {label} of every top-level container, merged ({when})"),
                kind,
                json,
            });
        }
    }
    // The root as served: RFC 7951 requires qualified top-level members.
    let req = GetRequest {
        path: vec![Path::default()],
        r#type: DataType::All as i32,
        encoding: Encoding::JsonIetf as i32,
        ..Default::default()
    };
    match client.get(req).await {
        Ok(r) => {
            let r = r.into_inner();
            for n in &r.notification {
                for u in &n.update {
                    let name = format!("{device} Get ALL / as served ({when})");
                    if let Some(value) = update_value(&name, u.val.as_ref(), run) {
                        let p = join_prefix(
                            n.prefix.as_ref(),
                            u.path.as_ref().unwrap_or(&Path::default()),
                        );
                        let json = if p.elem.is_empty() {
                            value
                        } else {
                            yang.update_document(&p, &value)
                        };
                        run.docs.push(Doc {
                            name,
                            kind: Kind::Data,
                            json,
                        });
                    }
                }
            }
        }
        Err(e) => run.problem(&format!("{when}: {device} Get ALL /"), e),
    }
}

/// The JSON of a gNMI value; anything not JSON_IETF is a finding.
fn update_value(
    name: &str,
    tv: Option<&strata::proto::gnmi::TypedValue>,
    run: &mut Run,
) -> Option<Value> {
    let Some(tv) = tv else {
        run.encoding.push(Invalid {
            name: name.into(),
            kind: Kind::ConfigFragment,
            errors: vec!["update without a value".into()],
        });
        return None;
    };
    let parsed = strata::gnmi::value::typed_to_json(tv);
    match (&tv.value, parsed) {
        (Some(typed_value::Value::JsonIetfVal(_)), Ok(v)) => Some(v),
        (_, Err(e)) => {
            run.encoding.push(Invalid {
                name: name.into(),
                kind: Kind::ConfigFragment,
                errors: vec![format!("value does not decode: {e}")],
            });
            None
        }
        (Some(other), Ok(v)) => {
            let enc = match other {
                typed_value::Value::JsonVal(_) => "JSON".to_string(),
                o => format!("{o:?}")
                    .split('(')
                    .next()
                    .unwrap_or("?")
                    .to_string(),
            };
            run.encoding.push(Invalid {
                name: name.into(),
                kind: Kind::ConfigFragment,
                errors: vec![format!(
                    "value encoded as {enc}, not JSON_IETF (docs/openconfig.md); validated as JSON anyway"
                )],
            });
            Some(v)
        }
        (None, Ok(v)) => Some(v),
    }
}

/// Every Set each device accepted: its payloads, its delete paths, and the
/// device's whole configuration after it.
fn set_log_docs(yang: &Yang, lab: &Lab, run: &mut Run) -> usize {
    let mut sets = 0;
    for d in lab.fabric.devices() {
        for logged in d.accepted_sets() {
            sets += 1;
            let req = &logged.request;
            let prefix = req.prefix.as_ref();
            let tag = format!("{} Set #{}", d.name, logged.seq);
            for (i, del) in req.delete.iter().enumerate() {
                let p = join_prefix(prefix, del);
                if p.elem.is_empty() {
                    continue;
                }
                run.docs.push(Doc {
                    name: format!("{tag} delete[{i}] {} (path skeleton)", format_path(&p)),
                    kind: Kind::ConfigFragment,
                    json: yang.path_document(&p),
                });
            }
            for (op, updates) in [("replace", &req.replace), ("update", &req.update)] {
                for (i, u) in updates.iter().enumerate() {
                    let p = join_prefix(prefix, u.path.as_ref().unwrap_or(&Path::default()));
                    let name = format!("{tag} {op}[{i}] {}", format_path(&p));
                    let Some(value) = update_value(&name, u.val.as_ref(), run) else {
                        continue;
                    };
                    run.docs.push(Doc {
                        name,
                        kind: Kind::ConfigFragment,
                        json: yang.update_document(&p, &value),
                    });
                }
            }
            if let Some(config) = &logged.config_after {
                run.docs.push(Doc {
                    name: format!(
                        "{} config after Set #{} (device export)",
                        d.name, logged.seq
                    ),
                    kind: Kind::Config,
                    json: yang::qualify_top(config),
                });
            }
        }
    }
    sets
}

fn example_docs(run: &mut Run) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/conformance/examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no example documents in {}",
        dir.display()
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", f.display()));
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let kind = if name.contains("state") {
            Kind::Data
        } else {
            Kind::Config
        };
        run.docs.push(Doc {
            name: format!("example {name}"),
            kind,
            json,
        });
    }
}

/// Identical documents are validated once (a device's config after many
/// Sets often repeats); the first name stands for the others.
fn dedup(docs: Vec<Doc>) -> (Vec<Doc>, HashMap<String, usize>) {
    let mut seen: HashMap<(String, bool), usize> = HashMap::new();
    let mut out: Vec<Doc> = Vec::new();
    let mut repeats: HashMap<String, usize> = HashMap::new();
    for d in docs {
        let key = (
            format!("{}{}", d.kind, serde_json::to_string(&d.json).unwrap()),
            false,
        );
        match seen.get(&key) {
            Some(&i) => *repeats.entry(out[i].name.clone()).or_default() += 1,
            None => {
                seen.insert(key, out.len());
                out.push(d);
            }
        }
    }
    (out, repeats)
}

/// An error message without its data (values, locations), to group findings.
fn category(error: &str) -> String {
    let head = error.split(" (path:").next().unwrap_or(error);
    let head = head.split(" (Data location").next().unwrap_or(head);
    let mut out = String::new();
    let mut in_quote = false;
    for c in head.chars() {
        if c == '"' {
            in_quote = !in_quote;
            if in_quote {
                out.push_str("\"…");
            } else {
                out.push('"');
            }
        } else if !in_quote {
            out.push(c);
        }
    }
    out
}

async fn wait_all_up(lab: &Lab, n: usize) -> bool {
    eventually(Duration::from_secs(15), || lab.state.counts().up == n).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_strata_sends_and_every_simulator_get_is_valid_openconfig() {
    let Some(yang) = Yang::find() else { return };
    strata::simulators::set_log::capture_config(true);
    let topo = small_topology();
    let lab = Lab::start(&topo, &options()).await.expect("lab starts");
    assert!(wait_all_up(&lab, topo.nodes.len()).await, "all sessions up");
    let endpoint = format!("http://{}", lab.api);
    let mut services = api::services_client::ServicesClient::connect(endpoint.clone())
        .await
        .unwrap();
    let mut policies = api::policies_client::PoliciesClient::connect(endpoint.clone())
        .await
        .unwrap();
    let mut waves = api::wavelengths_client::WavelengthsClient::connect(endpoint.clone())
        .await
        .unwrap();
    let mut faults = sim::fault_injection_client::FaultInjectionClient::connect(endpoint.clone())
        .await
        .unwrap();
    let mut run = Run::default();
    get_all(&yang, &lab, "factory", &mut run).await;

    // E-Line
    let el = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(eline(
                "conf-eline",
                ("pe1", "ce-0/1/0", 100),
                ("pe2", "ce-0/1/0", 100),
            )),
        })
        .await
        .map(|r| r.into_inner());
    let el = match el {
        Ok(s) => Some(s),
        Err(e) => {
            run.problem("create E-Line", e);
            None
        }
    };
    settle(&lab, Duration::from_millis(500), Duration::from_secs(10)).await;
    for pe in ["pe1", "pe2"] {
        get_device(&yang, &lab, pe, "after E-Line", &mut run).await;
    }

    // E-LAN
    let elan = services
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(service(
                "conf-elan",
                api::ServiceType::ELan,
                &[
                    ("pe1", "ce-0/1/1", 200),
                    ("pe2", "ce-0/1/1", 200),
                    ("pe3", "ce-0/1/1", 200),
                ],
                200,
            )),
        })
        .await
        .map(|r| r.into_inner());
    let elan = match elan {
        Ok(s) => Some(s),
        Err(e) => {
            run.problem("create E-LAN", e);
            None
        }
    };

    // latency-bounded SR-TE policy
    let pol = policies
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(api::PolicySpec {
                name: "conf-low-latency".into(),
                headend: "pe1".into(),
                endpoint: "pe2".into(),
                color: 300,
                constraints: Some(api::Constraints {
                    max_latency_us: 5_000,
                    ..Default::default()
                }),
            }),
        })
        .await
        .map(|r| r.into_inner());
    let pol = match pol {
        Ok(p) => Some(p),
        Err(e) => {
            run.problem("create latency-bounded policy", e);
            None
        }
    };

    // 400ZR wavelength
    let wl = waves
        .create_wavelength(api::CreateWavelengthRequest {
            request_id: String::new(),
            spec: Some(api::WavelengthSpec {
                name: "conf-zr".into(),
                a: "ot1".into(),
                b: "ot2".into(),
                ..Default::default()
            }),
        })
        .await
        .map(|r| r.into_inner());
    let wl = match wl {
        Ok(w) => Some(w),
        Err(e) => {
            run.problem("create 400ZR wavelength", e);
            None
        }
    };
    settle(&lab, Duration::from_millis(500), Duration::from_secs(10)).await;
    for ot in ["ot1", "ot2"] {
        get_device(&yang, &lab, ot, "after wavelength", &mut run).await;
    }

    // reroute: impair pe1-pe2, then restore; then a fiber cut under it
    let before = sets_total(&lab);
    let step = faults
        .impair_link(sim::ImpairLinkRequest {
            link: "pe1-pe2".into(),
            extra_delay_us: 8_000,
            loss_percent: 0.0,
        })
        .await;
    if let Err(e) = step {
        run.problem("impair pe1-pe2", e);
    } else if !eventually(Duration::from_secs(10), || sets_total(&lab) > before).await {
        run.problem(
            "reroute after impairing pe1-pe2",
            "no headend was reprogrammed",
        );
    }
    settle(&lab, Duration::from_millis(500), Duration::from_secs(10)).await;
    let before = sets_total(&lab);
    if let Err(e) = faults
        .restore_link(sim::LinkRequest {
            link: "pe1-pe2".into(),
        })
        .await
    {
        run.problem("restore pe1-pe2", e);
    } else if !eventually(Duration::from_secs(10), || sets_total(&lab) > before).await {
        run.problem(
            "return after restoring pe1-pe2",
            "no headend was reprogrammed",
        );
    }
    settle(&lab, Duration::from_millis(800), Duration::from_secs(10)).await;
    let before = sets_total(&lab);
    if let Err(e) = faults
        .cut_link(sim::LinkRequest {
            link: "ot1-ot2".into(),
        })
        .await
    {
        run.problem("cut fiber ot1-ot2", e);
    } else if !eventually(Duration::from_secs(10), || sets_total(&lab) > before).await {
        run.problem(
            "reroute after cutting ot1-ot2",
            "no headend was reprogrammed",
        );
    }
    settle(&lab, Duration::from_millis(500), Duration::from_secs(10)).await;
    if let Err(e) = faults
        .restore_link(sim::LinkRequest {
            link: "ot1-ot2".into(),
        })
        .await
    {
        run.problem("restore fiber ot1-ot2", e);
    }
    settle(&lab, Duration::from_millis(800), Duration::from_secs(10)).await;

    // reconcile: wipe a PE and a transponder; the controller repairs them
    for device in ["pe2", "ot2"] {
        let before = lab.fabric.device(device).unwrap().accepted_set_count();
        let crashed = faults
            .crash_device(sim::DeviceRequest {
                device: device.into(),
                wipe: false,
            })
            .await;
        let restarted = match crashed {
            Ok(_) => {
                faults
                    .restart_device(sim::DeviceRequest {
                        device: device.into(),
                        wipe: true,
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = restarted {
            run.problem(&format!("wipe {device}"), e);
            continue;
        }
        let repaired = eventually(Duration::from_secs(15), || {
            lab.fabric.device(device).unwrap().accepted_set_count() > before
        })
        .await;
        if !repaired {
            run.problem(
                &format!("reconcile {device} after a wipe"),
                "no Set repaired it",
            );
        }
        settle(&lab, Duration::from_millis(800), Duration::from_secs(10)).await;
    }
    get_all(&yang, &lab, "with every intent", &mut run).await;

    // delete each
    if let Some(w) = &wl {
        if let Err(e) = waves
            .delete_wavelength(api::DeleteWavelengthRequest {
                id: w.id.clone(),
                revision: 0,
            })
            .await
        {
            run.problem("delete wavelength", e);
        }
    }
    if let Some(p) = &pol {
        if let Err(e) = policies
            .delete_policy(api::DeletePolicyRequest {
                id: p.id.clone(),
                revision: 0,
            })
            .await
        {
            run.problem("delete policy", e);
        }
    }
    for (what, s) in [("E-LAN", &elan), ("E-Line", &el)] {
        if let Some(s) = s {
            if let Err(e) = services
                .delete_service(api::DeleteServiceRequest {
                    id: s.id.clone(),
                    revision: 0,
                })
                .await
            {
                run.problem(&format!("delete {what}"), e);
            }
        }
    }
    settle(&lab, Duration::from_millis(800), Duration::from_secs(10)).await;
    get_all(&yang, &lab, "at the end", &mut run).await;

    let sets = set_log_docs(&yang, &lab, &mut run);
    lab.shutdown().await;
    assert!(
        sets > 0,
        "the scenarios made the controller send no Set at all"
    );
    example_docs(&mut run);

    let Run {
        docs,
        problems,
        encoding,
    } = run;
    let total = docs.len();
    let (unique, repeats) = dedup(docs);
    let mut invalid = yang.validate(&unique);
    // each invalid document on disk, to re-run yanglint on by hand
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    let _ = std::fs::remove_dir_all(&out);
    if !invalid.is_empty() && std::fs::create_dir_all(&out).is_ok() {
        let mut index = String::new();
        for (n, i) in invalid.iter().enumerate() {
            if let Some(d) = unique.iter().find(|d| d.name == i.name) {
                let file = out.join(format!("{n:04}.json"));
                let _ = std::fs::write(&file, serde_json::to_vec_pretty(&d.json).unwrap());
                index.push_str(&format!("{n:04}.json\t-t {}\t{}\n", d.kind.flag(), d.name));
            }
        }
        let _ = std::fs::write(out.join("INDEX.tsv"), index);
        println!(
            "conformance: invalid documents written to {}",
            out.display()
        );
    }
    invalid.extend(encoding);
    let invalid_docs: usize = invalid
        .iter()
        .map(|i| 1 + repeats.get(&i.name).copied().unwrap_or(0))
        .sum();
    // the summary line straight to stdout, shown even when the test passes
    {
        use std::io::Write;
        let _ = writeln!(
            std::io::stdout(),
            "conformance: {} documents, {} invalid (modules: {})",
            total,
            invalid_docs,
            yang.module_names().join(", ")
        );
    }
    println!(
        "conformance: {} distinct documents validated; {} Sets logged by {} devices",
        unique.len(),
        sets,
        topo.nodes.len()
    );
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    for i in &invalid {
        let mut cats: Vec<String> = i.errors.iter().map(|e| category(e)).collect();
        cats.dedup();
        for c in cats {
            *categories.entry(c).or_default() += 1;
        }
    }
    let mut report = String::new();
    for i in &invalid {
        let also = repeats
            .get(&i.name)
            .map(|n| format!(" (and {n} identical)"))
            .unwrap_or_default();
        report.push_str(&format!("INVALID {} [{}]{also}\n", i.name, i.kind));
        for e in &i.errors {
            report.push_str(&format!("    {e}\n"));
        }
    }
    if !categories.is_empty() {
        let mut by_count: Vec<_> = categories.into_iter().collect();
        by_count.sort_by_key(|b| std::cmp::Reverse(b.1));
        report.push_str("invalid documents by kind of error:\n");
        for (c, n) in by_count {
            report.push_str(&format!("  {n:5}  {c}\n"));
        }
    }
    print!("{report}");
    if !problems.is_empty() {
        println!("scenario steps that failed:\n  {}", problems.join("\n  "));
    }
    assert!(
        invalid.is_empty(),
        "{invalid_docs} of {total} documents are not valid OpenConfig (listed above)"
    );
    assert!(problems.is_empty(), "scenario steps failed: {problems:?}");
}

const NI: &str = "network-instances";

#[test]
fn validator_rejects_what_the_models_forbid_and_accepts_the_contract() {
    let Some(yang) = Yang::find() else { return };
    // SR-TE policy written under the config-false segment-routing/te-policies
    let te = yang.update_document(
        &yang::elems(&[
            (NI, &[]),
            ("network-instance", &[("name", "DEFAULT")]),
            ("segment-routing", &[]),
            ("te-policies", &[]),
            ("te-policy", &[("color", "100"), ("endpoint", "10.255.0.2")]),
        ]),
        &json!({"color": 100, "endpoint": "10.255.0.2"}),
    );
    let errors = yang.errors(Kind::ConfigFragment, &te);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("state node") && e.contains("te-policies")),
        "te-policies is config false: {errors:?}"
    );
    // an instance type the models do not define
    let mac_vrf = yang.update_document(
        &yang::elems(&[(NI, &[]), ("network-instance", &[("name", "evpn-1")])]),
        &json!({"config": {"name": "evpn-1", "type": "openconfig-network-instance-types:MAC_VRF"}}),
    );
    let errors = yang.errors(Kind::ConfigFragment, &mac_vrf);
    assert!(
        errors.iter().any(|e| e.contains("MAC_VRF")),
        "MAC_VRF is no identity: {errors:?}"
    );
    // 64-bit integers travel as strings
    let bare_u64 = yang.update_document(
        &yang::elems(&[("components", &[]), ("component", &[("name", "och-line-1")])]),
        &json!({"openconfig-terminal-device:optical-channel": {"config": {"frequency": 193175000}}}),
    );
    let errors = yang.errors(Kind::ConfigFragment, &bare_u64);
    assert!(
        errors.iter().any(|e| e.contains("frequency")),
        "uint64 as a JSON number: {errors:?}"
    );

    // the contract's SR-TE rule, as a replace at the rule path
    let rule_path = yang::elems(&[
        (NI, &[]),
        ("network-instance", &[("name", "DEFAULT")]),
        ("policy-forwarding", &[]),
        ("policies", &[]),
        ("policy", &[("policy-id", "strata-srte")]),
        ("rules", &[]),
        ("rule", &[("sequence-id", "1")]),
    ]);
    let rule = json!({
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
    });
    let doc = yang.update_document(&rule_path, &rule);
    assert_eq!(
        doc["openconfig-network-instance:network-instances"]["network-instance"][0]["name"],
        json!("DEFAULT")
    );
    let policy = &doc["openconfig-network-instance:network-instances"]["network-instance"][0]
        ["policy-forwarding"]["policies"]["policy"][0];
    assert_eq!(policy["policy-id"], json!("strata-srte"));
    assert_eq!(policy["rules"]["rule"][0], rule);
    let errors = yang.errors(Kind::ConfigFragment, &doc);
    assert!(
        errors.is_empty(),
        "the contract's rule is valid: {errors:?}"
    );

    // keys from the path are typed as the models type them
    let seg = yang.update_document(
        &yang::elems(&[
            (NI, &[]),
            ("network-instance", &[("name", "DEFAULT")]),
            ("policy-forwarding", &[]),
            ("policies", &[]),
            ("policy", &[("policy-id", "strata-srte")]),
            ("rules", &[]),
            ("rule", &[("sequence-id", "1")]),
            ("action", &[]),
            ("segment-lists", &[]),
            ("segment-list", &[("index", "7")]),
            ("config", &[]),
        ]),
        &json!({"index": "7", "weight": 1}),
    );
    let rule = &seg["openconfig-network-instance:network-instances"]["network-instance"][0]
        ["policy-forwarding"]["policies"]["policy"][0]["rules"]["rule"][0];
    assert_eq!(rule["sequence-id"], json!(1), "uint32 key as a number");
    assert_eq!(
        rule["action"]["openconfig-pf-srte:segment-lists"]["segment-list"][0]["index"],
        json!("7"),
        "uint64 key as a string, augment qualified"
    );
    let errors = yang.errors(Kind::ConfigFragment, &seg);
    assert!(errors.is_empty(), "{errors:?}");
    // an identityref key written bare in the path gets its module
    let isis = yang.update_document(
        &path("/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/config"),
        &json!({"identifier": "openconfig-policy-types:ISIS", "name": "default"}),
    );
    assert_eq!(
        isis["openconfig-network-instance:network-instances"]["network-instance"][0]["protocols"]
            ["protocol"][0]["identifier"],
        json!("openconfig-policy-types:ISIS")
    );
    // an interface description leaf update: a bare string value
    let descr = yang.update_document(
        &path("/interfaces/interface[name=ce-0/1/0]/subinterfaces/subinterface[index=100]/config/description"),
        &json!("[strata] acme"),
    );
    assert_eq!(
        descr["openconfig-interfaces:interfaces"]["interface"][0]["subinterfaces"]["subinterface"]
            [0]["config"]["description"],
        json!("[strata] acme")
    );
    assert_eq!(
        descr["openconfig-interfaces:interfaces"]["interface"][0]["subinterfaces"]["subinterface"]
            [0]["index"],
        json!(100)
    );
    assert!(yang.errors(Kind::ConfigFragment, &descr).is_empty());

    // a delete path skeleton under config-false state is caught too
    let del = yang.path_document(&path(
        "/network-instances/network-instance[name=DEFAULT]/segment-routing/te-policies/te-policy[color=100][endpoint=10.255.0.2]",
    ));
    assert!(!yang.errors(Kind::ConfigFragment, &del).is_empty());

    // one batch, many documents: each error stays with its document
    let example = |f: &str| -> Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/conformance/examples")
            .join(f);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let docs = vec![
        Doc {
            name: "pe-config".into(),
            kind: Kind::Config,
            json: example("pe-config.json"),
        },
        Doc {
            name: "te-policies".into(),
            kind: Kind::ConfigFragment,
            json: te,
        },
        Doc {
            name: "ot-state".into(),
            kind: Kind::Data,
            json: example("ot-state.json"),
        },
        Doc {
            name: "MAC_VRF".into(),
            kind: Kind::ConfigFragment,
            json: mac_vrf,
        },
        // config with state in it
        Doc {
            name: "pe-state as config".into(),
            kind: Kind::Config,
            json: example("pe-state.json"),
        },
    ];
    let invalid: Vec<String> = yang.validate(&docs).into_iter().map(|i| i.name).collect();
    assert_eq!(invalid, ["te-policies", "MAC_VRF", "pe-state as config"]);
}

/// Every node of a whole-tree document as a gNMI update (path with list
/// keys, unqualified elements, and the node's value), as a device or the
/// controller would send it.
fn decompose(
    yang: &Yang,
    value: &Value,
    at: &[PathElem],
    spath: &str,
    out: &mut Vec<(Path, Value)>,
) {
    let Value::Object(members) = value else {
        return;
    };
    for (k, v) in members {
        let bare = k.split_once(':').map(|(_, n)| n).unwrap_or(k);
        let child_spath = if spath.is_empty() {
            bare.to_string()
        } else {
            format!("{spath}/{bare}")
        };
        let mut child = at.to_vec();
        child.push(PathElem {
            name: bare.to_string(),
            key: Default::default(),
        });
        match (v, yang.list_keys(&child_spath)) {
            (Value::Array(entries), Some(keys)) => {
                for entry in entries {
                    let mut elem = child.clone();
                    let last = elem.last_mut().unwrap();
                    for key in keys {
                        let text = match &entry[key] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        last.key.insert(key.clone(), text);
                    }
                    out.push((
                        Path {
                            elem: elem.clone(),
                            ..Default::default()
                        },
                        entry.clone(),
                    ));
                    decompose(yang, entry, &elem, &child_spath, out);
                }
            }
            _ => {
                out.push((
                    Path {
                        elem: child.clone(),
                        ..Default::default()
                    },
                    v.clone(),
                ));
                decompose(yang, v, &child, &child_spath, out);
            }
        }
    }
}

/// The harness itself: every node of the example documents, sent as one
/// update at its own path, nests back into a valid document (list keys
/// typed from the models, augmenting nodes qualified).
#[test]
fn every_node_of_the_examples_nests_back_into_a_valid_document() {
    let Some(yang) = Yang::find() else { return };
    let mut run = Run::default();
    example_docs(&mut run);
    let mut docs = Vec::new();
    for example in &run.docs {
        let mut updates = Vec::new();
        decompose(&yang, &example.json, &[], "", &mut updates);
        assert!(
            updates.len() > 10,
            "{}: {} nodes",
            example.name,
            updates.len()
        );
        for (p, v) in updates {
            docs.push(Doc {
                name: format!("{} at {}", example.name, format_path(&p)),
                kind: if example.kind == Kind::Config {
                    Kind::ConfigFragment
                } else {
                    Kind::DataFragment
                },
                json: yang.update_document(&p, &v),
            });
        }
    }
    let invalid = yang.validate(&docs);
    let listing: Vec<String> = invalid
        .iter()
        .map(|i| format!("{}: {:?}", i.name, i.errors))
        .collect();
    assert!(
        invalid.is_empty(),
        "{} of {} re-nested updates are invalid:\n{}",
        invalid.len(),
        docs.len(),
        listing.join("\n")
    );
    println!(
        "{} updates from the examples nest back into valid documents",
        docs.len()
    );
}
