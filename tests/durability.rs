//! Durability and reconciliation in a lab on loopback: a device that restarts
//! empty gets its Strata configuration back once it reconnects; a journal
//! with a torn tail is reported at start-up with its valid prefix restored;
//! a damaged journal stops start-up unless the operator asks to recover, and
//! then reconciliation leaves the configuration of lost intents alone.

mod common;

use std::time::{Duration, Instant};
use strata::northbound::ControllerApi;

use common::*;
use strata::lab::{Lab, LabOptions};
use strata::proto::strata::v1 as api;
use strata::simulators::fabric::SimOptions;
use strata::telemetry::health::HealthConfig;

fn options(data: &std::path::Path) -> LabOptions {
    LabOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        sim: SimOptions {
            measure_interval: Duration::from_millis(200),
            ephemeral_ports: true,
        },
        sessions: strata::southbound::SessionConfig {
            sample_interval: Duration::from_millis(500),
            ..fast_sessions()
        },
        health: HealthConfig::default().into(),
        pools: Default::default(),
        duration: None,
        metrics: None,
        data_dir: Some(data.to_path_buf()),
        // Long enough that only the reconnect can be what restores a device.
        reconcile_interval: Duration::from_secs(3600),
        recover_journal: false,
        web: None,
        security: strata::lab::LabSecurity::Insecure,
    }
}

