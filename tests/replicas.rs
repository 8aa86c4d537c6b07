//! Replicas on one real etcd: three `strata controller` processes against the
//! same simulated devices. Exactly one leads; followers serve reads from
//! their mirror and refuse changes with UNAVAILABLE naming the leader (which
//! the CLI follows); killing the leader (SIGKILL) again and again while
//! services are being created loses no acknowledged service and allocates
//! nothing twice, and the time from the kill to the first accepted write on
//! the new leader is measured and printed (p50/p99).

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use strata::proto::strata::v1 as api;
use strata::store::etcd_server::EtcdServer;

const PREFIX: &str = "/replicas/";

/// A topology file for the simulators' ephemeral ports (the small fabric
/// with each node's `address`).
fn topology_file(dir: &std::path::Path, fabric: &strata::simulators::fabric::SimFabric) -> String {
    let mut out = String::new();
    for line in SMALL.lines() {
        out.push_str(line);
        out.push('\n');
        if let Some(name) = line.trim().strip_prefix("- name: ") {
            if let Some(addr) = fabric.address(name) {
                out.push_str(&format!("    address: {addr}\n"));
            }
        }
    }
    let path = dir.join("fabric.yaml");
    std::fs::write(&path, out).unwrap();
    path.display().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `strata controller` replica process and the lines it printed.
struct Replica {
    id: String,
    api: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    fn spawn(id: &str, api: &str, topology: &str, etcd: &EtcdServer) -> Replica {
        Self::spawn_with(id, api, topology, etcd, &[])
    }

    fn spawn_with(
        id: &str,
        api: &str,
        topology: &str,
        etcd: &EtcdServer,
        extra: &[&str],
    ) -> Replica {
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args([
                "controller",
                "--topology",
                topology,
                "--store",
                &etcd.url(),
                "--etcd-prefix",
                PREFIX,
                "--replica-id",
                id,
                "--lease-ttl",
                "1",
                "--listen",
                api,
                "--insecure",
                "--gnmi-insecure",
                "--sample-interval-ms",
                "200",
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Beside the topology file, in the test's own temp directory
            // (a respawned replica appends to its predecessor's log).
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(std::path::Path::new(topology).with_file_name(format!("{id}.log")))
                    .unwrap(),
            )
            .spawn()
            .expect("strata runs");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                sink.lock().unwrap().push(line);
            }
        });
        Replica {
            id: id.to_string(),
            api: api.to_string(),
            child,
            lines,
        }
    }

    fn printed(&self, what: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(what))
            .count()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn services(
    api: &str,
) -> Result<api::services_client::ServicesClient<tonic::transport::Channel>, String> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{api}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(api::services_client::ServicesClient::new(channel))
}

async fn create(api: &str, req: &api::CreateServiceRequest) -> Result<api::Service, tonic::Status> {
    let mut client = services(api).await.map_err(tonic::Status::unavailable)?;
    client
        .create_service(req.clone())
        .await
        .map(|r| r.into_inner())
}

async fn list(api: &str) -> Result<Vec<api::Service>, String> {
    let mut client = services(api).await?;
    client
        .list_services(api::ListServicesRequest::default())
        .await
        .map(|r| r.into_inner().services)
        .map_err(|s| s.to_string())
}

