//! Kill -9 the controller while it provisions services, over and over; every
//! service that got an OK must survive with its identifiers, none may be
//! handed out twice, and the devices must end up holding exactly what the
//! controller knows (reconciliation removes what a killed request left).
//!
//! The controller runs as a real `strata controller` process against
//! simulators in this test process, with its journal in a temp directory.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use strata::northbound::ControllerApi;

use common::eventually;
use rand::Rng;
use strata::proto::strata::v1 as api;
use strata::proto::strata::v1::services_client::ServicesClient;
use strata::security::client::{Authed, ClientCredentials};
use strata::security::pki::{self, LabCredentials};
use strata::simulators::fabric::{SimFabric, SimOptions};
use tokio::sync::Mutex;

const KILL_CYCLES: usize = 20;
const CREATORS: usize = 4;

/// Five consecutive free loopback ports for the simulators.
fn free_port_base() -> u16 {
    let mut rng = rand::rng();
    loop {
        let base: u16 = rng.random_range(30_000..60_000);
        let free = (0..5).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if free {
            return base;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Controller {
    child: Child,
    endpoint: Api,
}

/// Where the controller's API is and how to get in: the controller runs as
/// an operator would run it, with TLS and a principals file.
#[derive(Clone)]
struct Api {
    addr: String,
    credentials: ClientCredentials,
}

impl Api {
    fn new(port: u16, credentials: &LabCredentials) -> Api {
        Api {
            addr: format!("127.0.0.1:{port}"),
            credentials: ClientCredentials::from_dir(&credentials.dir).unwrap(),
        }
    }

    async fn channel(&self) -> anyhow::Result<Authed> {
        self.credentials.connect(&self.addr).await
    }
}

fn tls_args(c: &LabCredentials) -> Vec<std::ffi::OsString> {
    vec![
        "--tls-cert".into(),
        c.tls.cert.clone().into(),
        "--tls-key".into(),
        c.tls.key.clone().into(),
        "--principals".into(),
        c.principals.clone().into(),
    ]
}

fn spawn_controller(
    topology: &std::path::Path,
    data: &std::path::Path,
    port: u16,
    credentials: &LabCredentials,
) -> Controller {
    let child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["controller", "--topology"])
        .arg(topology)
        .arg("--data-dir")
        .arg(data)
        .args(tls_args(credentials))
        // The simulators here are plaintext: this test is about the journal.
        .arg("--gnmi-insecure")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--reconcile-interval", "2"])
        .env(
            "RUST_LOG",
            std::env::var("CRASH_TEST_LOG").unwrap_or("warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start strata controller");
    Controller {
        child,
        endpoint: Api::new(port, credentials),
    }
}

async fn connect(endpoint: &Api) -> ServicesClient<Authed> {
    for _ in 0..400 {
        if let Ok(c) = endpoint.channel().await {
            return ServicesClient::new(c);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("controller at {} never came up", endpoint.addr);
}

fn spec(i: usize) -> api::ServiceSpec {
    api::ServiceSpec {
        name: format!("svc-{i}"),
        r#type: api::ServiceType::ELine as i32,
        attachments: ["pe1", "pe2"]
            .iter()
            .map(|d| api::Attachment {
                device: d.to_string(),
                interface: format!("ce-0/1/{}", i % 4),
                vlan: 100 + i as u32,
            })
            .collect(),
        // Its own transport color, so services do not contend for one policy.
        color: 1000 + i as u32,
        ..Default::default()
    }
}

#[derive(Default)]
struct Ledger {
    next: usize,
    /// Requests sent without an answer (retried with the same request id).
    pending: BTreeSet<usize>,
    /// Requests a creator is sending right now.
    in_flight: BTreeSet<usize>,
    /// Services that got an OK.
    acked: BTreeMap<usize, api::Service>,
}

/// Creates services until the connection dies; returns when it does.
async fn creator(endpoint: Api, ledger: Arc<Mutex<Ledger>>) {
    let Ok(channel) = endpoint.channel().await else {
        return;
    };
    let mut client = ServicesClient::new(channel);
    loop {
        let i = {
            let mut l = ledger.lock().await;
            let retry = l.pending.iter().copied().find(|i| !l.in_flight.contains(i));
            let i = match retry {
                Some(i) => i,
                None => {
                    l.next += 1;
                    let i = l.next;
                    l.pending.insert(i);
                    i
                }
            };
            l.in_flight.insert(i);
            i
        };
        let req = api::CreateServiceRequest {
            request_id: format!("req-{i}"),
            spec: Some(spec(i)),
        };
        match client.create_service(req).await {
            Ok(resp) => {
                let mut l = ledger.lock().await;
                l.pending.remove(&i);
                l.in_flight.remove(&i);
                l.acked.insert(i, resp.into_inner());
            }
            Err(s) if s.code() == tonic::Code::Unavailable || s.code() == tonic::Code::Unknown => {
                ledger.lock().await.in_flight.remove(&i);
                // Killed mid-request, or devices not up yet after a restart.
                if s.message().contains("not connected") {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                return;
            }
            Err(s) => panic!("svc-{i}: unexpected {s:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_acknowledged_before_a_kill_9_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_port_base();
    let yaml = common::SMALL.replace("127.0.0.1:20300", &format!("127.0.0.1:{base}"));
    let topology_file = dir.path().join("small.yaml");
    std::fs::write(&topology_file, &yaml).unwrap();
    let topology = strata::topology::parse_str(&yaml).unwrap();
    let fabric = SimFabric::new(
        &topology,
        SimOptions {
            measure_interval: Duration::from_millis(200),
            ephemeral_ports: false,
        },
    );
    fabric.start().await.expect("simulators start");
    let data = dir.path().join("data");
    let credentials = pki::generate(&dir.path().join("credentials")).unwrap();
    let port = free_port();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut rng = rand::rng();

    for cycle in 0..KILL_CYCLES {
        let mut controller = spawn_controller(&topology_file, &data, port, &credentials);
        connect(&controller.endpoint).await;
        let creators: Vec<_> = (0..CREATORS)
            .map(|_| tokio::spawn(creator(controller.endpoint.clone(), ledger.clone())))
            .collect();
        let lifetime = Duration::from_millis(rng.random_range(150..600));
        tokio::time::sleep(lifetime).await;
        controller.child.kill().expect("SIGKILL"); // SIGKILL on Unix
        let _ = controller.child.wait();
        for c in creators {
            let _ = c.await;
        }
        let mut l = ledger.lock().await;
        l.in_flight.clear();
        eprintln!(
            "cycle {cycle}: killed after {lifetime:?}; {} acked, {} unanswered",
            l.acked.len(),
            l.pending.len()
        );
    }

    // The last start: everything acknowledged is there, exactly as acknowledged.
    let mut controller = spawn_controller(&topology_file, &data, port, &credentials);
    let mut client = connect(&controller.endpoint).await;
    let services = client
        .list_services(api::ListServicesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .services;
    let by_name: BTreeMap<String, &api::Service> = services
        .iter()
        .map(|s| (s.spec.as_ref().unwrap().name.clone(), s))
        .collect();
    let l = ledger.lock().await;
    assert!(
        l.acked.len() >= KILL_CYCLES,
        "too little was provisioned to mean anything: {}",
        l.acked.len()
    );
    for (i, acked) in &l.acked {
        let found = by_name
            .get(&format!("svc-{i}"))
            .unwrap_or_else(|| panic!("svc-{i} got an OK and is gone"));
        assert_eq!(found.id, acked.id, "svc-{i}");
        assert_eq!((found.evi, found.vni), (acked.evi, acked.vni), "svc-{i}");
        assert_eq!(
            found.transport_policies, acked.transport_policies,
            "svc-{i}"
        );
    }
    // Unacknowledged ones may or may not exist; nothing is allocated twice.
    let evis: BTreeSet<u32> = services.iter().map(|s| s.evi).collect();
    let vnis: BTreeSet<u32> = services.iter().map(|s| s.vni).collect();
    assert_eq!(evis.len(), services.len(), "an EVI was handed out twice");
    assert_eq!(vnis.len(), services.len(), "a VNI was handed out twice");
    assert_eq!(by_name.len(), services.len(), "a name exists twice");
    let policies = strata::proto::strata::v1::policies_client::PoliciesClient::new(
        controller.endpoint.channel().await.unwrap(),
    )
    .list_policies(api::ListPoliciesRequest::default())
    .await
    .unwrap()
    .into_inner()
    .policies;
    let owned: BTreeSet<&str> = policies.iter().map(|p| p.owner.as_str()).collect();
    let ids: BTreeSet<&str> = services.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        owned, ids,
        "every transport policy belongs to a live service"
    );
    assert_eq!(policies.len(), 2 * services.len());

    // The devices hold exactly the EVPN instances of the services that exist:
    // what a killed request programmed but never journaled is reconciled away.
    let wanted: BTreeSet<String> = services
        .iter()
        .map(|s| strata::render::openconfig::evpn::instance_name(s.evi))
        .collect();
    let on_device = |device: &str| -> BTreeSet<String> {
        let cfg = common::device_config(&fabric, device);
        cfg.get("/network-instances")
            .and_then(|v| v.get("network-instance"))
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter(|ni| {
                ni.pointer("/config/description")
                    .and_then(|o| o.as_str())
                    .is_some_and(|d| d.starts_with("[strata] "))
            })
            .filter_map(|ni| ni.get("name").and_then(|n| n.as_str()).map(str::to_string))
            .collect()
    };
    let settled = eventually(Duration::from_secs(20), || {
        on_device("pe1") == wanted && on_device("pe2") == wanted
    })
    .await;
    assert!(
        settled,
        "devices disagree with the controller: pe1 has {} extra / {} missing",
        on_device("pe1").difference(&wanted).count(),
        wanted.difference(&on_device("pe1")).count()
    );

    // SIGTERM stops it cleanly (exit 0) after draining.
    let status = Command::new("kill")
        .args(["-TERM", &controller.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = controller.child.wait().unwrap();
    assert!(exit.success(), "graceful stop exits 0, got {exit:?}");
    fabric.shutdown().await;
}

/// Issue #12 end to end: the `strata` binary refuses to start from a damaged
/// journal, exiting non-zero with the damage's offset and the salvage copy;
/// with `--recover-journal` every one of the ten services is served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_a_damaged_journal_and_recovers_it_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let credentials = pki::generate(&dir.path().join("credentials")).unwrap();
    // Devices on loopback ports where nothing listens: the controller only
    // has to serve its intents here.
    let yaml = common::SMALL.replace(
        "127.0.0.1:20300",
        &format!("127.0.0.1:{}", free_port_base()),
    );
    let topology_file = dir.path().join("small.yaml");
    std::fs::write(&topology_file, &yaml).unwrap();
    let topology = strata::topology::parse_str(&yaml).unwrap();
    let made = {
        let mut options = common::closed_loop_lab_options();
        options.data_dir = Some(data.clone());
        let lab = strata::lab::Lab::start(&topology, &options).await.unwrap();
        let mut made = Vec::new();
        for i in 1..=10 {
            let req = api::CreateServiceRequest {
                request_id: format!("req-{i}"),
                spec: Some(spec(i)),
            };
            made.push(lab.controller.create_service(req).await.unwrap());
        }
        lab.shutdown().await;
        made
    };
    // One flipped byte in the journal header.
    let journal = data.join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[5] ^= 0x04;
    std::fs::write(&journal, &bytes).unwrap();

    for command in ["controller", "lab"] {
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg(command)
            .arg("--topology")
            .arg(&topology_file)
            .arg("--data-dir")
            .arg(&data)
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            // The journal is checked before the API would open.
            .arg("--insecure")
            .args(if command == "lab" {
                &["--duration", "5"][..]
            } else {
                &["--gnmi-insecure"][..]
            })
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .output()
            .expect("run strata");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "strata {command} started: {stderr}");
        assert!(stderr.contains("is damaged at bytes 0..8"), "{stderr}");
        assert!(stderr.contains("journal.damaged-"), "{stderr}");
        assert!(stderr.contains("--recover-journal"), "{stderr}");
    }
    assert_eq!(std::fs::read(&journal).unwrap(), bytes, "left as it was");

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["controller", "--recover-journal", "--topology"])
        .arg(&topology_file)
        .arg("--data-dir")
        .arg(&data)
        .args(tls_args(&credentials))
        .arg("--gnmi-insecure")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start strata controller");
    let mut client = connect(&Api::new(port, &credentials)).await;
    for svc in &made {
        let got = client
            .get_service(api::GetServiceRequest { id: svc.id.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&got, svc);
    }
    assert!(data.join("journal.recovered").exists());
    child.kill().unwrap();
    child.wait().unwrap();
}