async fn provision(lab: &Lab) -> (api::Service, api::Wavelength) {
    let c = &lab.controller;
    let svc = c
        .create_service(api::CreateServiceRequest {
            request_id: "eline-1".into(),
            spec: Some(api::ServiceSpec {
                name: "eline".into(),
                r#type: api::ServiceType::ELine as i32,
                attachments: ["pe1", "pe3"]
                    .iter()
                    .map(|d| api::Attachment {
                        device: d.to_string(),
                        interface: "ce-0/1/0".into(),
                        vlan: 70,
                    })
                    .collect(),
                bandwidth_gbps: 10.0,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let wl = c
        .create_wavelength(api::CreateWavelengthRequest {
            request_id: "wl-1".into(),
            spec: Some(api::WavelengthSpec {
                name: "wl".into(),
                a: "ot1".into(),
                b: "ot2".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    (svc, wl)
}

async fn all_up(lab: &Lab, n: usize) {
    assert!(
        eventually(Duration::from_secs(20), || lab.state.counts().up == n).await,
        "sessions up: {:?}",
        lab.state.counts()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_restarted_empty_gets_its_config_back_on_reconnect() {
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(&topo, &options(dir.path())).await.unwrap();
    all_up(&lab, topo.nodes.len()).await;
    provision(&lab).await;
    for device in ["pe1", "ot1"] {
        let before = device_config(&lab.fabric, device);
        let connects = lab.state.device(device).unwrap().connects;
        let sets = lab.fabric.device(device).unwrap().accepted_set_count();
        lab.fabric.crash(device).await.unwrap();
        // Comes back empty; the controller may reconnect and restore it at
        // once, so "empty" is not sampled here (it would race the restore):
        // the Sets counted below show the restore came after the restart.
        lab.fabric.restart(device, true).await.unwrap();
        // Reconnected …
        assert!(
            eventually(Duration::from_secs(10), || {
                lab.state
                    .device(device)
                    .is_some_and(|d| d.connects > connects)
            })
            .await
        );
        let reconnected = Instant::now();
        // … and restored by reconciliation (the periodic pass is an hour away).
        assert!(
            eventually(Duration::from_secs(10), || device_config(
                &lab.fabric,
                device
            ) == before)
            .await,
            "{device} was not restored"
        );
        assert!(
            lab.fabric.device(device).unwrap().accepted_set_count() > sets,
            "{device} was restored by Sets sent after it restarted"
        );
        eprintln!(
            "{device}: config back {:?} after the session came up",
            reconnected.elapsed()
        );
    }
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_tail_is_reported_and_the_prefix_restored() {
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let (svc, wl) = {
        let lab = Lab::start(&topo, &options(dir.path())).await.unwrap();
        all_up(&lab, topo.nodes.len()).await;
        let made = provision(&lab).await;
        lab.shutdown().await;
        made
    };
    // A write torn by a crash: garbage after the last whole frame.
    let journal = dir.path().join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let valid = bytes.len() as u64;
    bytes.extend_from_slice(&[0x40, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    std::fs::write(&journal, &bytes).unwrap();

    let lab = Lab::start(&topo, &options(dir.path())).await.unwrap();
    let restored = lab.restored().expect("journaled lab").clone();
    assert!(restored
        .recovery
        .problem
        .as_ref()
        .unwrap()
        .contains("torn frame"));
    assert_eq!(restored.recovery.valid_bytes, valid);
    assert_eq!(restored.recovery.discarded_bytes, 11);
    assert!(restored.recovery.saved_tail.as_ref().unwrap().exists());
    assert_eq!(
        std::fs::metadata(&journal).unwrap().len(),
        valid,
        "tail cut off"
    );
    assert_eq!(lab.controller.get_service(&svc.id).unwrap(), svc);
    assert_eq!(lab.controller.get_wavelength(&wl.id).unwrap(), wl);
    // Retried creates still answer with the same objects.
    let (svc2, wl2) = provision(&lab).await;
    assert_eq!((svc2, wl2), (svc, wl));
    lab.shutdown().await;
}

fn eline(i: usize) -> api::CreateServiceRequest {
    api::CreateServiceRequest {
        request_id: format!("req-{i}"),
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

/// Ten acknowledged services in a journal in `dir` (the lab is stopped).
async fn ten_services(dir: &std::path::Path) -> Vec<api::Service> {
    let topo = small_topology();
    let lab = Lab::start(&topo, &options(dir)).await.unwrap();
    all_up(&lab, topo.nodes.len()).await;
    let mut made = Vec::new();
    for i in 1..=10 {
        made.push(lab.controller.create_service(eline(i)).await.unwrap());
    }
    lab.shutdown().await;
    made
}

fn salvage_copies(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("journal.damaged-")
        })
        .collect()
}

/// Issue #12: one flipped byte in the journal header used to drop every
/// intent at start-up and let reconciliation delete them from the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_stops_start_up_and_recovery_keeps_all_ten_services() {
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let made = ten_services(dir.path()).await;
    let journal = dir.path().join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[2] ^= 0x10;
    std::fs::write(&journal, &bytes).unwrap();

    let err = match Lab::start(&topo, &options(dir.path())).await {
        Err(e) => format!("{e:#}"),
        Ok(_) => panic!("a lab started from a damaged journal"),
    };
    let salvage = salvage_copies(dir.path());
    assert_eq!(salvage.len(), 1);
    assert!(err.contains("bytes 0..8"), "{err}");
    assert!(err.contains(&salvage[0].display().to_string()), "{err}");
    assert!(err.contains("--recover-journal"), "{err}");
    assert_eq!(std::fs::read(&salvage[0]).unwrap(), bytes);
    assert_eq!(std::fs::read(&journal).unwrap(), bytes, "left as it was");

    let lab = Lab::start(
        &topo,
        &LabOptions {
            recover_journal: true,
            ..options(dir.path())
        },
    )
    .await
    .unwrap();
    let restored = lab.restored().unwrap().clone();
    assert_eq!(restored.recovery.damage[0].start, 0);
    assert!(restored.recovery.deletions_held.is_some());
    assert!(lab.controller.reconcile_deletions_held());
    for svc in &made {
        assert_eq!(&lab.controller.get_service(&svc.id).unwrap(), svc);
    }
    lab.shutdown().await;
}

fn daemon_options(data: &std::path::Path, recover: bool) -> strata::daemon::DaemonOptions {
    let lab = options(data);
    strata::daemon::DaemonOptions {
        listen: lab.listen,
        sessions: lab.sessions,
        health: lab.health,
        pools: lab.pools,
        metrics: None,
        data_dir: lab.data_dir,
        etcd: None,
        replica: None,
        reconcile_interval: Duration::from_millis(500),
        recover_journal: recover,
        web: None,
        security: strata::security::Security::insecure(),
    }
}

/// A service whose journal frames are damaged is lost to the controller,
/// but its configuration stays on the devices (it may still be carrying
/// traffic) until the operator removes the hold file. The devices outlive
/// the controller's restart, as in a real network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_recovery_reconcile_keeps_the_config_of_lost_intents_until_acknowledged() {
    use strata::daemon::Daemon;
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let fabric = start_sims_every(&topo, Duration::from_millis(200)).await;
    let address = |fabric: &std::sync::Arc<strata::simulators::fabric::SimFabric>| {
        let f = fabric.clone();
        move |name: &str| f.address(name)
    };
    let up = |d: &Daemon| d.state.counts().up == topo.nodes.len();
    let daemon = Daemon::start(
        &topo,
        &daemon_options(dir.path(), false),
        address(&fabric),
        None,
    )
    .await
    .unwrap();
    assert!(eventually(Duration::from_secs(20), || up(&daemon)).await);
    let mut made = Vec::new();
    for i in 1..=10 {
        made.push(daemon.controller.create_service(eline(i)).await.unwrap());
    }
    daemon.shutdown().await;
    let lost = made[4].clone();
    let instance = format!("evpn-{}", lost.evi);
    let on_device = || {
        device_config(&fabric, "pe1")
            .to_string()
            .contains(&instance)
    };
    assert!(on_device());

    // Zero the payload of every frame that mentions the lost service (its
    // record and its transport policies), leaving the frame headers.
    let journal = dir.path().join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let sync = [0xA7u8, 0x5E, 0x1F, 0xD3];
    let starts: Vec<usize> = (8..bytes.len() - 4)
        .filter(|&i| bytes[i..i + 4] == sync)
        .chain([bytes.len()])
        .collect();
    let mut hit = 0;
    for w in starts.windows(2) {
        let payload = w[0] + 16..w[1];
        if bytes[payload.clone()]
            .windows(lost.id.len())
            .any(|x| x == lost.id.as_bytes())
        {
            bytes[payload].fill(0);
            hit += 1;
        }
    }
    assert!(hit > 0);
    std::fs::write(&journal, &bytes).unwrap();
    assert!(Daemon::start(
        &topo,
        &daemon_options(dir.path(), false),
        address(&fabric),
        None
    )
    .await
    .is_err());

    let daemon = Daemon::start(
        &topo,
        &daemon_options(dir.path(), true),
        address(&fabric),
        None,
    )
    .await
    .unwrap();
    assert!(daemon.controller.get_service(&lost.id).is_err());
    for svc in made.iter().filter(|s| s.id != lost.id) {
        assert_eq!(&daemon.controller.get_service(&svc.id).unwrap(), svc);
    }
    assert!(eventually(Duration::from_secs(20), || up(&daemon)).await);
    // Reconcile on connect and several periodic passes have run.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(on_device(), "reconcile removed {instance} despite the hold");
    // The operator acknowledges: now it goes, as configuration no intent
    // wants.
    std::fs::remove_file(dir.path().join("journal.recovered")).unwrap();
    assert!(!daemon.controller.reconcile_deletions_held());
    assert!(
        eventually(Duration::from_secs(10), || !on_device()).await,
        "{instance} still on pe1 after the hold was lifted"
    );
    daemon.shutdown().await;
    fabric.shutdown().await;
}

/// A controller on etcd, stopped and started again against the same
/// devices: the acknowledged services come back from etcd, and the new
/// controller's device writes carry its new, higher term (the devices'
/// master-arbitration election id), so the old one is fenced off them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_on_etcd_restarts_with_its_services_and_a_higher_term() {
    use strata::daemon::Daemon;
    let Some(etcd) = strata::store::etcd_server::for_test("a_controller_on_etcd_restarts").await
    else {
        return;
    };
    let topo = small_topology();
    let fabric = start_sims_every(&topo, Duration::from_millis(200)).await;
    let options = strata::daemon::DaemonOptions {
        data_dir: None,
        etcd: Some(etcd.config_with_prefix("/durability/")),
        ..daemon_options(std::path::Path::new("/nonexistent"), false)
    };
    let start = || {
        let f = fabric.clone();
        Daemon::start(&topo, &options, move |name| f.address(name), None)
    };
    let up = |d: &Daemon| d.state.counts().up == topo.nodes.len();
    let first = start().await.unwrap();
    assert!(eventually(Duration::from_secs(20), || up(&first)).await);
    let mut made = Vec::new();
    for i in 1..=3 {
        made.push(first.controller.create_service(eline(i)).await.unwrap());
    }
    let pe1 = fabric.device("pe1").unwrap().clone();
    let first_term = pe1.arbiter.highest();
    assert!(
        first_term > 1,
        "Sets carried the etcd term, not the journal's 1"
    );
    first.shutdown().await;

    let second = start().await.unwrap();
    assert!(second
        .restored
        .as_ref()
        .unwrap()
        .from
        .starts_with("etcd://"));
    for svc in &made {
        assert_eq!(&second.controller.get_service(&svc.id).unwrap(), svc);
    }
    assert!(eventually(Duration::from_secs(20), || up(&second)).await);
    let fourth = second.controller.create_service(eline(4)).await.unwrap();
    assert!(!made
        .iter()
        .any(|s| s.evi == fourth.evi || s.vni == fourth.vni));
    assert!(pe1.arbiter.highest() > first_term);
    second.shutdown().await;
}