/// Whether `api`'s List satisfies `ok` within `within`.
async fn listed(api: &str, within: Duration, ok: impl Fn(&[api::Service]) -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if list(api).await.is_ok_and(|l| ok(&l)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn eline(i: usize) -> api::CreateServiceRequest {
    api::CreateServiceRequest {
        request_id: format!("replicas-{i}"),
        spec: Some(api::ServiceSpec {
            name: format!("svc-{i}"),
            r#type: api::ServiceType::ELine as i32,
            attachments: ["pe1", "pe3"]
                .iter()
                .map(|d| api::Attachment {
                    device: d.to_string(),
                    interface: format!("ce-0/1/{}", i % 4),
                    vlan: 100 + i as u32,
                })
                .collect(),
            color: 1000 + i as u32,
            ..Default::default()
        }),
    }
}

/// Sends `req` to every replica in turn until one accepts it; returns which
/// and the service. The same request id every time, so a create whose
/// answer was lost with its leader is answered, not made twice.
async fn create_somewhere(
    replicas: &[Replica],
    req: &api::CreateServiceRequest,
    within: Duration,
) -> (usize, api::Service) {
    let deadline = Instant::now() + within;
    let mut last = String::new();
    loop {
        for (i, r) in replicas.iter().enumerate() {
            match create(&r.api, req).await {
                Ok(svc) => return (i, svc),
                Err(s) => last = format!("{}: {:?} {}", r.id, s.code(), s.message()),
            }
        }
        assert!(
            Instant::now() < deadline,
            "no replica accepted {} within {within:?}; last: {last}",
            req.request_id
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// What every replica printed, for a failure's message.
fn story(replicas: &[Replica]) -> String {
    replicas
        .iter()
        .map(|r| format!("{}: {:?}", r.id, r.lines.lock().unwrap()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_followers_redirect_and_failover_loses_nothing() {
    let Some(etcd) = strata::store::etcd_server::for_test("replicas").await else {
        return;
    };
    let topo = small_topology();
    let fabric = start_sims(&topo).await;
    let dir = tempfile::tempdir().unwrap();
    let topology = topology_file(dir.path(), &fabric);
    let apis: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::spawn(&format!("r{i}"), &apis[i], &topology, &etcd))
        .collect();

    // Exactly one leads; the first service goes through it.
    let (leader, first) = create_somewhere(&replicas, &eline(0), Duration::from_secs(30)).await;
    let leaders: Vec<&str> = replicas
        .iter()
        .filter(|r| r.printed("leads") > 0)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        leaders,
        vec![replicas[leader].id.as_str()],
        "exactly one leader"
    );

    // A follower serves reads from its mirror, and refuses a change naming
    // the leader, in the message and in the strata-leader metadata.
    let follower = (leader + 1) % 3;
    assert!(
        listed(&replicas[follower].api, Duration::from_secs(10), |l| l
            .iter()
            .any(|s| s.id == first.id))
        .await,
        "the follower's List shows the leader's service"
    );
    let mut client = services(&replicas[follower].api).await.unwrap();
    let got = client
        .get_service(api::GetServiceRequest {
            id: first.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, first.id);
    assert_eq!((got.evi, got.vni), (first.evi, first.vni));
    let refused = create(&replicas[follower].api, &eline(1))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert_eq!(
        strata::replica::leader_of(&refused).as_deref(),
        Some(replicas[leader].api.as_str())
    );
    assert!(
        refused
            .message()
            .contains(&format!("replica {}", replicas[leader].id)),
        "{}",
        refused.message()
    );

    // The CLI sent to a follower follows it to the leader.
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "drain",
            "--api",
            &replicas[follower].api,
            "--insecure",
            "pe2-pe3",
            "--reason",
            "replica test",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "strata drain via a follower: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "undrain",
            "--api",
            &replicas[follower].api,
            "--insecure",
            "pe2-pe3",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "strata undrain via a follower: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // So does the shipped orchestrator example (when its Python is set up,
    // as tests/readme.rs finds it).
    let venv = std::env::var_os("STRATA_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv"));
    let python = venv.join("bin/python");
    let mut from_orchestrator = None;
    if python.exists() {
        let out = Command::new(&python)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "examples/orchestrator.py",
                "--api",
                &replicas[follower].api,
                "--insecure",
                "eline",
                "via-a-follower",
                "pe1:ce-0/1/0:3000",
                "pe3:ce-0/1/0:3000",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "orchestrator.py via a follower: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        from_orchestrator = Some(shown["id"].as_str().unwrap().to_string());
    } else {
        eprintln!(
            "replicas: orchestrator.py not run ({} missing)",
            python.display()
        );
    }

    // Failover, again and again: kill the leader while a create is being
    // sent, time the kill to the first accepted write on the new leader.
    let cycles: usize = std::env::var("STRATA_REPLICA_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let pe1 = fabric.device("pe1").unwrap().clone();
    let mut acknowledged = vec![first];
    let mut leader = leader;
    let mut term = pe1.arbiter.highest();
    let mut failovers = Vec::new();
    let mut next = 1;
    // A follower's Watch announces what the leader commits.
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", replicas[follower].api))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut watch = Some(
        api::events_client::EventsClient::new(channel)
            .watch(api::WatchRequest { from_revision: 0 })
            .await
            .unwrap()
            .into_inner(),
    );
    let mut lags = Vec::new();
    for _ in 0..cycles {
        // Connected beforehand, so the lag measured is the mirror's.
        let mut reader = services(&replicas[(leader + 1) % 3].api).await.unwrap();
        let (at, svc) = create_somewhere(&replicas, &eline(next), Duration::from_secs(20)).await;
        let acked = Instant::now();
        assert_eq!(
            at,
            leader,
            "the leader took the write: {}",
            story(&replicas)
        );
        // How far behind the leader a follower's reads are.
        loop {
            let got = reader
                .get_service(api::GetServiceRequest { id: svc.id.clone() })
                .await;
            if got.is_ok() {
                lags.push(acked.elapsed());
                break;
            }
            assert!(
                acked.elapsed() < Duration::from_secs(10),
                "the follower never showed {}",
                svc.id
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if let Some(mut events) = watch.take() {
            let seen = tokio::time::timeout(Duration::from_secs(10), async {
                while let Ok(Some(ev)) = events.message().await {
                    if let Some(api::event::Object::Service(s)) = &ev.object {
                        if s.id == svc.id && ev.change == api::Change::Created as i32 {
                            return true;
                        }
                    }
                }
                false
            })
            .await;
            assert_eq!(seen, Ok(true), "the follower's Watch announced {}", svc.id);
        }
        acknowledged.push(svc);
        next += 1;
        // A create in flight as the leader dies: its outcome is unknown to
        // the client, which retries it by request id.
        let inflight = eline(next);
        let api = replicas[leader].api.clone();
        let racing = tokio::spawn({
            let req = inflight.clone();
            async move { create(&api, &req).await }
        });
        tokio::time::sleep(Duration::from_millis(2)).await;
        let killed = Instant::now();
        replicas[leader].kill();
        let _ = racing.await;
        let (at, svc) = create_somewhere(&replicas, &inflight, Duration::from_secs(20)).await;
        let took = killed.elapsed();
        failovers.push(took);
        assert_ne!(at, leader, "a live replica took over");
        acknowledged.push(svc);
        next += 1;
        // Its Sets carry a higher term than any before (the fence).
        assert!(
            pe1.arbiter.highest() > term,
            "the new leader's term {} is above the old {term}",
            pe1.arbiter.highest()
        );
        term = pe1.arbiter.highest();
        // The killed replica comes back, as a follower.
        let (id, api) = (replicas[leader].id.clone(), replicas[leader].api.clone());
        replicas[leader] = Replica::spawn(&id, &api, &topology, &etcd);
        let back = &replicas[leader];
        assert!(
            eventually(Duration::from_secs(20), || back.printed("follows") > 0).await,
            "{id} rejoined as a follower"
        );
        leader = at;
    }

    // Every acknowledged service survives, once, with ids nobody else has.
    let held = list(&replicas[leader].api).await.unwrap();
    for svc in &acknowledged {
        let found: Vec<_> = held.iter().filter(|s| s.id == svc.id).collect();
        assert_eq!(found.len(), 1, "{} survives once", svc.id);
        assert_eq!((found[0].evi, found[0].vni), (svc.evi, svc.vni));
    }
    let mut evis: Vec<u32> = held.iter().map(|s| s.evi).collect();
    let mut vnis: Vec<u32> = held.iter().map(|s| s.vni).collect();
    evis.sort_unstable();
    vnis.sort_unstable();
    let n = evis.len();
    evis.dedup();
    vnis.dedup();
    assert_eq!(
        (evis.len(), vnis.len()),
        (n, n),
        "no EVI or VNI allocated twice"
    );
    let extra = match &from_orchestrator {
        Some(id) => {
            assert!(held.iter().any(|s| &s.id == id), "{id} survives");
            1
        }
        None => 0,
    };
    assert_eq!(
        n,
        acknowledged.len() + extra,
        "nothing but what was acknowledged"
    );
    // Followers agree.
    for r in replicas.iter() {
        assert!(
            listed(&r.api, Duration::from_secs(10), |l| l.len() == n).await,
            "{} mirrors all {n} services",
            r.id
        );
    }

    // A leader stopped gracefully (SIGTERM) gives its lease back: another
    // replica leads without waiting out the TTL.
    signal(&replicas[leader], "-TERM");
    let stopped = Instant::now();
    let _ = replicas[leader].child.wait();
    let alive: Vec<Replica> = replicas
        .drain(..)
        .enumerate()
        .filter(|(i, _)| *i != leader)
        .map(|(_, r)| r)
        .collect();
    create_somewhere(&alive, &eline(next), Duration::from_secs(20)).await;
    let handover = stopped.elapsed();
    println!("graceful handover (SIGTERM → first accepted write): {handover:?}");

    lags.sort();
    println!(
        "follower read lag, leader's OK → the follower's Get finds it ({} creates): p50 {:.1} ms, p99 {:.1} ms",
        lags.len(),
        percentile(&lags, 50.0).as_secs_f64() * 1e3,
        percentile(&lags, 99.0).as_secs_f64() * 1e3
    );
    failovers.sort();
    let (p50, p99) = (percentile(&failovers, 50.0), percentile(&failovers, 99.0));
    println!(
        "replica failover, SIGKILL of the leader → first accepted write on the new leader \
         (lease TTL 1 s, {} cycles): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        failovers.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        failovers.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    assert!(
        p50 < Duration::from_secs(5),
        "failover p50 {p50:?} is far beyond the 2 s target"
    );
    fabric.shutdown().await;
}

/// The `strata_replica_leading` line of a replica's /metrics.
fn leading_metric(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: strata\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.lines()
        .find(|l| l.starts_with("strata_replica_leading "))
        .map(str::to_string)
}

fn signal(r: &Replica, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &r.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {}", r.id);
}

/// The term a replica printed when it last took the lead.
fn term_of(r: &Replica) -> u128 {
    let lines = r.lines.lock().unwrap();
    let line = lines
        .iter()
        .rev()
        .find(|l| l.contains(" leads "))
        .expect("it led");
    line.rsplit("term ")
        .next()
        .and_then(|t| t.trim_end_matches(')').parse().ok())
        .expect("a term")
}

/// A leader frozen (SIGSTOP) past its lease is replaced; thawed, it steps
/// down on its own before accepting anything, refuses changes naming the
/// new leader, and the devices hold the new leader's higher term, so a Set
/// it still had in flight is refused there (`tests/fencing.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_leader_is_replaced_and_steps_down_when_it_thaws() {
    let Some(etcd) = strata::store::etcd_server::for_test("replicas frozen").await else {
        return;
    };
    let topo = small_topology();
    let fabric = start_sims(&topo).await;
    let dir = tempfile::tempdir().unwrap();
    let topology = topology_file(dir.path(), &fabric);
    let metrics: Vec<String> = (0..2)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let replicas: Vec<Replica> = (0..2)
        .map(|i| {
            let api = format!("127.0.0.1:{}", free_port());
            Replica::spawn_with(
                &format!("f{i}"),
                &api,
                &topology,
                &etcd,
                &["--metrics", &metrics[i]],
            )
        })
        .collect();
    let (old, first) = create_somewhere(&replicas, &eline(0), Duration::from_secs(30)).await;
    let new = 1 - old;
    // A client that keeps its connection to the follower across its
    // promotion gets the leader's answers on it.
    let mut kept = services(&replicas[new].api).await.unwrap();
    kept.list_services(api::ListServicesRequest::default())
        .await
        .unwrap();
    signal(&replicas[old], "-STOP");
    let frozen = Instant::now();
    // While nobody leads, pe3 loses its configuration: the new leader's
    // reconciliation puts the first service back on it.
    fabric.crash("pe3").await.unwrap();
    fabric.restart("pe3", true).await.unwrap();
    let instance = format!(
        "/network-instances/network-instance[name=strata-evpn-{}]/config/name",
        first.evi
    );
    // (Nobody can have put it back yet: the lease has a second to run.)
    assert!(device_leaf(&fabric, "pe3", &instance).is_none());
    let (at, _) = create_somewhere(&replicas[new..=new], &eline(1), Duration::from_secs(20)).await;
    assert_eq!(at, 0);
    let took = frozen.elapsed();
    assert!(
        eventually(Duration::from_secs(10), || device_leaf(
            &fabric, "pe3", &instance
        )
        .is_some())
        .await,
        "the new leader did not restore {} on pe3",
        first.id
    );
    let (old_term, new_term) = (term_of(&replicas[old]), term_of(&replicas[new]));
    assert!(new_term > old_term, "{new_term} > {old_term}");
    let pe1 = fabric.device("pe1").unwrap().clone();
    assert_eq!(pe1.arbiter.highest(), new_term);

    signal(&replicas[old], "-CONT");
    assert!(
        eventually(Duration::from_secs(5), || replicas[old]
            .printed("lost its lease: stepped down")
            > 0)
        .await,
        "{}",
        story(&replicas)
    );
    assert!(
        eventually(Duration::from_secs(10), || replicas[old].printed("follows")
            > 1)
        .await,
        "{}",
        story(&replicas)
    );
    // Refused from the start; naming the new leader once its first
    // campaign step has read the key.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let refused = create(&replicas[old].api, &eline(2)).await.unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
        match strata::replica::leader_of(&refused) {
            Some(leader) => {
                assert_eq!(leader, replicas[new].api);
                break;
            }
            None => assert!(Instant::now() < deadline, "{refused:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Each says on /metrics whether it leads.
    for (i, want) in [(old, 0), (new, 1)] {
        let want = format!("strata_replica_leading {want}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while leading_metric(&metrics[i]).is_none_or(|l| l != want) {
            assert!(
                Instant::now() < deadline,
                "{} never said {want}",
                replicas[i].id
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Nothing the thawed replica did moved the fence back.
    assert_eq!(pe1.arbiter.highest(), new_term);
    let deadline = Instant::now() + Duration::from_secs(5);
    let third = loop {
        match kept.create_service(eline(3)).await {
            Ok(r) => break r.into_inner(),
            Err(s) => assert!(
                Instant::now() < deadline,
                "the kept connection never reached the leader: {s:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let held = list(&replicas[new].api).await.unwrap();
    assert_eq!(held.len(), 3);
    assert!(held.iter().any(|s| s.id == third.id));
    println!("frozen leader replaced after {took:?}");
    fabric.shutdown().await;
}

async fn topology_of(
    api: &str,
) -> Result<api::topology_client::TopologyClient<tonic::transport::Channel>, String> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{api}"))
        .map_err(|e| e.to_string())?
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(api::topology_client::TopologyClient::new(channel))
}

/// pe1-pe3's TE metric as `api` reads it.
async fn te_metric(api: &str) -> Result<u32, String> {
    topology_of(api)
        .await?
        .get_link(api::GetLinkRequest {
            name: "pe1-pe3".into(),
        })
        .await
        .map(|l| l.into_inner().te_metric)
        .map_err(|s| s.to_string())
}

/// Whether `api` reads pe1-pe3's TE metric as `want` within `within`.
async fn te_metric_becomes(api: &str, want: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if te_metric(api).await == Ok(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Runtime topology (#15) on replicas: only the leader changes it — a
/// follower refuses TopologyChanges with UNAVAILABLE naming the leader, and
/// on SIGHUP says it does not lead and changes nothing — and what the
/// leader changes, through the API or its own SIGHUP, reaches the
/// follower's mirror.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_topology_changes_only_on_the_leader_and_reach_followers() {
    let Some(etcd) = strata::store::etcd_server::for_test("replicas topology").await else {
        return;
    };
    let topo = small_topology();
    let fabric = start_sims(&topo).await;
    let dir = tempfile::tempdir().unwrap();
    let topology = topology_file(dir.path(), &fabric);
    let replicas: Vec<Replica> = (0..2)
        .map(|i| {
            let api = format!("127.0.0.1:{}", free_port());
            Replica::spawn(&format!("t{i}"), &api, &topology, &etcd)
        })
        .collect();
    let (leader, _) = create_somewhere(&replicas, &eline(0), Duration::from_secs(30)).await;
    let follower = 1 - leader;
    assert!(
        eventually(Duration::from_secs(10), || replicas[follower]
            .printed("follows")
            > 0)
        .await,
        "{}",
        story(&replicas)
    );
    let before = te_metric(&replicas[follower].api).await.unwrap();
    assert_ne!(before, 7);
    let mut link = topology_of(&replicas[follower].api)
        .await
        .unwrap()
        .get_link(api::GetLinkRequest {
            name: "pe1-pe3".into(),
        })
        .await
        .unwrap()
        .into_inner();
    link.te_metric = 7;
    let changes = |api: String| async move {
        api::topology_changes_client::TopologyChangesClient::connect(format!("http://{api}"))
            .await
            .unwrap()
    };

    // A follower refuses, dry run or not, naming the leader.
    for dry_run in [true, false] {
        let refused = changes(replicas[follower].api.clone())
            .await
            .update_link(api::UpdateLinkRequest {
                link: Some(link.clone()),
                dry_run,
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
        assert_eq!(
            strata::replica::leader_of(&refused).as_deref(),
            Some(replicas[leader].api.as_str())
        );
    }
    assert_eq!(te_metric(&replicas[follower].api).await, Ok(before));

    // The leader's change reaches the follower's reads.
    let applied = changes(replicas[leader].api.clone())
        .await
        .update_link(api::UpdateLinkRequest {
            link: Some(link),
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(applied.applied);
    assert!(
        te_metric_becomes(&replicas[follower].api, 7, Duration::from_secs(10)).await,
        "the follower never saw the leader's change: {:?}",
        te_metric(&replicas[follower].api).await
    );

    // The file changed: a follower's SIGHUP changes nothing and says why;
    // the leader's applies it, and the follower sees that too.
    let text = std::fs::read_to_string(&topology).unwrap();
    std::fs::write(
        &topology,
        text.replace(
            "    length_km: 90\n",
            "    length_km: 90\n    te_metric: 9\n",
        ),
    )
    .unwrap();
    signal(&replicas[follower], "-HUP");
    assert!(
        eventually(Duration::from_secs(5), || replicas[follower]
            .printed("SIGHUP: topology not reloaded, nothing changed")
            > 0)
        .await,
        "{}",
        story(&replicas)
    );
    assert!(
        replicas[follower].printed("is a follower") > 0,
        "{}",
        story(&replicas)
    );
    assert_eq!(te_metric(&replicas[leader].api).await, Ok(7));
    signal(&replicas[leader], "-HUP");
    assert!(
        eventually(Duration::from_secs(5), || replicas[leader]
            .printed("SIGHUP: topology reloaded: ~ link pe1-pe3")
            > 0)
        .await,
        "{}",
        story(&replicas)
    );
    assert!(
        te_metric_becomes(&replicas[follower].api, 9, Duration::from_secs(10)).await,
        "the follower never saw the leader's reload: {:?}",
        te_metric(&replicas[follower].api).await
    );

    // `strata reload-topology` sent to the follower follows it to the
    // leader, which reads its own file again.
    let text = std::fs::read_to_string(&topology).unwrap();
    std::fs::write(&topology, text.replace("te_metric: 9\n", "te_metric: 11\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "reload-topology",
            "--api",
            &replicas[follower].api,
            "--insecure",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && printed.contains("~ link pe1-pe3"),
        "strata reload-topology via a follower: {printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        te_metric_becomes(&replicas[follower].api, 11, Duration::from_secs(10)).await,
        "{:?}",
        te_metric(&replicas[follower].api).await
    );
    fabric.shutdown().await;
}
